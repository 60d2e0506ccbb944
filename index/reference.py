"""Plain Whoosh, as chartclerk used it before :class:`~index.analysis.FoldedText`.

For tests and benchmarks to compare with (Whoosh is imported only inside ``index/``): the
schema of version 2 with Whoosh's own ``TEXT`` fields, and a bare Whoosh writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import TEXT, Schema

from index.analysis import FoldedText
from index.models import IndexDocument
from index.schema import ENGINE, VERSION_FILE, build_schema, document_fields

#: The last schema version whose text fields were Whoosh's own ``TEXT``.
PLAIN_SCHEMA_VERSION = 2


def plain_field(field: Any) -> Any:
    """``field`` as Whoosh's own ``TEXT`` when it is a ``FoldedText``: same options, analyzer."""
    if not isinstance(field, FoldedText):
        return field
    plain = TEXT.__new__(TEXT)
    plain.__dict__.update(field.__getstate__())
    return plain


def plain_schema() -> Schema:
    """Today's schema with Whoosh's own ``TEXT`` fields (version 2's schema)."""
    return Schema(**{name: plain_field(field) for name, field in build_schema().items()})


def index_postings(field_name: str, value: str, *, plain: bool) -> list[Any]:
    """What the schema's field ``field_name`` would add to the index for ``value``.

    Args:
        field_name: a field of :func:`~index.schema.build_schema`.
        value: the field's text.
        plain: index it the way Whoosh's own ``TEXT`` does, rather than the schema's field.
    """
    field = build_schema()[field_name]
    return list((plain_field(field) if plain else field).index(value))


def write_plain_index(
    folder: Path, docs: Iterable[IndexDocument], commit_every: int | None = None
) -> int:
    """Write ``docs`` into a new bare Whoosh index of version 2's schema, stamped version 2.

    Args:
        folder: where the index is created (emptied first).
        docs: the documents, added with ``add_document``.
        commit_every: commit after this many documents (one commit at the end when None).

    Returns:
        The number of documents written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    engine = windex.create_in(str(folder), plain_schema())
    writer = engine.writer()
    count = 0
    for doc in docs:
        writer.add_document(**document_fields(doc))
        count += 1
        if commit_every is not None and count % commit_every == 0:
            writer.commit()
            writer = engine.writer()
    writer.commit()
    stamp = {"engine": ENGINE, "schema_version": PLAIN_SCHEMA_VERSION}
    (folder / VERSION_FILE).write_text(json.dumps(stamp), encoding="utf-8")
    return count


def index_contents(folder: Path) -> dict[str, Any]:
    """What an index folder holds, read by Whoosh alone: for tests comparing two writers.

    Returns a dict of:
        ``codecs``: the class of each segment's codec, as its table of contents names it.
        ``postings``: per (field, term), every posting as (document id, weight, value bytes).
        ``blocks``: per (field, term), every block's header as the postings file has it:
            (postings, top weight, shortest and longest field length, compression level).
        ``documents``: per document id, its stored fields and its length in each field.
    """
    engine = windex.open_dir(str(folder))
    codecs = [type(segment.codec()).__name__ for segment in engine._segments()]
    postings: dict[tuple[str, bytes], list[tuple[str, float, bytes]]] = {}
    blocks: dict[tuple[str, bytes], list[tuple[Any, ...]]] = {}
    documents: dict[str, dict[str, Any]] = {}
    schema = engine.schema
    with engine.reader() as reader:
        names = [name for name in schema.names() if schema[name].indexed]
        for leaf, _base in reader.leaf_readers():
            ids = {n: leaf.stored_fields(n)["id"] for n in leaf.all_doc_ids()}
            for n, doc_id in ids.items():
                lengths = {name: leaf.doc_field_length(n, name) for name in names}
                documents[doc_id] = {"stored": leaf.stored_fields(n), "lengths": lengths}
            for name in names:
                for term in leaf.lexicon(name):
                    matcher = leaf.postings(name, term)
                    key = (name, term)
                    seen: set[int] = set()
                    while matcher.is_active():
                        at = getattr(matcher, "_dataoffset", None)
                        if at is not None and at not in seen:
                            seen.add(at)
                            blocks.setdefault(key, []).append(
                                (
                                    matcher._blocklength,
                                    matcher._maxweight,
                                    matcher._minlength,
                                    matcher._maxlength,
                                    matcher._compression,
                                )
                            )
                        postings.setdefault(key, []).append(
                            (ids[matcher.id()], matcher.weight(), matcher.value())
                        )
                        matcher.next()
    engine.close()
    return {"codecs": codecs, "postings": postings, "blocks": blocks, "documents": documents}


def plain_codec() -> Any:
    """Whoosh's own codec, as a writer uses it when given none (for tests to compare with)."""
    return W3Codec()
