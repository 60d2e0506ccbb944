"""Roles as a clerk sees them: providers stored and shown, what was set aside and why.

Text-layer PDFs of synthetic face sheets, orders and a fax cover go through ``ingest`` and
are looked at with ``documents show`` and ``review list``, as a user would.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from synthetic import write_document, write_registry_csv
from tests.conftest import write_config
from tests.scans import patients, spec_for
from tests.test_cli import run, run_json


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry and three documents naming other registered patients."""
    folder = tmp_path_factory.mktemp("roles")
    config = write_config(folder)
    people = patients()
    run(config, "patients", "import", str(write_registry_csv(people, folder / "reg.csv")))
    drop = folder / "drop"
    drop.mkdir()
    patient, relative, doctor = people[0], people[1], people[2]
    face = spec_for(patient, layout="face_sheet", doc_type="history_physical",
                    others=(("guarantor", relative), ("subscriber", relative),
                            ("emergency_contact", doctor)))  # fmt: skip
    orders = spec_for(patient, layout="orders", others=(("ordering", doctor),))
    cover = replace(
        spec_for(patient, layout="fax_cover", doc_type="consult_note", pages=2),
        cover_for=relative,
    )
    for name, spec in (("face.pdf", face), ("orders.pdf", orders), ("cover.pdf", cover)):
        write_document(spec, 7, drop, "pdf_text", name=name)
    run(config, "ingest", str(drop))
    return config


_ROWS: dict[Path, dict[str, dict[str, object]]] = {}


def _by_name(site: Path) -> dict[str, dict[str, object]]:
    if site not in _ROWS:
        _ROWS[site] = {row["source_name"]: row for row in run_json(site, "documents", "list")}
    return _ROWS[site]


def test_face_sheet_is_filed_and_shows_who_was_set_aside(site: Path) -> None:
    row = _by_name(site)["face.pdf"]
    assert (row["status"], row["patient_mrn"]) == ("filed", patients()[0].mrn)
    shown = run_json(site, "documents", "show", str(row["id"]))
    assert "guarantor name and dob: not the patient" in shown["set_aside"]
    assert "insurance subscriber name and dob: not the patient" in shown["set_aside"]
    roles = {(p["role"], p["kind"]) for p in shown["people"]}
    assert {("guarantor", "name"), ("guarantor", "dob"), ("emergency_contact", "name")} <= roles
    relative = patients()[1]
    kinds = {(i["kind"], i["value"]) for i in shown["identifiers"]}
    assert ("name", f"{relative.last_name}, {relative.first_name}") not in kinds
    text = run(site, "documents", "show", str(row["id"])).stdout
    assert "set aside: guarantor name and dob: not the patient" in text


def test_ordering_physician_is_stored_as_the_documents_provider(site: Path) -> None:
    row = _by_name(site)["orders.pdf"]
    assert (row["status"], row["patient_mrn"]) == ("filed", patients()[0].mrn)
    shown = run_json(site, "documents", "show", str(row["id"]))
    doctor = patients()[2]
    providers = {(p["role"], p["name"]) for p in shown["providers"]}
    assert ("ordering", f"{doctor.last_name}, {doctor.first_name}") in providers
    assert all(p["role"] != "patient" for p in shown["providers"])


def test_fax_cover_about_someone_else_goes_to_review_with_its_reasons(site: Path) -> None:
    row = _by_name(site)["cover.pdf"]
    assert row["status"] == "review"
    queue = {r["source_name"]: r for r in run_json(site, "review", "list")}
    assert "set_aside" in queue["cover.pdf"]
    assert queue["cover.pdf"]["review_reason"] in (
        "identifier conflict",
        "multiple patients on document",
    )
