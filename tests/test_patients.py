"""The patient master index: imports in every format, merges, and candidate lookup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from chartclerk_errors import ImportFileError, NotFoundError
from records.audit import Actor
from records.candidates import (
    CandidateQuery,
    NameBlock,
    find_candidates,
    given_name_vocabulary,
    surname_vocabulary,
)
from records.patient_records import lookup_keys
from records.patients import (
    count_patients,
    get_patient,
    import_patients,
    list_patients,
    name_key,
)
from records.settings import StoreSettings
from records.store import NewDocument, Store

HEADER = "mrn,last_name,first_name,dob,sex\n"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    settings = StoreSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        archive_dir=tmp_path / "archive",
        quarantine_dir=tmp_path / "q",
    )
    store = Store(settings)
    yield store
    store.close()


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def csv_file(tmp_path: Path, rows: list[str], name: str = "reg.csv") -> Path:
    return write(tmp_path, name, HEADER + "\n".join(rows) + "\n")


ROWS = [
    "10000001,Garcia-Lopez,Ana,1980-01-02,F",
    "10000002,O'Brien,Sean,1975-03-04,M",
    "10000003,Smith,John,1990-05-06,M",
]


# -- name keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("O'Brien", "OBrien"),
        ("O'Brien", "O Brien"),
        ("O’Brien", "obrien"),
        ("Muñoz", "Munoz"),
        ("Van der Berg", "Vanderberg"),
        ("Garcia-Lopez", "Garcia"),
    ],
)
def test_name_key_agrees(a: str, b: str) -> None:
    assert name_key(a) == name_key(b) != ""


def test_lookup_keys_cover_each_part_of_a_double_name() -> None:
    assert name_key("Garcia-Lopez") in lookup_keys("Garcia Lopez")
    assert name_key("Garcia") in lookup_keys("Garcia-Lopez")
    assert lookup_keys("123") == set()


# -- CSV --------------------------------------------------------------------------------------


def test_csv_import_then_reimport_updates_without_duplicates(store: Store, tmp_path: Path) -> None:
    report = import_patients(store, csv_file(tmp_path, ROWS), actor=Actor("clerk1", "cli"))
    assert (report.format, report.added, report.updated, report.unchanged) == ("csv", 3, 0, 0)
    assert report.errors == []

    changed = [*ROWS[:2], "10000003,Smith,Johnny,1990-05-06,M", "10000004,Doe,Jane,,"]
    report = import_patients(
        store, csv_file(tmp_path, changed, "two.csv"), actor=Actor("clerk1", "cli")
    )
    assert (report.added, report.updated, report.unchanged) == (1, 1, 2)
    assert count_patients(store) == 4
    assert get_patient(store, "10000003").first_name == "Johnny"
    jane = get_patient(store, "10000004")
    assert (jane.dob, jane.sex) == (None, None)


def test_bad_rows_are_reported_by_line_and_the_rest_loads(store: Store, tmp_path: Path) -> None:
    rows = [
        ROWS[0],
        ",Nomrn,Ann,1980-01-01,F",  # line 3
        "20000002,Baddate,Bob,1980-02-30,M",  # line 4
        "20000003,Wrongfmt,Cy,02/03/1980,M",  # line 5
        "20000004,Short,Di",  # line 6
        "20000005,Sex,Ed,1980-01-01,X",  # line 7
        ROWS[1],
    ]
    report = import_patients(store, csv_file(tmp_path, rows), actor=Actor("clerk1", "cli"))
    assert report.added == 2
    assert [line for line, _ in report.errors] == [3, 4, 5, 6, 7]
    assert "missing MRN" in report.errors[0][1]
    # Messages name the problem, never the value (PHI).
    assert all("1980" not in msg and "Bob" not in msg for _, msg in report.errors)
    assert count_patients(store) == 2


def test_csv_with_bom_and_whitespace(store: Store, tmp_path: Path) -> None:
    text = "\ufeff\n mrn , last_name,first_name ,dob,sex\r\n"
    text += " 30000001 , Smith , Ann , 1980-01-02 , f \r\n"
    report = import_patients(store, write(tmp_path, "bom.csv", text), actor=Actor("clerk1", "cli"))
    assert (report.added, report.errors) == (1, [])
    patient = get_patient(store, "30000001")
    assert (patient.last_name, patient.first_name, patient.sex) == ("Smith", "Ann", "F")
    assert patient.dob == date(1980, 1, 2)


def test_import_writes_one_audit_event_without_phi(store: Store, tmp_path: Path) -> None:
    import_patients(store, csv_file(tmp_path, ROWS), actor=Actor("clerk9", "cli"))
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT actor, action, detail, document_ids FROM audit_log"
        ).all()
    assert len(rows) == 1
    actor, kind, detail, document_ids = rows[0]
    assert (actor, kind, document_ids) == ("clerk9", "patients imported", "[]")
    assert json.loads(detail)["added"] == 3
    assert "10000001" not in detail and "Smith" not in detail


@pytest.mark.parametrize(
    ("name", "content", "encoding"),
    [
        ("notes.txt", "hello, this is not a patient file\n", "utf-8"),
        ("latin.csv", HEADER + "1,Müller,Ann,1980-01-01,F\n", "latin-1"),
        ("empty.csv", "  \n", "utf-8"),
        ("other.json", '{"resourceType": "Observation"}', "utf-8"),
        ("broken.json", '{"resourceType": ', "utf-8"),
    ],
)
def test_unreadable_files_raise(
    store: Store, tmp_path: Path, name: str, content: str, encoding: str
) -> None:
    with pytest.raises(ImportFileError) as caught:
        import_patients(
            store, write(tmp_path, name, content, encoding), actor=Actor("clerk1", "cli")
        )
    assert "\n" not in str(caught.value)


def test_missing_file_raises(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        import_patients(store, tmp_path / "absent.csv", actor=Actor("clerk1", "cli"))


# -- FHIR -------------------------------------------------------------------------------------


def fhir_patient(mrn: str | None, family: str, given: str, **extra: Any) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = [
        # A non-MR identifier first: it must be ignored.
        {
            "type": {"coding": [{"system": V2_0203, "code": "SS"}]},
            "system": "http://hl7.org/fhir/sid/us-ssn",
            "value": "999-00-0000",
        }
    ]
    if mrn:
        identifiers.append({"type": {"coding": [{"system": V2_0203, "code": "MR"}]}, "value": mrn})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": identifiers,
        "name": [
            {"use": "nickname", "family": "Nick", "given": ["Nicky"]},
            {"use": "official", "family": family, "given": [given, "Middle"]},
        ],
    }
    resource.update(extra)
    return resource


def test_fhir_bundle(store: Store, tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": fhir_patient(
                    "40000001", "Nguyen", "Linh", gender="female", birthDate="1985-07-08"
                )
            },
            {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}},
            {"resource": fhir_patient(None, "Nomrn", "Ann")},
            {"resource": fhir_patient("40000004", "Baddate", "Al", birthDate="1985-13-01")},
            {"resource": fhir_patient("40000005", "Patel", "Raj", gender="male")},
        ],
    }
    path = write(tmp_path, "bundle.json", json.dumps(bundle))
    report = import_patients(store, path, actor=Actor("clerk1", "cli"))
    assert (report.format, report.added, report.skipped) == ("fhir-bundle", 2, 1)
    assert [number for number, _ in report.errors] == [3, 4]
    nguyen = get_patient(store, "40000001")
    assert (nguyen.last_name, nguyen.first_name) == ("Nguyen", "Linh")
    assert (nguyen.dob, nguyen.sex) == (date(1985, 7, 8), "F")
    assert get_patient(store, "40000005").sex == "M"
    with pytest.raises(NotFoundError):
        get_patient(store, "999-00-0000")


def test_fhir_ndjson(store: Store, tmp_path: Path) -> None:
    lines = [
        json.dumps(fhir_patient("50000001", "Kowalski", "Jan", gender="other")),
        "",
        "{not json",
        json.dumps(
            fhir_patient("50000002", "Okafor", "Ada", gender="unknown", birthDate="2001-02-03")
        ),
    ]
    report = import_patients(
        store, write(tmp_path, "p.ndjson", "\n".join(lines)), actor=Actor("c", "cli")
    )
    assert (report.format, report.added, report.errors) == (
        "fhir-ndjson",
        2,
        [(3, "line is not valid JSON")],
    )
    assert get_patient(store, "50000001").sex == "O"
    assert get_patient(store, "50000002").sex == "U"


# -- HL7 v2 -----------------------------------------------------------------------------------


def adt(event: str, pid3: str, name: str, dob: str = "", sex: str = "", mrg: str = "") -> str:
    segments = [
        f"MSH|^~\\&|REG|HOSP|CLERK|HOSP|20240102030405||ADT^{event}|MSG{event}|P|2.5",
        f"EVN|{event}|20240102030405",
        f"PID|1||{pid3}||{name}||{dob}|{sex}",
    ]
    if mrg:
        segments.append(f"MRG|{mrg}")
    return "\r".join(segments)


def test_hl7_add_update_and_bad_message(store: Store, tmp_path: Path) -> None:
    text = "\n\n".join(
        [
            adt("A04", "123-45-6789^^^SSA^SS~60000001^^^HOSP^MR", "Lee^Min^J", "19700203", "F"),
            adt("A04", "60000002^^^HOSP^MR", "Bad^Date", "19701340"),
            adt("A03", "60000001^^^HOSP^MR", "Lee^Min"),
        ]
    )
    report = import_patients(store, write(tmp_path, "adt.hl7", text), actor=Actor("clerk1", "cli"))
    assert (report.format, report.added, report.skipped) == ("hl7v2", 1, 1)
    assert len(report.errors) == 1 and "PID-7" in report.errors[0][1]
    lee = get_patient(store, "60000001")
    assert (lee.last_name, lee.first_name, lee.dob, lee.sex) == (
        "Lee",
        "Min",
        date(1970, 2, 3),
        "F",
    )

    update = adt("A08", "60000001^^^HOSP^MR", "Lee-Park^Min", "197002031200", "F")
    report = import_patients(
        store, write(tmp_path, "a08.hl7", update + "\r"), actor=Actor("clerk1", "cli")
    )
    assert (report.added, report.updated) == (0, 1)
    assert get_patient(store, "60000001").last_name == "Lee-Park"


def test_hl7_unparsable_segment_is_reported(store: Store, tmp_path: Path) -> None:
    good = adt("A04", "61000001^^^HOSP^MR", "Ray^Al")
    bad = adt("A04", "61000002^^^HOSP^MR", "Roy^Bo").replace("PID|", "P@D|")
    text = good.replace("\r", "\n") + "\n" + bad.replace("\r", "\n") + "\n"
    report = import_patients(store, write(tmp_path, "x.hl7", text), actor=Actor("clerk1", "cli"))
    assert report.added == 1
    assert report.errors == [(6, "unparsable segment")]


def test_hl7_a40_merge_moves_documents_and_keeps_the_trail(store: Store, tmp_path: Path) -> None:
    import_patients(
        store,
        csv_file(tmp_path, ["70000001,Adams,Eve,1960-01-01,F", "70000002,Adams,Eve,1960-01-01,F"]),
        actor=Actor("clerk1", "cli"),
    )
    doc_id = store.add_document(
        NewDocument(
            sha256="a" * 64,
            source_name="scan.pdf",
            source_path="/inbox/scan.pdf",
            status="filed",
            patient_mrn="70000002",
            events=[("filed", {"mrn": "70000002"})],
        )
    )
    merge = adt("A40", "70000001^^^HOSP^MR", "Adams^Eve", "19600101", "F", mrg="70000002^^^HOSP^MR")
    path = write(tmp_path, "a40.hl7", merge)
    report = import_patients(store, path, actor=Actor("clerk2", "cli"))
    assert (report.merged, report.documents_moved, report.unchanged) == (1, 1, 1)

    prior = get_patient(store, "70000002")
    assert prior.merged_into == "70000001"
    detail = store.get_document(doc_id)
    assert detail.summary.patient_mrn == "70000001"
    assert [e.kind for e in detail.events] == ["filed", "patient merged"]
    moved = detail.events[-1]
    assert (moved.actor, moved.detail) == ("clerk2", {"from": "70000002", "to": "70000001"})

    again = import_patients(store, path, actor=Actor("clerk2", "cli"))
    assert (again.merged, again.documents_moved) == (0, 0)
    assert len(store.get_document(doc_id).events) == 2


def test_a40_with_unknown_prior_keeps_a_trail_row(store: Store, tmp_path: Path) -> None:
    merge = adt("A40", "71000001^^^HOSP^MR", "Bell^Cy", "19500505", "M", mrg="71000009")
    report = import_patients(store, write(tmp_path, "a40.hl7", merge), actor=Actor("clerk1", "cli"))
    assert (report.added, report.merged) == (1, 1)
    assert get_patient(store, "71000009").merged_into == "71000001"


# -- candidates and listing --------------------------------------------------------------------


@pytest.fixture
def registry(store: Store, tmp_path: Path) -> Store:
    rows = [
        *ROWS,
        "10000004,OBrien,Maeve,1950-09-09,F",
        "10000005,Lopez,Rosa,1980-01-02,F",
        "10000006,Brown,Tom,1966-06-06,M",
        "10000007,Smyth,Jane,1991-01-01,F",
    ]
    import_patients(store, csv_file(tmp_path, rows), actor=Actor("clerk1", "cli"))
    return store


def mrns_of(views: list[Any]) -> set[str]:
    return {v.mrn for v in views}


def lookup(store: Store, query: CandidateQuery, limit: int = 100) -> set[str]:
    found = find_candidates(store, query, limit=limit)
    assert not found.overflow
    return {v.mrn for v in found.patients}


def block(last: set[str] | None, first: set[str] | None = None, undated: bool = False) -> NameBlock:
    return NameBlock(
        None if last is None else frozenset(last),
        None if first is None else frozenset(first),
        undated,
    )


def test_find_candidates_by_mrn_dob_and_name_block(registry: Store) -> None:
    assert lookup(registry, CandidateQuery(mrns=("10000006",))) == {"10000006"}
    # Leading zeros are not significant, either way round.
    assert lookup(registry, CandidateQuery(mrns=("0010000006",))) == {"10000006"}
    assert lookup(registry, CandidateQuery(dobs=(date(1980, 1, 2),))) == {"10000001", "10000005"}
    assert lookup(registry, CandidateQuery(blocks=(block({"OBRIEN"}),))) == {
        "10000002",
        "10000004",
    }
    assert lookup(registry, CandidateQuery(blocks=(block({"SMITH", "SMYTH"}, {"JANE"}),))) == {
        "10000007"
    }
    assert lookup(registry, CandidateQuery()) == set()


def test_find_candidates_never_cuts_a_block(registry: Store) -> None:
    found = find_candidates(registry, CandidateQuery(blocks=(block(None),)), limit=6)
    assert found.overflow and found.patients == ()
    assert len(lookup(registry, CandidateQuery(blocks=(block(None),)), limit=7)) == 7


def test_surname_vocabulary_follows_imports(registry: Store, tmp_path: Path) -> None:
    vocabulary = surname_vocabulary(registry, undated_only=False)
    assert "GARCIALOPEZ" in vocabulary.by_part["LOPEZ"]
    assert vocabulary.parts["GARCIALOPEZ"] == {("GARCIA", "LOPEZ")}
    assert "SØRENSEN" not in vocabulary.keys and "SORENSEN" not in vocabulary.keys
    assert surname_vocabulary(registry, undated_only=True).keys == ()
    assert "ASE" not in given_name_vocabulary(registry).keys
    import_patients(
        registry, csv_file(tmp_path, ["20000001,Sørensen,Åse,,F"], "b.csv"), actor=Actor("c", "cli")
    )
    assert "SORENSEN" in surname_vocabulary(registry, undated_only=False).keys
    assert surname_vocabulary(registry, undated_only=True).keys == ("SORENSEN",)
    assert "ASE" in given_name_vocabulary(registry).keys


def test_find_candidates_follows_a_merge_to_the_survivor(registry: Store, tmp_path: Path) -> None:
    merge = adt("A40", "10000003^^^H^MR", "Smith^John", "19900506", "M", mrg="10000007^^^H^MR")
    import_patients(registry, write(tmp_path, "m.hl7", merge), actor=Actor("clerk1", "cli"))
    found = find_candidates(registry, CandidateQuery(mrns=("10000007",)), limit=10)
    assert [(v.mrn, v.merged_into) for v in found.patients] == [
        ("10000007", "10000003"),
        ("10000003", None),
    ]


def test_list_get_count(registry: Store) -> None:
    assert count_patients(registry) == 7
    assert [p.last_name for p in list_patients(registry, limit=3)] == [
        "Brown",
        "Garcia-Lopez",
        "Lopez",
    ]
    assert mrns_of(list_patients(registry, query="smyth")) == {"10000003", "10000007"}
    assert mrns_of(list_patients(registry, query="Smith, Ja")) == {"10000007"}
    assert mrns_of(list_patients(registry, query="1950-09-09")) == {"10000004"}
    assert mrns_of(list_patients(registry, query="10000006")) == {"10000006"}
    with pytest.raises(NotFoundError) as caught:
        get_patient(registry, "nope")
    assert "nope" not in str(caught.value)
