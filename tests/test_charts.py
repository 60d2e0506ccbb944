"""Chart completeness against a real store: links, deficiencies opened, closed, reopened."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from chartclerk_errors import NotFoundError, PermissionDenied, StoreError
from clerk.app import App
from clerk.cli_charts import nightly_analysis
from records import deficiency_worklist as worklist
from records import operations, review
from records.audit import Actor
from records.completeness_report import completeness_report
from records.deficiency_store import analyze
from records.encounters import import_encounters, set_link
from records.letters import send_letters
from records.models import DeficiencyLetter
from records.patients import import_patients
from records.store import NewDocument

CLERK = Actor("clerk-a", "cli")
BOSS = Actor("boss", "cli")
ADMIT = datetime(2026, 10, 1, 9, 0)
DISCHARGE = datetime(2026, 10, 5, 11, 0)
NOW = datetime(2026, 10, 12, 12, 0)
HEADER = "visit_number,mrn,class,admit_at,discharge_at,attending,procedure_start,procedure_end\n"


@pytest.fixture
def site(app: App, tmp_path: Path) -> App:
    registry = tmp_path / "reg.csv"
    registry.write_text(
        "mrn,last_name,first_name,dob,sex\n"
        "10000001,Testa,Ada,1962-03-14,F\n"
        "10000002,Probe,Ben,1970-01-02,M\n"
    )
    import_patients(app.store, registry, actor=CLERK)
    feed = tmp_path / "enc.csv"
    feed.write_text(
        HEADER + "V1,10000001,inpatient,2026-10-01T09:00,2026-10-05T11:00,D1|Hale; Iris,,\n"
        "V0,10000001,inpatient,2026-06-01T09:00,2026-06-04T11:00,D1,,\n"
        "V2,10000002,outpatient,2026-10-02T07:00,2026-10-02T15:00,D2|Okafor; Ben,"
        "2026-10-02T09:00,2026-10-02T10:00\n"
    )
    import_encounters(app.store, feed, actor=CLERK, now=NOW)
    return app


def add_doc(
    app: App,
    mrn: str | None,
    doc_type: str,
    day: date | None,
    *,
    visit: str | None = None,
    status: str = "filed",
) -> int:
    return app.store.add_document(
        NewDocument(
            sha256=None,
            source_name=f"{doc_type}.pdf",
            source_path="/inbox/x.pdf",
            status=status,
            patient_mrn=mrn if status == "filed" else None,
            doc_type=doc_type,
            service_date=day,
            review_reason=None if status == "filed" else "test",
            identifiers=[("encounter", visit, 1)] if visit else [],
        )
    )


def open_rows(app: App, **filters: object) -> dict[tuple[str, str], worklist.DeficiencyView]:
    views = worklist.list_deficiencies(app.store, now=NOW, status="open", **filters)  # type: ignore[arg-type]
    return {(v.visit_number, v.rule): v for v in views}


def run(app: App, now: datetime = NOW) -> object:
    return analyze(app.store, app.settings.completeness, now=now)


def test_discharge_opens_what_is_missing_and_analysis_is_idempotent(site: App) -> None:
    add_doc(site, "10000001", "history_physical", date(2026, 10, 1), visit="V1")
    first = run(site)
    assert {k for k in open_rows(site)} == {
        ("V1", "inpatient_discharge_summary"),
        ("V0", "inpatient_history_physical"),
        ("V0", "inpatient_discharge_summary"),
        ("V2", "surgery_consent"),
        ("V2", "surgery_operative_report"),
    }
    ds = open_rows(site)[("V1", "inpatient_discharge_summary")]
    assert (ds.assigned_to, ds.rule_version, ds.patient_mrn) == ("D1", "2026.1", "10000001")
    assert ds.delinquent_at == DISCHARGE + timedelta(days=30)
    assert ds.age_days == 7 and not ds.delinquent
    assert open_rows(site)[("V2", "surgery_consent")].assigned_to == "D2"
    second = run(site)
    assert first.opened == 5 and second.opened == 0  # type: ignore[attr-defined]
    assert len(worklist.list_deficiencies(site.store, now=NOW)) == 5


def test_a_late_document_auto_closes_and_unfiling_it_reopens(site: App) -> None:
    run(site)
    doc = add_doc(site, None, "discharge_summary", date(2026, 10, 5), status="review", visit="V1")
    review.assign(site.store, doc, "10000001", actor=CLERK)  # the hook analyses the patient
    (closed,) = worklist.list_deficiencies(site.store, now=NOW, status="auto_closed")
    assert (closed.visit_number, closed.document_id) == ("V1", doc)
    detail = site.store.get_document(doc)
    assert detail.to_json()["encounter"] == {
        "visit_number": "V1",
        "why": "visit number on the page",
        "manual": False,
    }
    kinds = [e.kind for e in detail.events]
    assert "encounter linked" in kinds and "deficiency auto-closed" in kinds

    review.refile(site.store, doc, "10000002", "wrong patient", actor=CLERK)
    reopened = open_rows(site)[("V1", "inpatient_discharge_summary")]
    assert reopened.id == closed.id and reopened.document_id is None
    assert site.store.get_document(doc).to_json()["encounter"]["visit_number"] is None
    assert len(worklist.list_deficiencies(site.store, now=NOW, visit_number="V1")) == 2


def test_unfiling_a_document_reopens_the_deficiency_it_closed(site: App) -> None:
    run(site)
    doc = add_doc(site, None, "discharge_summary", date(2026, 10, 5), status="review", visit="V1")
    review.assign(site.store, doc, "10000001", actor=CLERK)
    (closed,) = worklist.list_deficiencies(site.store, now=NOW, status="auto_closed")
    operations.unfile(site.store, doc, "not this patient's", actor=CLERK)
    reopened = open_rows(site)[("V1", "inpatient_discharge_summary")]
    assert reopened.id == closed.id and reopened.document_id is None


def test_a_merge_moves_the_visits_with_the_documents(site: App, tmp_path: Path) -> None:
    add_doc(site, "10000001", "discharge_summary", date(2026, 10, 5), visit="V1")
    run(site)
    assert ("V1", "inpatient_discharge_summary") not in open_rows(site)
    merge = "\r".join(
        [
            "MSH|^~\\&|REG|HOSP|CLERK|HOSP|20261006030405||ADT^A40|MSG1|P|2.5",
            "EVN|A40|20261006030405",
            "PID|1||10000002^^^HOSP^MR||Probe^Ben||19700102|M",
            "MRG|10000001^^^HOSP^MR",
        ]
    )
    a40 = tmp_path / "merge.hl7"
    a40.write_text(merge)
    import_patients(site.store, a40, actor=CLERK)
    run(site)
    # The survivor's chart holds both the visit and its discharge summary: nothing reopens.
    assert ("V1", "inpatient_discharge_summary") not in open_rows(site)
    assert {v.patient_mrn for v in open_rows(site).values()} == {"10000002"}


def test_what_a_clerk_sets_off_is_recorded_as_that_clerk(site: App) -> None:
    run(site)
    doc = add_doc(site, None, "discharge_summary", date(2026, 10, 5), status="review", visit="V1")
    alice = Actor("alice", "web", "127.0.0.1")
    review.assign(site.store, doc, "10000001", actor=alice)
    events = site.store.get_document(doc).events
    follow_ons = [e for e in events if e.kind in ("encounter linked", "deficiency auto-closed")]
    assert follow_ons and all(e.actor == "alice" for e in follow_ons)


def test_out_of_window_and_patient_level_documents_are_suggested(site: App) -> None:
    early = add_doc(site, "10000001", "history_physical", date(2026, 5, 1), visit="V0")
    loose = add_doc(site, "10000001", "discharge_summary", date(2026, 10, 20))
    run(site)
    rows = open_rows(site)
    assert rows[("V0", "inpatient_history_physical")].suggested_document_id == early
    assert rows[("V1", "inpatient_discharge_summary")].suggested_document_id == loose
    assert rows[("V0", "inpatient_discharge_summary")].suggested_document_id is None
    why = site.store.get_document(loose).to_json()["encounter"]["why"]
    assert why == "service date outside every encounter"
    # A clerk decides: the link is theirs and sticks, and the document then closes V1's.
    set_link(site.store, loose, "V1", actor=CLERK, now=NOW)
    run(site)
    assert ("V1", "inpatient_discharge_summary") not in open_rows(site)
    assert site.store.get_document(loose).to_json()["encounter"]["manual"] is True
    # Out of window stays open until a clerk completes it; then analysis leaves it be.
    hp = rows[("V0", "inpatient_history_physical")]
    view = worklist.complete(site.store, hp.id, early, actor=CLERK, now=NOW)
    assert (view.status, view.document_id, view.closed_by) == ("completed", early, "clerk-a")
    run(site)
    assert ("V0", "inpatient_history_physical") not in open_rows(site)


def test_a_wrong_encounter_document_satisfies_nothing_here(site: App) -> None:
    add_doc(site, "10000001", "discharge_summary", date(2026, 10, 5), visit="V0")
    run(site)
    rows = open_rows(site)
    assert ("V1", "inpatient_discharge_summary") in rows
    # It is V0's, dated outside V0's window: suggested there, not closed.
    assert rows[("V0", "inpatient_discharge_summary")].suggested_document_id is not None


def test_complete_waive_and_mark_are_checked_and_audited(site: App) -> None:
    run(site)
    rows = open_rows(site)
    consent = rows[("V2", "surgery_consent")]
    other = add_doc(site, "10000001", "consent", date(2026, 10, 2))
    with pytest.raises(StoreError, match="not filed to this encounter's patient"):
        worklist.complete(site.store, consent.id, other, actor=CLERK, now=NOW)
    with pytest.raises(PermissionDenied):
        worklist.waive(site.store, consent.id, "why not", actor=CLERK, role="clerk", now=NOW)
    with pytest.raises(StoreError, match="reason"):
        worklist.waive(site.store, consent.id, "  ", actor=BOSS, role="supervisor", now=NOW)
    waived = worklist.waive(
        site.store, consent.id, "emergency procedure", actor=BOSS, role="supervisor", now=NOW
    )
    assert (waived.status, waived.closed_by, waived.reason) == (
        "waived",
        "boss",
        "emergency procedure",
    )
    run(site)
    assert ("V2", "surgery_consent") not in open_rows(site)  # a waiver is not undone by analysis
    with pytest.raises(StoreError, match="waived, not open"):
        worklist.waive(site.store, consent.id, "again", actor=BOSS, role="supervisor", now=NOW)

    op_note = add_doc(site, "10000002", "operative_report", date(2026, 10, 2), visit="V2")
    run(site)
    settings = site.settings.completeness
    marked = worklist.mark(site.store, op_note, "missing_signature", settings, actor=CLERK, now=NOW)
    again = worklist.mark(site.store, op_note, "missing_signature", settings, actor=CLERK, now=NOW)
    assert marked.id == again.id and marked.kind == "missing_signature"
    assert marked.document_id == op_note and marked.assigned_to == "D2"
    cleared = worklist.mark(
        site.store, op_note, "missing_signature", settings, actor=CLERK, now=NOW, clear=True
    )
    assert cleared.status == "completed"
    with pytest.raises(NotFoundError):
        worklist.mark(
            site.store, op_note, "missing_signature", settings, actor=CLERK, now=NOW, clear=True
        )
    with pytest.raises(StoreError, match="unknown check"):
        worklist.mark(site.store, op_note, "missing_smile", settings, actor=CLERK, now=NOW)
    loose = add_doc(site, "10000002", "progress_note", date(2025, 1, 1))
    run(site)
    with pytest.raises(StoreError, match="link it first"):
        worklist.mark(site.store, loose, "missing_datetime", settings, actor=CLERK, now=NOW)
    trail = [e["kind"] for e in site.store.list_events(limit=500)]
    for action in ("deficiency waived", "deficiency marked", "deficiency mark cleared"):
        assert action in trail


def test_cancelled_encounters_and_discharges_withdraw_their_deficiencies(
    site: App, tmp_path: Path
) -> None:
    run(site)
    feed = tmp_path / "cancel.hl7"
    feed.write_text(
        "MSH|^~\\&|EPIC|GEN|CC|HIM|20261010||ADT^A13|1|P|2.5.1\rPID|1||10000001^^^G^MR\r"
        "PV1|1|I|||||||||||||||||V1\n"
        "MSH|^~\\&|EPIC|GEN|CC|HIM|20261010||ADT^A11|2|P|2.5.1\rPID|1||10000001^^^G^MR\r"
        "PV1|1|I|||||||||||||||||V0\n"
    )
    report = import_encounters(site.store, feed, actor=CLERK, now=NOW)
    assert (report.discharges_cancelled, report.cancelled) == (1, 1)
    result = run(site)
    assert result.withdrawn == 4  # type: ignore[attr-defined]
    assert {k[0] for k in open_rows(site)} == {"V2"}


def test_letters_and_the_report(site: App, tmp_path: Path) -> None:
    run(site)
    late = NOW + timedelta(days=20)  # 27 days after V1's discharge: a final notice
    sent = send_letters(
        site.store, site.settings.completeness, tmp_path / "out", now=late, actor=CLERK
    )
    assert [(s.provider_id, s.level, s.items) for s in sent] == [
        ("D1", "final", 4),
        ("D2", "final", 2),
    ]
    for letter in sent:
        assert letter.path.read_bytes().startswith(b"%PDF")
    views = worklist.list_deficiencies(site.store, now=late, provider="D1")
    assert all(v.letters and v.letters[0]["level"] == "final" for v in views)
    with site.store.session() as s:
        assert s.query(DeficiencyLetter).count() == 6
    only = send_letters(
        site.store,
        site.settings.completeness,
        tmp_path / "out2",
        now=NOW,
        actor=CLERK,
        provider="D2",
    )
    assert [(s.provider_id, s.level) for s in only] == [("D2", "courtesy")]

    report = completeness_report(site.store, site.settings.completeness, now=late)
    assert report["open"] == 6
    # V0 was discharged in June: its two are delinquent (> 30 days), in the > 30 bucket.
    assert report["delinquent"] == 2 and report["delinquent_charts"] == 1
    assert report["by_age"]["open"] == {"0-7": 0, "8-14": 0, "15-21": 0, "22-30": 4, ">30": 2}
    assert report["by_provider"]["D1"]["delinquent"] == 2
    # Two discharges in the three months before the report (V0's was in June).
    assert report["average_monthly_discharges"] == pytest.approx(0.67)
    assert report["delinquency_rate"] == pytest.approx(1.5)
    assert report["auto_close_rate"] is None
    json.dumps(report)


def test_the_daemons_periodic_analysis_opens_and_survives_a_locked_store(
    site: App, caplog: pytest.LogCaptureFixture
) -> None:
    task = nightly_analysis(site)
    task(None)
    assert len(worklist.list_deficiencies(site.store, now=NOW, status="open")) == 6

    def locked() -> None:
        raise StoreError("database: database is locked")

    site.store.sessions = locked  # type: ignore[assignment]
    task(None)  # logged, not raised: the watcher's thread goes on
    assert "chart analysis failed" in caplog.text
