"""The command-line contract of DESIGN.md, run as a user runs it: the console script."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synthetic import write_registry_csv
from tests.conftest import write_config
from tests.scans import patients, scan

CHARTCLERK = str(Path(sys.executable).with_name("chartclerk"))
DOCUMENT_KEYS = {
    "id", "source_name", "sha256", "status", "patient_mrn", "doc_type", "pages",
    "review_reason", "received_at",
}  # fmt: skip
HIT_KEYS = {"id", "source_name", "patient_mrn", "doc_type", "score", "snippet"}
# The command line acts as the OS account of its uid (the data folder's owner here).
ME = pwd.getpwuid(os.getuid()).pw_name


def run(config: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [CHARTCLERK, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args}: exit {result.returncode}: {result.stderr}")
    return result


def run_json(config: Path, *args: str) -> Any:
    return json.loads(run(config, *args, "--json").stdout)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site with a registry and three text-layer PDFs ingested: two fileable, one not."""
    folder = tmp_path_factory.mktemp("site")
    config = write_config(folder)
    people = patients()
    run(config, "patients", "import", str(write_registry_csv(people, folder / "reg.csv")))
    drop = folder / "drop"
    scan(drop, people[0], "pdf_text", "lab-first.pdf")
    scan(drop, people[1], "pdf_text", "xray-second.pdf", doc_type="radiology_report")
    scan(drop, people[2], "pdf_text", "no-ids.pdf", show_mrn=False, show_dob=False)
    run(config, "ingest", str(drop))
    return config


def test_ingest_reports_every_file_and_keeps_sources_outside_the_inbox(site: Path) -> None:
    drop = site.parent / "drop"
    assert len(list(drop.iterdir())) == 3
    again = run_json(site, "ingest", str(drop))
    assert [row["outcome"] for row in again] == ["duplicate"] * 3


def test_documents_list_has_the_contract_shape(site: Path) -> None:
    rows = run_json(site, "documents", "list")
    assert len(rows) == 3
    for row in rows:
        assert set(row) == DOCUMENT_KEYS
        assert row["status"] in ("filed", "review", "quarantined")
        assert isinstance(row["id"], int) and isinstance(row["pages"], int)
    by_name = {row["source_name"]: row for row in rows}
    people = patients()
    assert by_name["lab-first.pdf"]["patient_mrn"] == people[0].mrn
    assert by_name["lab-first.pdf"]["doc_type"] == "lab_report"
    assert by_name["xray-second.pdf"]["doc_type"] == "radiology_report"
    assert by_name["no-ids.pdf"]["status"] == "review"
    assert by_name["no-ids.pdf"]["review_reason"]
    filed = run_json(site, "documents", "list", "--status", "filed", "--patient", people[0].mrn)
    assert [row["source_name"] for row in filed] == ["lab-first.pdf"]


def test_documents_show_adds_text_pages_identifiers_and_history(site: Path) -> None:
    first = next(
        r for r in run_json(site, "documents", "list") if r["source_name"] == "lab-first.pdf"
    )
    shown = run_json(site, "documents", "show", str(first["id"]))
    assert set(shown) >= DOCUMENT_KEYS
    assert patients()[0].mrn in shown["text"]
    assert shown["page_texts"][0]["source"] == "text_layer"
    assert {"mrn", "dob"} <= {i["kind"] for i in shown["identifiers"]}
    assert shown["candidates"][0]["mrn"] == patients()[0].mrn
    assert shown["candidates"][0]["reasons"]
    assert [e["kind"] for e in shown["history"]][:2] == ["received", "read"]


def test_search_hits_have_the_contract_shape_and_filters(site: Path) -> None:
    hits = run_json(site, "search", "report")
    assert hits and all(set(hit) == HIT_KEYS for hit in hits)
    mrn = patients()[1].mrn
    only = run_json(site, "search", "report", "--patient", mrn)
    assert {hit["patient_mrn"] for hit in only} == {mrn}
    typed = run_json(site, "search", "report", "--type", "radiology_report")
    assert {hit["doc_type"] for hit in typed} == {"radiology_report"}
    assert run_json(site, "search", f"mrn:{mrn}")[0]["patient_mrn"] == mrn


