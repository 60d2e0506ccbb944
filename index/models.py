"""The plain data the index facade takes and returns: no search-engine types leak out of here.

Another engine could replace Whoosh by rewriting the other modules of ``index/``; callers only
ever see these classes and :class:`chartclerk_errors.SearchIndexError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

#: The snippet marks each matched word as ``«word»``: plain text, so the CLI, JSON and a web
#: page (after escaping) can all show it, and it cannot be confused with OCR'd ``*`` or ``<``.
HIGHLIGHT_OPEN = "«"
HIGHLIGHT_CLOSE = "»"


class IndexSettings(BaseModel):
    """Settings of the full-text index, the ``index:`` section of ``config.yaml``.

    Attributes:
        path: folder holding the index (created when missing). A rebuild builds into a sibling
            folder and swaps it in, so the parent folder must be writable.
        commit_batch: documents per commit in :meth:`SearchIndex.add`; the writer lock is
            released between batches so a long add does not starve other writers.
        lock_timeout_seconds: how long one attempt waits for the writer lock.
        retries: further attempts after the first one times out, before giving up.
        retry_delay_seconds: pause between attempts (doubled after each).
        limitmb: memory per indexing process for the engine's sort buffers, in MB.
        procs: indexing processes for a rebuild of 5,000 documents or more (1 = in-process).
            Two with 512 MB each reindexed 100,000 documents at 838 docs/s against 355 with
            one, peaking at 1.4 GiB (``benchmarks/bench_search.py``).
        snippet_chars: longest snippet returned with a hit.
    """

    model_config = ConfigDict(extra="forbid")

    path: Path
    commit_batch: int = Field(default=500, ge=1)
    lock_timeout_seconds: float = Field(default=5.0, ge=0)
    retries: int = Field(default=3, ge=0)
    retry_delay_seconds: float = Field(default=0.2, ge=0)
    limitmb: int = Field(default=512, ge=16)
    procs: int = Field(default=2, ge=1)
    snippet_chars: int = Field(default=240, ge=40)


@dataclass(frozen=True)
class IndexDocument:
    """One document as the index sees it (built by the store from a document row)."""

    id: int
    patient_mrn: str | None
    patient_name: str | None
    dob: date | None
    doc_type: str | None
    service_date: date | None
    received_at: datetime
    status: str
    source_name: str
    text: str
    # Set aside by a clerk (a misdirected fax): found only by those allowed to see rejects.
    rejected: bool = False

    @property
    def effective_date(self) -> date:
        """The date the date-range filter uses: the service date, else the day received."""
        return self.service_date or self.received_at.date()


@dataclass
class SearchFilters:
    """Restrictions applied to a search; ``None`` means no restriction.

    ``date_from`` and ``date_to`` are inclusive and compare with the document's *effective
    date*: its service date when one was read from the page, otherwise the calendar day it
    was received (``received_at.date()`` in the timezone it was given in).

    Rejected documents are left out unless ``include_rejected`` (supervisors only).
    """

    patient_mrn: str | None = None
    doc_type: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    include_rejected: bool = False


@dataclass(frozen=True)
class SearchHit:
    """One ranked hit: the fields of a search-hit JSON row (see DESIGN.md)."""

    id: int
    source_name: str
    patient_mrn: str | None
    doc_type: str | None
    score: float
    snippet: str

    def to_json(self) -> dict[str, object]:
        """The search-hit JSON row of the contract (the command line and the API alike)."""
        return {
            "id": self.id,
            "source_name": self.source_name,
            "patient_mrn": self.patient_mrn,
            "doc_type": self.doc_type,
            "score": round(self.score, 4),
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class SearchResult:
    """One page of hits.

    Attributes:
        hits: the hits of this page, best first.
        total: how many documents matched in all (every page); for multi-term queries
            an estimate from the engine, since an exact count costs a second search.
        page: the 1-based page number asked for.
        limit: hits per page asked for.
    """

    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    limit: int = 10

    @property
    def page_count(self) -> int:
        """Number of pages needed to show all ``total`` hits."""
        return -(-self.total // self.limit) if self.limit else 0
