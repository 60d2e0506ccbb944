"""Tests of the full-text index facade, on a real Whoosh index of synthetic documents."""

from __future__ import annotations

import fcntl
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from chartclerk_errors import SearchIndexError
from index import (
    HIGHLIGHT_CLOSE,
    HIGHLIGHT_OPEN,
    IndexDocument,
    IndexSettings,
    SearchFilters,
    SearchIndex,
)
from index.schema import VERSION_FILE

# Invented patients only.
PATIENTS = [
    ("00482913", "Marta Kowalczyk", date(1961, 3, 14)),
    ("00511207", "José García", date(1978, 11, 2)),
    ("00630045", "Ebony Whitfield", date(1990, 6, 30)),
    ("00712388", "Tobias Lindqvist", date(1955, 1, 9)),
    ("00899120", "Amara Okonkwo", date(2001, 8, 21)),
]
DOC_TYPES = ["lab_report", "radiology_report", "progress_note", "discharge_summary", "consent"]
SENTENCES = [
    "Hemoglobin and platelet count within normal limits.",
    "Chest radiograph shows no focal consolidation.",
    "Patient tolerated the procedure well without complications.",
    "Follow up in the outpatient clinic in two weeks.",
    "Informed consent was obtained after discussion of risks.",
    "Renal function stable, creatinine unchanged from prior.",
]
BASE_DAY = date(2024, 1, 1)


def make_doc(number: int) -> IndexDocument:
    """Document ``number`` (1..50) of the synthetic set, deterministic."""
    mrn, name, dob = PATIENTS[number % len(PATIENTS)]
    body = [SENTENCES[(number + k) % len(SENTENCES)] for k in range(4)]
    if number % 7 == 0:
        body.append("Presents with chest pain radiating to the left arm.")
    if number % 11 == 0:
        body.append("Pain in the chest wall after a fall, no fracture.")
    if number == 13:
        body.append("Febrile illness; fiébre documented by the outside clinic.")
    return IndexDocument(
        id=number,
        patient_mrn=None if number % 10 == 9 else mrn,
        patient_name=None if number % 10 == 9 else name,
        dob=dob,
        doc_type=DOC_TYPES[number % len(DOC_TYPES)],
        # Every fourth document has no service date: its received day counts instead.
        service_date=None if number % 4 == 0 else BASE_DAY + timedelta(days=number),
        received_at=datetime(2024, 3, 1, 9, 30, tzinfo=UTC) + timedelta(days=number),
        status="review" if number % 10 == 9 else "filed",
        source_name=f"scan_{number:04d}.pdf",
        text=" ".join(body),
    )


DOCS = [make_doc(n) for n in range(1, 51)]


def settings_for(path: Path, **overrides: object) -> IndexSettings:
    return IndexSettings(path=path, **overrides)  # type: ignore[arg-type]


def ids_of(index: SearchIndex, query: str, filters: SearchFilters | None = None) -> set[int]:
    return {hit.id for hit in index.search(query, filters, limit=100).hits}


def expected(predicate: object) -> set[int]:
    return {doc.id for doc in DOCS if predicate(doc)}  # type: ignore[operator]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """A shared, read-only index of the 50 documents."""
    index = SearchIndex.open(settings_for(tmp_path_factory.mktemp("shared") / "ix"))
    index.rebuild(DOCS, total=len(DOCS))
    yield index
    index.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[SearchIndex]:
    """A private index of the 50 documents, for tests that change it."""
    index = SearchIndex(settings_for(tmp_path / "ix", commit_batch=16))
    index.add(DOCS)
    yield index
    index.close()


def test_new_index_is_empty_and_needs_rebuild(tmp_path: Path) -> None:
    with SearchIndex(settings_for(tmp_path / "new")) as index:
        assert index.needs_rebuild
        assert index.doc_count() == 0
        assert index.ids() == set()


def test_rebuild_indexes_everything_and_clears_needs_rebuild(built: SearchIndex) -> None:
    assert not built.needs_rebuild
    assert built.doc_count() == 50
    assert built.ids() == set(range(1, 51))


def test_phrase_search_needs_the_words_together(built: SearchIndex) -> None:
    assert ids_of(built, '"chest pain"') == expected(lambda d: "chest pain" in d.text)
    loose = ids_of(built, "chest AND pain")
    assert loose == expected(lambda d: "chest" in d.text.lower() and "pain" in d.text.lower())
    assert loose > ids_of(built, '"chest pain"')


def test_stemming_matches_other_word_forms(built: SearchIndex) -> None:
    assert ids_of(built, "complication") == expected(lambda d: "complications" in d.text)


