"""The chart-completeness commands through the console script's entry point.

In this process (``clerk.cli.main``), as tests/test_cli_access.py runs them; ingest runs as
a subprocess, as a user runs it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from synthetic import write_registry_csv
from tests.conftest import write_config
from tests.scans import patients, scan
from tests.test_cli import run as run_process
from tests.test_cli_access import run


def run_json(config: Path, *args: str) -> Any:
    return json.loads(run(config, *args, "--json").stdout)


DEFICIENCY_KEYS = {
    "id", "visit_number", "patient_mrn", "kind", "doc_type", "rule", "rule_version",
    "assigned_to", "status", "opened_at", "due_at", "delinquent_at", "age_days", "document_id",
}  # fmt: skip


@pytest.mark.needs_tesseract
def test_a_chart_from_feed_to_letter(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    people = patients()
    run(config, "patients", "import", str(write_registry_csv(people, tmp_path / "reg.csv")))
    drop = tmp_path / "drop"
    scan(
        drop,
        people[0],
        "pdf_text",
        "ds.pdf",
        doc_type="discharge_summary",
        encounter_number="V9001",
    )
    (row,) = json.loads(run_process(config, "ingest", str(drop), "--json").stdout)
    assert row["outcome"] == "filed"
    doc = run_json(config, "documents", "show", str(row["id"]))
    assert doc["encounter"]["visit_number"] is None
    assert doc["encounter"]["why"] == "no encounter of the patient on file"
    served = date.fromisoformat(doc["service_date"])
    admit, discharge = served - timedelta(days=2), served + timedelta(days=1)
    mrn = people[0].mrn
    feed = tmp_path / "enc.csv"
    feed.write_text(
        "visit_number,mrn,class,admit_at,discharge_at,attending,procedure_start,procedure_end\n"
        f"V9001,{mrn},inpatient,{admit}T08:00,{discharge}T12:00,D77|Hale; Iris,,\n"
    )
    report = run_json(config, "encounters", "import", str(feed))
    assert (report["format"], report["added"], report["discharged"]) == ("csv", 1, 1)
    (encounter,) = run_json(config, "encounters", "list", "--patient", mrn)
    assert encounter["attending_name"] == "Hale; Iris"

    doc = run_json(config, "documents", "show", str(row["id"]))
    assert doc["encounter"]["visit_number"] == "V9001"
    assert doc["encounter"]["why"] == "visit number on the page"
    as_of = f"{discharge + timedelta(days=20)}T12:00"
    rows = run_json(config, "deficiencies", "list", "--encounter", "V9001", "--as-of", as_of)
    assert [(r["rule"], r["status"]) for r in rows] == [("inpatient_history_physical", "open")]
    assert set(rows[0]) >= DEFICIENCY_KEYS
    assert rows[0]["assigned_to"] == "D77" and rows[0]["age_days"] == 20

    run(config, "deficiencies", "mark", str(row["id"]), "--kind", "missing_signature")
    out = tmp_path / "letters"
    sent = run_json(config, "letters", "--out", str(out), "--as-of", as_of)
    assert [(s["provider"], s["level"], s["items"]) for s in sent] == [("D77", "warning", 2)]
    assert Path(sent[0]["path"]).read_bytes().startswith(b"%PDF")

    marks = run_json(config, "deficiencies", "list", "--status", "open", "--provider", "D77")
    (mark,) = [r for r in marks if r["kind"] == "missing_signature"]
    # The owner of the data folder acts as a supervisor on the command line: may waive.
    run(config, "deficiencies", "waive", str(mark["id"]), "--reason", "signed on the paper chart")
    late = f"{discharge + timedelta(days=40)}T12:00"
    after = run_json(config, "deficiencies", "list", "--as-of", late)
    assert [(r["kind"], r["status"]) for r in after] == [
        ("missing_document", "open"),
        ("missing_signature", "waived"),
    ]
    assert [r["delinquent"] for r in after] == [True, False]
    assert all(r["letters"][0]["level"] == "warning" for r in after)
    figures = run_json(config, "completeness", "report", "--as-of", late)
    assert (figures["open"], figures["delinquent"], figures["delinquent_charts"]) == (1, 1, 1)
    assert figures["by_provider"]["D77"]["by_age"][">30"] == 1


def test_link_needs_a_filed_document_and_one_choice(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    both = run(
        config, "documents", "link", "1", "--encounter", "V1", "--patient-level", check=False
    )
    assert both.returncode == 2
    missing = run(config, "documents", "link", "1", "--encounter", "V1", check=False)
    assert missing.returncode == 6 and "no document with id 1" in missing.stderr
