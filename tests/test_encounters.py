"""Encounters from HL7 v2 ADT streams and CSV, into the store (synthetic patients only)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from chartclerk_errors import ImportFileError
from clerk.app import App
from records.audit import Actor
from records.encounter_feed import (
    BadEncounter,
    DischargeCancel,
    EncounterCancel,
    EncounterUpsert,
    read_csv,
)
from records.encounters import import_encounters, list_encounters
from records.hl7_encounters import read_messages

CLERK = Actor("clerk-a", "cli")
BOSS = Actor("boss", "cli")
NOW = datetime(2026, 11, 20, 12, 0)


def msh(event: str, control: str, at: str = "20261101083000") -> str:
    return f"MSH|^~\\&|EPIC|GENHOSP|CHARTCLERK|HIM|{at}||ADT^{event}^ADT_{event}|{control}|P|2.5.1"


PID = (
    "PID|1||10000001^^^GENHOSP^MR~555-12-0000^^^SSA^SS||Testa^Ada^M||19620314|F|||"
    "1 Main St^^Springfield^IL|||||||ACCT77"
)
PV1_ADMIT = (
    "PV1|1|I|4W^401^A^GENHOSP||||D1001^Hale^Iris^^^Dr|D2002^Okafor^Ben||MED|||||||||V5001|||||||||||||||||||||||||"
    "202611010830"
)
ADT_STREAM = "\r".join(
    [
        msh("A01", "MSG0001"),
        "EVN|A01|20261101083000",
        PID,
        PV1_ADMIT,
        "",
        msh("A02", "MSG0002", "20261102101500"),
        "EVN|A02|20261102101500",
        PID,
        PV1_ADMIT.replace("4W^401^A", "ICU^12^B").replace("D1001^Hale^Iris", "D1003^Nguyen^Lan"),
        "",
        msh("A08", "MSG0003", "20261102110000"),
        "EVN|A08|20261102110000",
        PID,
        PV1_ADMIT.replace("D1001^Hale^Iris", "D1003^Nguyen^Lan"),
        "PR1|1||0DTJ4ZZ^Appendectomy^ICD10PCS||202611021300||90||||D3003^Moreau^Paul",
        "",
        msh("A03", "MSG0004", "20261105140000"),
        "EVN|A03|20261105140000",
        PID,
        PV1_ADMIT.replace("D1001^Hale^Iris", "D1003^Nguyen^Lan") + "|202611051400",
        "",
    ]
)


def test_an_adt_stream_reads_as_admit_transfer_update_discharge() -> None:
    items = list(read_messages(ADT_STREAM))
    assert [type(i).__name__ for i in items] == ["EncounterUpsert"] * 4
    admit, transfer, update, discharge = items
    assert isinstance(admit, EncounterUpsert) and isinstance(discharge, EncounterUpsert)
    assert admit.record.visit_number == "V5001"
    assert admit.record.mrn == "10000001"
    assert admit.record.patient_class == "inpatient"
    assert admit.record.admit_at == datetime(2026, 11, 1, 8, 30)
    assert admit.record.attending is not None
    assert (admit.record.attending.id, admit.record.attending.name) == ("D1001", "Hale, Iris")
    assert admit.record.discharge_at is None
    assert isinstance(transfer, EncounterUpsert) and transfer.event == "A02"
    assert transfer.record.attending is not None and transfer.record.attending.id == "D1003"
    assert isinstance(update, EncounterUpsert)
    assert update.record.procedure_start == datetime(2026, 11, 2, 13, 0)
    assert update.record.surgeon is not None and update.record.surgeon.id == "D3003"
    assert update.record.procedure_end == datetime(2026, 11, 2, 14, 30)
    assert discharge.record.discharge_at == datetime(2026, 11, 5, 14, 0)


def test_cancel_admit_and_cancel_discharge() -> None:
    stream = "\n".join(
        [msh("A11", "C1"), PID, PV1_ADMIT, msh("A13", "C2"), PID, PV1_ADMIT, msh("A28", "C3"), PID]
    )
    items = list(read_messages(stream))
    assert isinstance(items[0], EncounterCancel) and items[0].visit_number == "V5001"
    assert isinstance(items[1], DischargeCancel) and items[1].visit_number == "V5001"
    assert type(items[2]).__name__ == "SkippedEncounter"


def test_a03_without_pv1_45_takes_the_event_time_and_bad_messages_are_reported() -> None:
    stream = "\r".join([msh("A03", "D1"), "EVN|A03|202611051600", PID, PV1_ADMIT])
    (item,) = read_messages(stream)
    assert isinstance(item, EncounterUpsert)
    assert item.record.discharge_at == datetime(2026, 11, 5, 16, 0)
    no_visit = "\r".join([msh("A01", "D2"), PID.replace("ACCT77", ""), "PV1|1|I"])
    (bad,) = read_messages(no_visit)
    assert isinstance(bad, BadEncounter) and bad.message == "missing visit number"
    no_pv1 = "\r".join([msh("A01", "D3"), PID])
    (bad,) = read_messages(no_pv1)
    assert isinstance(bad, BadEncounter) and "PV1" in bad.message
    zoned = "\r".join(
        [msh("A01", "D4"), PID, PV1_ADMIT.replace("202611010830", "202611010830-0500")]
    )
    (item,) = read_messages(zoned)
    assert isinstance(item, EncounterUpsert) and item.record.admit_at == datetime(
        2026, 11, 1, 13, 30
    )


def test_pid_18_account_number_stands_in_for_an_empty_pv1_19() -> None:
    stream = "\r".join([msh("A04", "E1"), PID, "PV1|1|O|CLINIC||||D1001^Hale^Iris"])
    (item,) = read_messages(stream)
    assert isinstance(item, EncounterUpsert)
    assert (item.record.visit_number, item.record.patient_class) == ("ACCT77", "outpatient")


CSV = """visit_number,mrn,class,admit_at,discharge_at,attending,procedure_start,procedure_end
V1,10000001,inpatient,2026-11-01T08:30,2026-11-05 14:00,D1001|Hale; Iris,,
V2,10000002,O,2026-11-03T07:00,2026-11-03T15:00,D1002,2026-11-03T09:00,2026-11-03T10:30
V3,10000003,inpatient,2026-11-05T08:00,2026-11-04T08:00,D1001,,
V4,10000004,ward,2026-11-05T08:00,,,,
V5,10000005,inpatient,yesterday,,,,
"""


def test_csv_rows_and_their_errors() -> None:
    items = list(read_csv(CSV))
    assert isinstance(items[0], EncounterUpsert)
    assert items[0].record.attending is not None and items[0].record.attending.name == "Hale; Iris"
    assert items[0].record.discharge_at == datetime(2026, 11, 5, 14, 0)
    assert isinstance(items[1], EncounterUpsert)
    assert items[1].record.patient_class == "outpatient"
    assert items[1].record.procedure_end == datetime(2026, 11, 3, 10, 30)
    errors = [(i.number, i.message) for i in items if isinstance(i, BadEncounter)]
    assert errors == [
        (4, "discharge_at is before admit_at"),
        (5, "class is not an HL7 patient class code or a known class word"),
        (6, "admit_at is not an ISO 8601 date-time"),
    ]


def test_import_applies_the_stream_in_order(app: App, tmp_path: Path) -> None:
    feed = tmp_path / "adt.hl7"
    feed.write_text(ADT_STREAM)
    report = import_encounters(app.store, feed, actor=CLERK, now=NOW)
    assert (report.format, report.added, report.updated, report.discharged) == ("hl7v2", 1, 3, 1)
    assert report.touched == {"10000001"}
    (encounter,) = list_encounters(app.store, patient_mrn="10000001")
    assert encounter.attending_id == "D1003"
    assert encounter.attending_name == "Nguyen, Lan"
    assert encounter.surgeon_id == "D3003"
    assert encounter.discharge_at == datetime(2026, 11, 5, 14, 0)
    # Replayed, the stream changes the attending back and forth and ends where it was.
    again = import_encounters(app.store, feed, actor=CLERK, now=NOW)
    assert (again.added, again.updated, again.unchanged) == (0, 2, 2)
    assert list_encounters(app.store) == [encounter]
    last = tmp_path / "a03.hl7"
    last.write_text(ADT_STREAM[ADT_STREAM.index(msh("A03", "MSG0004", "20261105140000")) :])
    once_more = import_encounters(app.store, last, actor=CLERK, now=NOW)
    assert (once_more.unchanged, once_more.touched) == (1, set())

    cancels = tmp_path / "cancel.hl7"
    cancels.write_text("\r".join([msh("A13", "X1"), PID, PV1_ADMIT]))
    import_encounters(app.store, cancels, actor=CLERK, now=NOW)
    assert list_encounters(app.store)[0].discharge_at is None
    cancels.write_text("\r".join([msh("A11", "X2"), PID, PV1_ADMIT]))
    import_encounters(app.store, cancels, actor=CLERK, now=NOW)
    assert list_encounters(app.store)[0].status == "cancelled"


def test_a_visit_number_of_another_patient_is_refused(app: App, tmp_path: Path) -> None:
    feed = tmp_path / "enc.csv"
    feed.write_text(
        CSV.splitlines()[0] + "\nV1,10000001,I,2026-11-01T08:00,,,,\nV1,10000009,I,,,,,\n"
    )
    report = import_encounters(app.store, feed, actor=CLERK, now=NOW)
    assert report.added == 1
    assert report.errors == [(3, "visit number belongs to another patient")]


def test_unknown_formats_are_import_errors(tmp_path: Path, app: App) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("mrn,last_name\n1,2\n")
    with pytest.raises(ImportFileError, match="unknown format"):
        import_encounters(app.store, bad, actor=CLERK, now=NOW)