def test_field_search_by_mrn_and_type(built: SearchIndex) -> None:
    assert ids_of(built, "mrn:00482913") == expected(lambda d: d.patient_mrn == "00482913")
    assert ids_of(built, "doc_type:consent") == expected(lambda d: d.doc_type == "consent")
    both = ids_of(built, "mrn:00482913 AND doc_type:lab_report")
    assert both == expected(lambda d: d.patient_mrn == "00482913" and d.doc_type == "lab_report")


def test_hit_carries_document_fields_and_highlighted_snippet(built: SearchIndex) -> None:
    result = built.search('"chest pain"', limit=1)
    hit = result.hits[0]
    doc = DOCS[hit.id - 1]
    assert (hit.source_name, hit.patient_mrn, hit.doc_type) == (
        doc.source_name,
        doc.patient_mrn,
        doc.doc_type,
    )
    assert hit.score > 0
    assert f"{HIGHLIGHT_OPEN}chest{HIGHLIGHT_CLOSE} {HIGHLIGHT_OPEN}pain{HIGHLIGHT_CLOSE}" in (
        hit.snippet
    )
    assert "\n" not in hit.snippet


def test_filters_by_patient_type_and_status(built: SearchIndex) -> None:
    everything = "normal OR radiograph OR procedure OR clinic OR consent OR renal"
    assert ids_of(built, everything) == set(range(1, 51))
    cases = [
        (SearchFilters(patient_mrn="00630045"), lambda d: d.patient_mrn == "00630045"),
        (SearchFilters(doc_type="lab_report"), lambda d: d.doc_type == "lab_report"),
        (SearchFilters(status="review"), lambda d: d.status == "review"),
        (
            SearchFilters(patient_mrn="00482913", doc_type="consent", status="filed"),
            lambda d: d.patient_mrn == "00482913" and d.doc_type == "consent",
        ),
    ]
    for filters, predicate in cases:
        assert ids_of(built, everything, filters) == expected(predicate), filters


def test_date_range_uses_service_date_then_received_day(built: SearchIndex) -> None:
    start, end = date(2024, 1, 10), date(2024, 3, 20)
    filters = SearchFilters(date_from=start, date_to=end)
    want = expected(lambda d: start <= d.effective_date <= end)
    # Both kinds are in the window: service dates and, for every fourth, received days.
    assert any(DOCS[i - 1].service_date is None for i in want)
    assert any(DOCS[i - 1].service_date is not None for i in want)
    assert ids_of(built, "normal OR radiograph OR procedure OR clinic", filters) == want & (
        ids_of(built, "normal OR radiograph OR procedure OR clinic")
    )
    only_end = SearchFilters(date_to=date(2024, 1, 5))
    assert ids_of(built, "renal OR normal OR clinic OR consent", only_end) <= {1, 2, 3, 5}


def test_typo_in_name_still_finds_patient(built: SearchIndex) -> None:
    kowalczyk = expected(lambda d: d.patient_name == "Marta Kowalczyk")
    assert ids_of(built, "name:kowalcyzk") == kowalczyk
    assert ids_of(built, "kowalcyzk") == kowalczyk  # bare words search the name too
    assert ids_of(built, "name:whitfeld") == expected(lambda d: d.patient_name == "Ebony Whitfield")
    assert ids_of(built, "name:zzkowalczyk") == set()


def test_accents_are_folded_both_ways(built: SearchIndex) -> None:
    garcia = expected(lambda d: d.patient_name == "José García")
    assert garcia
    assert ids_of(built, "name:jose") == garcia
    assert ids_of(built, "name:josé AND name:garcia") == garcia
    assert ids_of(built, "fiebre") == {13}


