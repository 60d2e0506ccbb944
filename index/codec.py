"""Whoosh's own file format (``W3Codec``), written with two costs taken out.

Measured on dense ten-page documents (``benchmarks/bench_index_cost.py``), a commit spent
a fifth of its time on two things that change nothing in what is written:

- **Compressing blocks of a few postings.** Every term's postings end in a block that
  Whoosh pickles and compresses with zlib. In a commit of a few documents most terms are in
  one or two of them: a pickle of a few dozen bytes that zlib hardly shrinks, at the cost of
  setting up a compressor each time (Whoosh's own code means to skip pickles under 20
  bytes, and then compresses anyway). Blocks of fewer than :data:`COMPRESS_FROM_POSTINGS`
  postings are written uncompressed; a block records its own compression, so every reader
  of the format reads them as it reads any other. The index grows by about 1% (40 dense
  documents: 1,661 KiB against 1,637).
- **Looking up a field's length for every posting.** Whoosh asks the segment's length
  column for the document's field length once per posting, a file read each time, though
  a document's postings all ask the same few questions. The answers are kept while the
  writer is on one field.

The segments are stamped with Whoosh's plain ``W3Codec`` (see :meth:`FastCodec.__reduce__`):
an index written this way is read by Whoosh alone, and by chartclerk versions without this
module.
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PostingsWriter

#: Blocks with fewer postings than this are written uncompressed. (From 16 on the index grows
#: by half: the postings of words on every page of a document, with their positions, are
#: what compresses.)
COMPRESS_FROM_POSTINGS = 4


class FastCodec(W3Codec):
    """``W3Codec`` with the two shortcuts of this module; pickled as a plain ``W3Codec``."""

    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        """The writer of the terms and postings, asking each field length once."""
        return _FieldWriter(self, storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        """The writer of one term's postings, compressing only blocks worth it."""
        return _PostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def __reduce__(self) -> tuple[type[W3Codec], tuple[int, int, int]]:
        # The index's table of contents names the codec of each segment: Whoosh's own.
        return (W3Codec, (self._blocklimit, self._compression, self._inlinelimit))


class _PostingsWriter(W3PostingsWriter):
    def __init__(self, dbfile: Any, **options: Any) -> None:
        super().__init__(dbfile, **options)
        self._level: int = options.get("compression", 3)

    def _write_block(self, last: bool = False) -> None:
        # The block's compression is written into its header; Whoosh reads the block as
        # that header says.
        few = len(self._ids) < COMPRESS_FROM_POSTINGS
        self._compression = 0 if few else self._level
        super()._write_block(last)


class _FieldWriter(W3FieldWriter):
    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        super().add_postings(schema, _KnownLengths(lengths) if lengths else lengths, items)


class _KnownLengths:
    """A segment's field lengths as Whoosh's writer reads them, each read once.

    Postings come field by field, so only the current field's lengths are kept: one entry
    a document, never one a document and field (a rebuild of a million documents writes
    segments of half a million).
    """

    def __init__(self, lengths: Any) -> None:
        self._lengths = lengths
        self._field: str | None = None
        self._known: dict[int, int] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        if fieldname != self._field:
            self._field, self._known = fieldname, {}
        known = self._known.get(docnum)
        if known is None:
            known = self._known[docnum] = self._lengths.doc_field_length(docnum, fieldname, default)
        return known

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lengths, name)