def test_review_assign_files_the_document_and_search_follows(site: Path) -> None:
    queue = run_json(site, "review", "list")
    waiting = next(r for r in queue if r["source_name"] == "no-ids.pdf")
    assert waiting["review_reason"]
    assert len(waiting["candidates"]) <= 5
    mrn = patients()[2].mrn
    run(site, "review", "assign", str(waiting["id"]), mrn)
    shown = run_json(site, "documents", "show", str(waiting["id"]))
    assert (shown["status"], shown["patient_mrn"]) == ("filed", mrn)
    assigned = [e for e in shown["history"] if e["kind"] == "assigned"]
    assert assigned and assigned[0]["actor"] == ME
    assert waiting["id"] in {
        hit["id"] for hit in run_json(site, "search", "report", "--patient", mrn)
    }


def test_refile_keeps_the_earlier_filing_in_history(site: Path) -> None:
    people = patients()
    doc = run_json(site, "documents", "list", "--patient", people[1].mrn)[0]
    run(site, "documents", "refile", str(doc["id"]), people[3].mrn, "--reason", "wrong chart")
    shown = run_json(site, "documents", "show", str(doc["id"]))
    assert shown["patient_mrn"] == people[3].mrn
    refiled = [e for e in shown["history"] if e["kind"] == "refiled"][0]
    assert refiled["detail"] == {
        "from": people[1].mrn,
        "to": people[3].mrn,
        "reason": "wrong chart",
    }
    assert doc["id"] in {
        h["id"] for h in run_json(site, "search", "report", "--patient", people[3].mrn)
    }


def test_errors_are_one_line_with_an_exit_code(site: Path) -> None:
    missing = run(site, "documents", "show", "9999", check=False)
    assert missing.returncode != 0
    assert missing.stderr.strip().count("\n") == 0
    assert "no document with id 9999" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_query = run(site, "search", "(unclosed AND", check=False)
    assert "Traceback" not in bad_query.stderr
    unknown = run(site, "review", "assign", "1", "00000000", check=False)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr


def test_reindex_rebuilds_a_deleted_index(site: Path) -> None:
    import shutil

    shutil.rmtree(site.parent / "var" / "index")
    run(site, "reindex")
    assert run_json(site, "search", "report")


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("ocr:\n  languages: xx\n")
    result = run(config, "ingest", str(tmp_path), check=False)
    assert result.returncode == 2
    assert "ocr.languages: 'xx' is not installed" in result.stderr
    assert "Traceback" not in result.stderr


def test_audit_shows_who_looked_at_what(site: Path) -> None:
    doc = run_json(site, "documents", "list")[0]
    run(site, "documents", "show", str(doc["id"]))
    trail = run_json(site, "audit", "--access", "--document", str(doc["id"]))
    assert trail[0]["kind"] == "viewed"
    assert (trail[0]["actor"], trail[0]["channel"]) == (ME, "cli")
    assert all(event["access"] for event in trail)


def test_an_ingest_that_misses_a_file_exits_1_with_every_row_written(
    site: Path, tmp_path: Path
) -> None:
    # The console script leaves without tearing down the interpreter (clerk.entry.leave):
    # its exit code and everything it printed must still come out whole.
    gone = tmp_path / "gone.pdf"
    result = run(site, "ingest", "--json", str(gone), check=False)
    assert result.returncode == 1
    assert json.loads(result.stdout) == [
        {"path": str(gone), "outcome": "missing", "id": None, "reason": "no such file"}
    ]
    listed = run(site, "documents", "list", "--json")
    assert listed.returncode == 0
    assert len(json.loads(listed.stdout)) >= 1


def test_a_command_whose_output_was_closed_still_exits_with_its_own_code() -> None:
    # Started with its standard output closed (a supervisor's `>&-`), Python gives it no
    # sys.stdout; leaving must not turn a clean exit into a traceback.
    result = subprocess.run(
        [CHARTCLERK, "--help"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(1),  # noqa: PLW1509 - closes only the child's stdout
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