def test_paging_and_totals(built: SearchIndex) -> None:
    first = built.search("normal OR clinic", limit=4, page=1)
    second = built.search("normal OR clinic", limit=4, page=2)
    assert first.total == second.total > 8
    assert first.page_count == -(-first.total // 4)
    assert len(first.hits) == len(second.hits) == 4
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    assert built.search("normal", limit=4, page=99).hits == []


@pytest.mark.parametrize(
    "query",
    ['"chest pain', "(chest OR pain", "chest AND", "AND pain", "mrn:", "nosuchfield:x", "   "],
)
def test_malformed_query_raises_one_line_error(built: SearchIndex, query: str) -> None:
    with pytest.raises(SearchIndexError) as caught:
        built.search(query)
    message = str(caught.value)
    assert message and "\n" not in message
    assert "Traceback" not in message


def test_bad_date_value_is_reported_without_echoing_query(built: SearchIndex) -> None:
    with pytest.raises(SearchIndexError, match="malformed") as caught:
        built.search("service:kowalczyk")
    assert "kowalczyk" not in str(caught.value)


def test_add_same_id_replaces_document(fresh: SearchIndex) -> None:
    assert 7 in ids_of(fresh, '"chest pain"')
    changed = replace(DOCS[6], text="Ankle sprain, ice and rest.", doc_type="progress_note")
    fresh.add([changed])
    assert 7 not in ids_of(fresh, '"chest pain"')
    assert ids_of(fresh, "sprain") == {7}
    assert fresh.search("sprain").hits[0].doc_type == "progress_note"
    assert fresh.doc_count() == 50


def test_remove_deletes_document(fresh: SearchIndex) -> None:
    assert fresh.remove(7)
    assert not fresh.remove(7)
    assert 7 not in ids_of(fresh, '"chest pain"')
    assert fresh.ids() == set(range(1, 51)) - {7}


def test_rebuild_replaces_content_in_a_fresh_folder(fresh: SearchIndex, tmp_path: Path) -> None:
    seen: list[int] = []
    count = fresh.rebuild(DOCS[:10], total=10, progress=seen.append)
    assert count == 10
    assert seen[-1] == 10
    assert fresh.ids() == set(range(1, 11))
    assert sorted(p.name for p in tmp_path.iterdir() if "ix" in p.name) == [
        ".ix.rebuild.lock",
        ".ix.write.lock",
        "ix",
    ]


def test_failed_rebuild_leaves_old_index(fresh: SearchIndex, tmp_path: Path) -> None:
    def broken() -> Iterator[IndexDocument]:
        yield from DOCS[:3]
        raise RuntimeError("store went away")

    with pytest.raises(SearchIndexError, match="rebuild failed"):
        fresh.rebuild(broken())
    assert fresh.doc_count() == 50
    assert not [p for p in tmp_path.iterdir() if ".rebuild-" in p.name]


def test_deleted_folder_is_recreated_and_flagged(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "ix")
    with SearchIndex(settings) as index:
        index.rebuild(DOCS[:5])
    shutil.rmtree(tmp_path / "ix")
    with SearchIndex(settings) as reopened:
        assert reopened.needs_rebuild
        assert (tmp_path / "ix").is_dir()
        assert reopened.doc_count() == 0
        reopened.rebuild(DOCS[:5])
        assert not reopened.needs_rebuild
    with SearchIndex(settings) as again:
        assert not again.needs_rebuild
        assert again.doc_count() == 5


def test_folder_deleted_while_open_is_recreated(tmp_path: Path) -> None:
    with SearchIndex(settings_for(tmp_path / "ix")) as index:
        index.rebuild(DOCS[:5])
        shutil.rmtree(tmp_path / "ix")
        assert index.doc_count() == 0
        assert index.needs_rebuild


@pytest.mark.parametrize(
    "stamp", ['{"engine": "whoosh", "schema_version": 0}', "not json", None], ids=str
)
def test_other_schema_version_needs_rebuild(tmp_path: Path, stamp: str | None) -> None:
    settings = settings_for(tmp_path / "ix")
    with SearchIndex(settings) as index:
        index.rebuild(DOCS[:5])
    version_file = tmp_path / "ix" / VERSION_FILE
    assert json.loads(version_file.read_text())["schema_version"] >= 1
    if stamp is None:
        version_file.unlink()
    else:
        version_file.write_text(stamp)
    with SearchIndex(settings) as reopened:
        assert reopened.needs_rebuild
        assert reopened.doc_count() == 0


def _hold_writer_lock(lock_file: Path, holding: threading.Event, release: threading.Event) -> None:
    """Hold the engine's writer lock file, as another process's writer would, until released.

    flock() locks belong to an open file, so a second open in this process contends too.
    """
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        holding.set()
        release.wait(10)
        fcntl.flock(handle, fcntl.LOCK_UN)


def test_second_writer_retries_until_lock_is_free(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with SearchIndex(settings_for(path)) as first:
        first.add([DOCS[0]])
    (lock_file,) = path.glob("*WRITELOCK")  # the lock file the engine's writers take
    holding, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=_hold_writer_lock, args=(lock_file, holding, release))
    thread.start()
    try:
        assert holding.wait(10)
        impatient = settings_for(path, lock_timeout_seconds=0.05, retries=1, retry_delay_seconds=0)
        with SearchIndex(impatient) as index, pytest.raises(SearchIndexError, match="locked"):
            index.add([DOCS[1]])
        timer = threading.Timer(0.3, release.set)
        timer.start()
        patient = settings_for(path, lock_timeout_seconds=0.1, retries=6, retry_delay_seconds=0.05)
        with SearchIndex(patient) as index:
            assert index.add([DOCS[1]]) == 1
            assert index.ids() == {1, 2}
    finally:
        release.set()
        thread.join(10)
        if "timer" in locals():
            timer.join(10)
    assert not thread.is_alive()


def test_settings_reject_unknown_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="extra"):
        IndexSettings(path=tmp_path, colour="blue")  # type: ignore[call-arg]
