"""Real ADT and FHIR feeds: merge chains, merge-backs, A47, A37, authorities, HL7 nulls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from records.audit import Actor
from records.patients import get_patient, import_patients
from records.settings import FeedSettings, StoreSettings
from records.store import NewDocument, Store

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(
        StoreSettings(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
            archive_dir=tmp_path / "archive",
            quarantine_dir=tmp_path / "q",
        )
    )
    yield store
    store.close()


def adt(event: str, pid3: str, name: str, dob: str = "", sex: str = "", mrg: str = "") -> str:
    segments = [
        f"MSH|^~\\&|REG|HOSP|CLERK|HOSP|20240102030405||ADT^{event}|MSG{event}|P|2.5",
        f"EVN|{event}|20240102030405",
        f"PID|1||{pid3}||{name}||{dob}|{sex}",
    ]
    if mrg:
        segments.append(f"MRG|{mrg}")
    return "\r".join(segments)


def load(store: Store, tmp_path: Path, *messages: str, feeds: FeedSettings | None = None) -> Any:
    path = tmp_path / "feed.hl7"
    path.write_text("\n\n".join(messages), encoding="utf-8")
    return import_patients(store, path, actor=Actor("clerk1", "cli"), feeds=feeds)


def filed_to(store: Store, mrn: str, sha: str) -> int:
    return store.add_document(
        NewDocument(
            sha256=sha * 64,
            source_name="scan.pdf",
            source_path="/inbox/scan.pdf",
            status="filed",
            patient_mrn=mrn,
        )
    )


def test_a40_chain_resolves_to_the_final_survivor(store: Store, tmp_path: Path) -> None:
    load(
        store,
        tmp_path,
        adt("A04", "100^^^H^MR", "Ames^Al", "19600101"),
        adt("A04", "200^^^H^MR", "Ames^Al", "19600101"),
        adt("A04", "300^^^H^MR", "Ames^Al", "19600101"),
    )
    doc_a = filed_to(store, "100", "a")
    # 200 is merged into 300 first; then 100 into 200, which is no longer a survivor.
    report = load(
        store,
        tmp_path,
        adt("A40", "300^^^H^MR", "Ames^Al", "19600101", mrg="200^^^H^MR"),
        adt("A40", "200^^^H^MR", "Ames^Al", "19600101", mrg="100^^^H^MR"),
    )
    assert report.errors == [] and report.merged == 2
    assert get_patient(store, "100").merged_into == "300"
    assert get_patient(store, "200").merged_into == "300"
    assert store.get_document(doc_a).summary.patient_mrn == "300"


def test_a40_chain_across_imports_repoints_earlier_merges(store: Store, tmp_path: Path) -> None:
    load(store, tmp_path, adt("A40", "20^^^H^MR", "Bo^Cy", mrg="10"))
    doc = filed_to(store, "20", "b")
    load(store, tmp_path, adt("A40", "30^^^H^MR", "Bo^Cy", mrg="20"))
    assert get_patient(store, "10").merged_into == "30"
    assert get_patient(store, "20").merged_into == "30"
    assert store.get_document(doc).summary.patient_mrn == "30"


def test_a_merge_back_the_other_way_is_refused(store: Store, tmp_path: Path) -> None:
    load(store, tmp_path, adt("A40", "500^^^H^MR", "Cole^Di", mrg="400"))
    doc = filed_to(store, "500", "c")
    report = load(store, tmp_path, adt("A40", "400^^^H^MR", "Cole^Di", mrg="500"))
    assert report.merged == 0
    assert len(report.errors) == 1 and "merge back the other way" in report.errors[0][1]
    assert get_patient(store, "500").merged_into is None  # the survivor is not retired
    assert get_patient(store, "400").merged_into == "500"
    assert store.get_document(doc).summary.patient_mrn == "500"


def test_a47_moves_the_patient_and_documents_to_the_new_mrn(store: Store, tmp_path: Path) -> None:
    load(store, tmp_path, adt("A04", "600^^^H^MR", "Dunn^Ed", "19700707", "M"))
    doc = filed_to(store, "600", "d")
    report = load(store, tmp_path, adt("A47", "601^^^H^MR", "Dunn^Ed", mrg="600^^^H^MR"))
    assert (report.renamed, report.documents_moved, report.errors) == (1, 1, [])
    moved = get_patient(store, "601")
    assert (moved.last_name, moved.dob, moved.sex) == ("Dunn", date(1970, 7, 7), "M")
    detail = store.get_document(doc)
    assert detail.summary.patient_mrn == "601"
    assert detail.events[-1].kind == "patient identifier changed"
    # The new MRN is taken: an A47 onto it is refused, not a silent merge.
    load(store, tmp_path, adt("A04", "700^^^H^MR", "Eve^Fa"))
    refused = load(store, tmp_path, adt("A47", "700^^^H^MR", "Dunn^Ed", mrg="601^^^H^MR"))
    assert refused.renamed == 0 and "already belongs" in refused.errors[0][1]


def test_a37_is_reported_as_not_handled(store: Store, tmp_path: Path) -> None:
    report = load(store, tmp_path, adt("A37", "800^^^H^MR", "Finn^Gus"))
    assert report.not_handled == [(1, "ADT^A37 is not handled; apply it by hand")]
    assert report.skipped == 0 and report.errors == []


def test_mrn_type_codes_and_authority_come_from_config(store: Store, tmp_path: Path) -> None:
    feeds = FeedSettings(mrn_type_codes=["MR", "PI"], assigning_authorities=["HOSP"])
    report = load(
        store,
        tmp_path,
        # Another facility's MR first: ignored; this facility's PI is the MRN.
        adt("A04", "111^^^OTHER^MR~222^^^HOSP^PI", "Gray^Hal"),
        adt("A04", "333^^^OTHER^MR", "Hill^Ian"),
        feeds=feeds,
    )
    assert report.added == 1 and get_patient(store, "222").last_name == "Gray"
    assert report.errors == [(5, "PID-3 holds no MRN of the configured type codes and authority")]


def test_hl7_null_clears_and_empty_leaves(store: Store, tmp_path: Path) -> None:
    load(store, tmp_path, adt("A04", "900^^^H^MR", "Ito^Jun", "19800101", "F"))
    report = load(store, tmp_path, adt("A08", "900^^^H^MR", "Ito^Jun", "", ""))
    assert report.unchanged == 1
    kept = get_patient(store, "900")
    assert (kept.dob, kept.sex) == (date(1980, 1, 1), "F")
    report = load(store, tmp_path, adt("A08", "900^^^H^MR", '^""', '""', ""))
    assert report.updated == 1
    cleared = get_patient(store, "900")
    assert (cleared.last_name, cleared.first_name, cleared.dob, cleared.sex) == (
        "Ito",
        "",
        None,
        "F",
    )
    bad = load(store, tmp_path, adt("A08", "900^^^H^MR", '""^Jun'))
    assert "cannot be cleared" in bad.errors[0][1]


def fhir(mrn: str, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [
            {
                "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                "system": "urn:oid:1.2.3",
                "value": mrn,
            }
        ],
        "name": [{"family": "Jones", "given": ["Kim"]}],
    }
    resource.update(extra)
    return resource


def test_fhir_inactive_and_replaced_by_are_kept_but_marked(store: Store, tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": fhir("1001")},
            {"resource": fhir("1002", active=False)},
            {
                "resource": fhir(
                    "1003",
                    link=[{"other": {"reference": "Patient/9"}, "type": "replaced-by"}],
                )
            },
            {"resource": {"resourceType": "Patient", "name": [{"family": "X"}]}},
        ],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    feeds = FeedSettings(assigning_authorities=["urn:oid:1.2.3"])
    report = import_patients(store, path, actor=Actor("c", "cli"), feeds=feeds)
    assert report.added == 3
    assert report.numbered_by == "entry" and report.errors[0][0] == 4
    assert get_patient(store, "1001").inactive is None
    assert get_patient(store, "1002").inactive == "inactive in the patient feed"
    assert get_patient(store, "1003").inactive == "replaced by another patient record"
    other = import_patients(
        store, path, actor=Actor("c", "cli"), feeds=FeedSettings(assigning_authorities=["Z"])
    )
    assert other.added == 0 and len(other.errors) == 4


def test_a_document_is_never_auto_filed_to_an_inactive_record(store: Store, tmp_path: Path) -> None:
    from scanner.matching.filing import INACTIVE_PATIENT, FilingSettings, decide_filing
    from scanner.reading.pagetext import PageText

    def lab(mrn: str, year: int) -> list[PageText]:
        text = f"LAB REPORT\nPatient: JONES, KIM\nMRN: {mrn}\nDOB: 05/06/{year}\nHemoglobin 13"
        return [PageText(1, text, confidence=None, source="text_layer")]

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": fhir("20010001", birthDate="1970-05-06")},
            {"resource": fhir("20020002", birthDate="1981-05-06", active=False)},
        ],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    import_patients(store, path, actor=Actor("c", "cli"))
    today = date(2026, 1, 1)
    active = decide_filing(lab("20010001", 1970), store, FilingSettings(), today)
    assert (active.status, active.patient_mrn) == ("filed", "20010001")
    inactive = decide_filing(lab("20020002", 1981), store, FilingSettings(), today)
    assert (inactive.status, inactive.review_reason) == ("review", INACTIVE_PATIENT)
