"""Full-text search behind a small facade; the only part of chartclerk that imports Whoosh.

Use :class:`SearchIndex` with :class:`IndexSettings`; feed it :class:`IndexDocument` objects
and read :class:`SearchResult` pages of :class:`SearchHit`. Snippets mark matched words as
``«word»`` (:data:`HIGHLIGHT_OPEN` / :data:`HIGHLIGHT_CLOSE`). Every engine failure is raised
as :class:`chartclerk_errors.SearchIndexError`.
"""

from index.models import (
    HIGHLIGHT_CLOSE,
    HIGHLIGHT_OPEN,
    IndexDocument,
    IndexSettings,
    SearchFilters,
    SearchHit,
    SearchResult,
)
from index.schema import SCHEMA_VERSION
from index.searchindex import SearchIndex

__all__ = [
    "HIGHLIGHT_CLOSE",
    "HIGHLIGHT_OPEN",
    "SCHEMA_VERSION",
    "IndexDocument",
    "IndexSettings",
    "SearchFilters",
    "SearchHit",
    "SearchIndex",
    "SearchResult",
]
