"""The index's writer (index.codec) writes what Whoosh's own writer writes, readable by Whoosh."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import SearchIndex
from index.codec import COMPRESS_FROM_POSTINGS
from index.reference import index_contents, plain_codec
from tests.test_index import DOCS, settings_for


def _written(folder: Path, batch: int, *, plain: bool, monkeypatch: pytest.MonkeyPatch) -> dict:
    if plain:
        # Whoosh's own codec for this index (the writer's default when none is passed).
        from index import searchindex

        monkeypatch.setattr(searchindex, "FastCodec", plain_codec)
    with SearchIndex(settings_for(folder, commit_batch=batch)) as index:
        index.add(DOCS)
        index.add(DOCS[:5])  # replaced documents: deletions in older segments
    monkeypatch.undo()
    return index_contents(folder)


@pytest.mark.parametrize("batch", [len(DOCS), 7, 1])
def test_the_index_holds_what_whoosh_would_write(
    tmp_path: Path, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same documents, committed in the same batches, once with Whoosh's own codec and
    # once with the index's: every posting, every block's statistics and every document's
    # stored fields and field lengths are the same, read back by Whoosh alone.
    plain = _written(tmp_path / "plain", batch, plain=True, monkeypatch=monkeypatch)
    fast = _written(tmp_path / "fast", batch, plain=False, monkeypatch=monkeypatch)
    assert fast["postings"] == plain["postings"]
    assert len(fast["postings"]) > 500
    assert fast["documents"] == plain["documents"]
    assert len(fast["documents"]) == len(DOCS)

    def headers(blocks: dict) -> dict:
        return {key: [b[:4] for b in found] for key, found in blocks.items()}

    assert headers(fast["blocks"]) == headers(plain["blocks"])


def test_only_blocks_worth_compressing_are_compressed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _written(tmp_path / "plain", 7, plain=True, monkeypatch=monkeypatch)
    fast = _written(tmp_path / "fast", 7, plain=False, monkeypatch=monkeypatch)
    plain_levels = {b[4] for found in plain["blocks"].values() for b in found}
    assert plain_levels == {3}  # Whoosh compresses every block
    levels = [(b[0], b[4]) for found in fast["blocks"].values() for b in found]
    assert {level for size, level in levels if size < COMPRESS_FROM_POSTINGS} == {0}
    assert {level for size, level in levels if size >= COMPRESS_FROM_POSTINGS} == {3}
    assert sum(size < COMPRESS_FROM_POSTINGS for size, _ in levels) > 100
    assert sum(size >= COMPRESS_FROM_POSTINGS for size, _ in levels) > 50


def test_segments_are_stamped_with_whooshs_own_codec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index written with the shortcuts is read by Whoosh (and older chartclerk) as its own.
    fast = _written(tmp_path / "fast", 7, plain=False, monkeypatch=monkeypatch)
    assert fast["codecs"]
    assert set(fast["codecs"]) == {"W3Codec"}


class _Column:
    """A segment's lengths as Whoosh's per-document reader gives them, counting the reads."""

    def __init__(self) -> None:
        self.reads: list[tuple[int, str]] = []

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        self.reads.append((docnum, fieldname))
        return docnum * 10 + len(fieldname)


def test_field_lengths_are_read_once_a_field_and_kept_for_that_field_only() -> None:
    from index.codec import _KnownLengths

    column = _Column()
    known = _KnownLengths(column)
    asked = [(1, "text"), (2, "text"), (1, "text"), (2, "text"), (1, "name"), (1, "name")]
    assert [known.doc_field_length(d, f) for d, f in asked] == [14, 24, 14, 24, 14, 14]
    assert column.reads == [(1, "text"), (2, "text"), (1, "name")]
    # Postings come field by field: the lengths of a field done with are not kept.
    assert known._known == {1: 14}  # noqa: SLF001
