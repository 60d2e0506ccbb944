"""FoldedText indexes exactly what Whoosh's own TEXT field indexes, and old indexes are rebuilt."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import index.analysis
from index import SCHEMA_VERSION, SearchFilters, SearchIndex
from index.analysis import FoldedText
from index.reference import PLAIN_SCHEMA_VERSION, index_postings, write_plain_index
from index.schema import VERSION_FILE, build_schema
from tests.test_index import DOCS, settings_for

TEXT_FIELDS = ("text", "name", "source")

# Words and characters a scanned page throws at the analyzer: stop words, short words,
# MRNs, dates, decimals, wildcards, accents (composed and combining), ligatures, case
# changes that lengthen a word (İ), scripts without case, and runs of punctuation.
PIECES = [
    "the",
    "The",
    "a",
    "I",
    "of",
    "and",
    "Will",
    "Ng",
    "A-123456",
    "MRN:00482913",
    "12/03/2024",
    "2024-03-12",
    "3.5mg",
    "v1.2.3",
    "x*y",
    "**",
    "Fiébre",
    "fiebre",
    "Fie\u0301bre",
    "García",
    "JOSÉ",
    "Straße",
    "ﬁnal",
    "İstanbul",
    "ǅemal",
    "Ωmega",
    "病歷",
    "running",
    "runs",
    "ran",
    "hospitalization",
    "ward7_fax-03.pdf",
    "_x_",
    "...",
    "—",
    "\n",
    "\t",
    "  ",
]
words = st.one_of(
    st.sampled_from(PIECES),
    st.text(min_size=1, max_size=12),
    st.text(alphabet="aeioubcdfgrstnlmAEIOUé.*-_0123456789", min_size=1, max_size=10),
)
texts = st.lists(words, max_size=60).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(value=texts, field=st.sampled_from(TEXT_FIELDS))
def test_folded_text_indexes_what_whoosh_text_indexes(value: str, field: str) -> None:
    assert index_postings(field, value, plain=False) == index_postings(field, value, plain=True)


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_pages_and_edge_cases_index_alike(field: str) -> None:
    cases = [
        "",
        "the of and a",  # only stop words: nothing indexed
        "the cat sat on the mat with the other cat",  # renumbered positions after stops
        "A-123456 seen 12/03/2024; DOB 1961-03-14, MRN 00482913. BP 120/80, 3.5 mg.",
        "Fiébre FIÉBRE fiebre fie\u0301bre — José GARCÍA, Straße, ﬁnal, İstanbul",
        *(doc.text for doc in DOCS),
        "\n".join(doc.text for doc in DOCS) * 3,
    ]
    for value in cases:
        assert index_postings(field, value, plain=False) == index_postings(field, value, plain=True)


def test_memo_overflow_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.analysis, "MEMO_WORDS", 3)
    value = " ".join(f"word{n} running hospitalization the Fiébre" for n in range(50))
    for _ in range(3):
        assert index_postings("text", value, plain=False) == index_postings(
            "text", value, plain=True
        )


def test_the_pickled_field_leaves_its_memo_behind_and_indexes_alike() -> None:
    field = build_schema()["text"]
    assert isinstance(field, FoldedText)
    first = list(field.index("Renal function stable, creatinine unchanged"))
    assert "_folded_plan" in field.__dict__
    copy = pickle.loads(pickle.dumps(field))
    assert "_folded_plan" not in copy.__dict__
    assert list(copy.index("Renal function stable, creatinine unchanged")) == first


@pytest.mark.parametrize("batch", [len(DOCS), 7])
def test_queries_find_the_same_hits_in_a_plain_whoosh_index(tmp_path: Path, batch: int) -> None:
    # The same documents written by bare Whoosh (TEXT fields) and through SearchIndex
    # (FoldedText), committed in the same batches (scores depend a little on the segments):
    # every query returns the same hits, scores and snippets.
    plain_folder = tmp_path / "plain"
    write_plain_index(plain_folder, DOCS, commit_every=batch)
    stamp = {"engine": "whoosh", "schema_version": SCHEMA_VERSION}
    (plain_folder / VERSION_FILE).write_text(json.dumps(stamp))
    queries = [
        "chest pain",
        '"chest pain"',
        "consolidation",
        "complication",
        "fiebre",
        "fiébre",
        "name:garcia",
        "name:José",
        "source:scan_0013",
        "source:pdf",
        "renal OR radiograph",
        "hemoglobin NOT platelet",
        "the",
        "*",
    ]
    with (
        SearchIndex(settings_for(plain_folder)) as plain,
        SearchIndex(settings_for(tmp_path / "folded", commit_batch=batch)) as folded,
    ):
        assert not plain.needs_rebuild
        folded.add(DOCS)
        for query in queries:
            for filters in (None, SearchFilters(status="filed")):
                want = plain.search(query, filters, limit=100)
                got = folded.search(query, filters, limit=100)
                assert got.hits == want.hits, query
                assert got.total == want.total, query
        assert sum(len(plain.search(q, limit=100).hits) for q in queries) > 100


def test_an_index_of_plain_whoosh_fields_is_kept_and_written_with_folded_ones(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "ix"
    write_plain_index(folder, DOCS[:10])
    assert json.loads((folder / VERSION_FILE).read_text())["schema_version"] == 2
    assert PLAIN_SCHEMA_VERSION == SCHEMA_VERSION  # the same postings: no rebuild
    with SearchIndex(settings_for(folder)) as index:
        assert not index.needs_rebuild
        assert index.doc_count() == 10
        assert not isinstance(index._engine().schema["text"], FoldedText)
        index.add(DOCS[10:])
        assert isinstance(index._engine().schema["text"], FoldedText)
        found = {hit.id for hit in index.search("chest pain", limit=100).hits}
        assert found == {
            doc.id for doc in DOCS if {"chest", "pain"} <= set(doc.text.lower().split())
        }
