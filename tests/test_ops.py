"""Operations: unfile, reprocess, verify, checked list options, demo refusal, query fields."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from chartclerk_errors import StoreError, error_origin
from clerk.app import App
from clerk.verification import heartbeat_checks, run_checks
from index import SearchFilters
from records import operations, review
from records.audit import Actor
from records.patients import import_patients
from records.store import NewDocument
from scanner.identifying.dates import parse_first_date
from synthetic import write_registry_csv
from tests.conftest import write_config
from tests.scans import patients, scan

CHARTCLERK = str(Path(sys.executable).with_name("chartclerk"))


def ingest(app: App, folder: Path, name: str, index: int, **changes: object) -> int:
    path = scan(folder, patients()[index], "pdf_text", name, **changes)
    outcome = app.ingestor.ingest(path, release_source=False)
    assert outcome.document_id is not None
    return outcome.document_id


def test_unfile_works_for_a_patient_not_in_the_index_then_reject(app: App) -> None:
    doc_id = app.store.add_document(
        NewDocument(
            sha256="f" * 64,
            source_name="misfiled.pdf",
            source_path="/inbox/misfiled.pdf",
            status="filed",
            patient_mrn="99999999",  # in no patient index
        )
    )
    with pytest.raises(StoreError, match="reason"):
        operations.unfile(app.store, doc_id, "  ", actor=Actor("clerk", "cli"))
    summary = operations.unfile(app.store, doc_id, "wrong chart", actor=Actor("clerk", "cli"))
    assert (summary.status, summary.patient_mrn) == ("review", None)
    with pytest.raises(StoreError, match="not filed"):
        operations.unfile(app.store, doc_id, "again", actor=Actor("clerk", "cli"))
    rejected = review.reject(app.store, doc_id, "not our patient", actor=Actor("clerk", "cli"))
    assert rejected.status == "quarantined"
    kinds = [e.kind for e in app.store.get_document(doc_id).events]
    assert kinds == ["unfiled", "rejected"]
    assert app.store.get_document(doc_id).events[0].detail == {
        "from": "99999999",
        "reason": "wrong chart",
    }


def test_reprocess_decides_again_and_keeps_the_earlier_reading(app: App, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    # The patient is not registered yet: the document waits in review.
    doc_id = ingest(app, drop, "early.pdf", 0)
    assert app.store.get_document(doc_id).summary.status == "review"
    import_patients(
        app.store, write_registry_csv(patients(), tmp_path / "reg.csv"), actor=Actor("t", "cli")
    )
    outcome = app.ingestor.read_again(doc_id, force=False, actor=Actor("clerk", "cli"))
    assert outcome.kind == "filed"
    detail = app.store.get_document(doc_id)
    assert detail.summary.patient_mrn == patients()[0].mrn
    assert detail.summary.doc_type_loinc == "11502-2"
    assert detail.to_json()["doc_type_loinc"] == "11502-2"
    readings = operations.earlier_readings(app.store, doc_id)
    assert [r["status"] for r in readings] == ["review"]
    assert readings[0]["pages"] and "Hemoglobin" in json.dumps(readings[0]["pages"])
    # Chart completeness may add its own entries after it (the document's encounter link).
    event = next(e for e in reversed(detail.events) if e.kind == "reprocessed")
    assert event.actor == "clerk"
    assert event.detail and event.detail["before"]["status"] == "review"
    # Filed now: only with force.
    with pytest.raises(StoreError, match="--force"):
        app.ingestor.read_again(doc_id, force=False, actor=Actor("clerk", "cli"))
    assert app.ingestor.read_again(doc_id, force=True, actor=Actor("boss", "cli")).kind == "filed"
    assert len(operations.earlier_readings(app.store, doc_id)) == 2


def test_verify_names_what_is_wrong(app: App, tmp_path: Path) -> None:
    import_patients(
        app.store, write_registry_csv(patients(), tmp_path / "reg.csv"), actor=Actor("t", "cli")
    )
    first = ingest(app, tmp_path / "drop", "one.pdf", 0)
    second = ingest(app, tmp_path / "drop", "two.pdf", 1)
    app.indexer.flush()
    checks = {c.name: c for c in run_checks(app)}
    assert all(c.ok for c in checks.values()), [c.summary() for c in checks.values()]
    sha = app.store.get_document(first).summary.sha256
    assert sha
    app.store.archive.path_for(sha).write_bytes(b"tampered")
    app.search.remove(second)
    checks = {c.name: c for c in run_checks(app)}
    assert checks["archive"].problems == [
        f"document {first}: original {sha[:12]}… does not match its hash"
    ]
    assert f"document {second} is in the store but not in the index" in checks["index"].problems
    cheap = {c.name: c for c in run_checks(app, cheap=True)}
    assert cheap["archive"].ok


def test_rejected_documents_leave_search_but_supervisors_see_them(app: App, tmp_path: Path) -> None:
    doc_id = ingest(app, tmp_path / "drop", "fax.pdf", 3)
    review.reject(app.store, doc_id, "misdirected fax", actor=Actor("clerk", "cli"))
    app.indexer.catch_up()
    assert doc_id not in {h.id for h in app.search.search("hemoglobin").hits}
    everyone = app.search.search("hemoglobin", SearchFilters(include_rejected=True)).hits
    assert doc_id in {h.id for h in everyone}


def test_type_and_source_query_fields_exist(app: App, tmp_path: Path) -> None:
    import_patients(
        app.store, write_registry_csv(patients(), tmp_path / "reg.csv"), actor=Actor("t", "cli")
    )
    lab = ingest(app, tmp_path / "drop", "ward7_fax.pdf", 0)
    xray = ingest(app, tmp_path / "drop", "scanner2.pdf", 1, doc_type="radiology_report")
    app.indexer.flush()
    assert [h.id for h in app.search.search("type:radiology_report").hits] == [xray]
    assert [h.id for h in app.search.search("source:ward7").hits] == [lab]


def test_two_digit_year_pivot_is_honoured() -> None:
    today = date(2026, 11, 29)
    assert parse_first_date("03/04/25", today=today, pivot=30) == date(2025, 3, 4)
    assert parse_first_date("03/04/25", today=today, pivot=10) == date(1925, 3, 4)
    # Never a date still to come, whatever the pivot.
    assert parse_first_date("03/04/28", today=today, pivot=30) == date(1928, 3, 4)


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHARTCLERK, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_list_options_are_checked_and_times_carry_an_offset(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    drop = tmp_path / "drop"
    scan(drop, patients()[0], "pdf_text", "a.pdf")
    scan(drop, patients()[1], "pdf_text", "b.pdf")
    assert run(config, "ingest", str(drop)).returncode == 0
    typo = run(config, "documents", "list", "--status", "filled")
    assert typo.returncode == 2 and "filed, quarantined, review" in typo.stderr
    bad_type = run(config, "documents", "list", "--type", "labreport")
    assert bad_type.returncode == 2 and "lab_report" in bad_type.stderr
    rows = json.loads(run(config, "documents", "list", "--limit", "1", "--json").stdout)
    assert len(rows) == 1 and rows[0]["received_at"].endswith("+00:00")
    later = run(config, "documents", "list", "--since", "2999-01-01", "--json")
    assert json.loads(later.stdout) == []
    verify = run(config, "verify", "--json")
    assert verify.returncode == 0, verify.stderr
    assert {c["check"] for c in json.loads(verify.stdout)} >= {"database", "archive", "index"}
    # Real-looking records in the data folder: the demo refuses to load beside them.
    demo = run(config, "demo", "--documents", "3")
    assert demo.returncode == 2 and "demo refused" in demo.stderr


def test_cli_demo_runs_twice_in_its_own_folder(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert run(config, "demo", "--documents", "3").returncode == 0
    again = run(config, "demo", "--documents", "3", "--seed", "1")
    assert again.returncode == 0, again.stderr


def test_help_works_without_a_config_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [CHARTCLERK, "--config", str(tmp_path / "absent.yaml"), "documents", "list", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "--since" in result.stdout and "--limit" in result.stdout


def test_an_unexpected_error_names_its_file_and_line_not_its_message() -> None:
    def fail() -> None:
        raise KeyError("Doe, Jane 00482913")  # a message that must never be logged

    try:
        fail()
    except KeyError as exc:
        origin = error_origin(exc)
    line = fail.__code__.co_firstlineno + 1
    assert origin == f"KeyError at tests/test_ops.py:{line}"


def test_a_quarantined_document_is_read_again_and_stays_quarantined(
    app: App, tmp_path: Path
) -> None:
    odd = tmp_path / "notes.pdf"
    odd.write_bytes(b"plain words, not a scan " * 20)
    outcome = app.ingestor.ingest(odd, release_source=False)
    assert outcome.kind == "quarantined" and outcome.document_id is not None
    again = app.ingestor.read_again(outcome.document_id, force=False, actor=Actor("c", "cli"))
    assert again.kind == "quarantined" and again.reason and "unrecognised" in again.reason
    readings = operations.earlier_readings(app.store, outcome.document_id)
    assert [r["status"] for r in readings] == ["quarantined"]


def test_the_heartbeat_warns_of_a_missing_original(
    app: App, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    doc_id = ingest(app, tmp_path / "drop", "one.pdf", 0)
    app.indexer.flush()
    heartbeat_checks(app)
    assert not [r for r in caplog.records if r.name == "chartclerk.verify"]
    sha = app.store.get_document(doc_id).summary.sha256
    assert sha
    app.store.archive.path_for(sha).unlink()
    heartbeat_checks(app)
    warnings = [r.getMessage() for r in caplog.records if r.name == "chartclerk.verify"]
    assert warnings == [
        f"verify: archive: 1 problem(s): document {doc_id}: original {sha[:12]}… missing"
    ]
