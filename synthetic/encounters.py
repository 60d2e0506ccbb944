"""Synthetic encounters and the chart documents that arrive for them, with ground truth.

Each discharged encounter needs the documents of the default completeness rules (H&P and,
for stays of 48 h or more, a discharge summary for inpatients; consent and operative report
around a procedure). For every such requirement the generator picks what happens:

- ``on_time``: filed before the first analysis, in window, naming the visit (or, for half
  of them, carrying only a service date inside the stay) → no deficiency ever opens.
- ``late``: filed after the first analysis → opened, then auto-closed by that document.
- ``never``: nothing arrives → stays open.
- ``wrong_encounter``: arrives naming the patient's other encounter → stays open here.
- ``out_of_window``: names the visit but is dated outside the rule's window → stays open
  (the document is suggested to a clerk).
- ``in_review``: arrives but waits in the review queue (not filed) → stays open.

The expected deficiencies are worked out here from these fates, independently of
``records.deficiencies``, so the benchmark measures the analysis against ground truth.
Everything is invented; visit numbers and MRNs are synthetic.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from records.store import NewDocument

FATES = ("on_time", "late", "never", "wrong_encounter", "out_of_window", "in_review")
FATE_WEIGHTS = (50, 15, 10, 7, 8, 10)
NOISE_TYPES = ("lab_report", "radiology_report", "progress_note", "consult_note")
HEADER = "visit_number,mrn,class,admit_at,discharge_at,attending,procedure_start,procedure_end"


@dataclass(frozen=True)
class SyntheticEncounter:
    """One invented visit."""

    visit_number: str
    mrn: str
    patient_class: str
    admit_at: datetime
    discharge_at: datetime | None
    attending: str
    procedure_start: datetime | None = None
    procedure_end: datetime | None = None


@dataclass(frozen=True)
class SyntheticChartDocument:
    """A document that arrives for a chart; ``late`` ones arrive after the first analysis."""

    key: int
    mrn: str
    doc_type: str
    service_date: date | None
    visit_on_page: str | None
    status: str
    late: bool
    fate: str
    for_visit: str | None
    rule: str | None


@dataclass
class ChartSet:
    """Encounters, documents, and what analysis must find at the end."""

    encounters: list[SyntheticEncounter]
    documents: list[SyntheticChartDocument]
    first_analysis_at: datetime
    second_analysis_at: datetime
    expected_open: set[tuple[str, str]] = field(default_factory=set)
    expected_auto_closed: dict[tuple[str, str], int] = field(default_factory=dict)
    fates: dict[str, int] = field(default_factory=dict)


def required_rules(encounter: SyntheticEncounter) -> list[tuple[str, str]]:
    """(rule, doc_type) pairs the default rules require of a discharged encounter."""
    needed = []
    if encounter.patient_class == "inpatient":
        needed.append(("inpatient_history_physical", "history_physical"))
        stay = (encounter.discharge_at or encounter.admit_at) - encounter.admit_at
        if stay >= timedelta(hours=48):
            needed.append(("inpatient_discharge_summary", "discharge_summary"))
    if encounter.procedure_start is not None:
        needed.append(("surgery_consent", "consent"))
        needed.append(("surgery_operative_report", "operative_report"))
    return needed


def _in_window_day(encounter: SyntheticEncounter, rule: str) -> date:
    """A day inside both the rule's window and the stay (so a date alone links it)."""
    if rule == "inpatient_history_physical":
        return encounter.admit_at.date()
    if rule == "inpatient_discharge_summary":
        assert encounter.discharge_at is not None
        return encounter.discharge_at.date()
    assert encounter.procedure_start is not None
    return encounter.procedure_start.date()


def _out_of_window_day(encounter: SyntheticEncounter, rule: str) -> date:
    if rule == "inpatient_discharge_summary":
        assert encounter.discharge_at is not None
        return encounter.discharge_at.date() + timedelta(days=45)
    if rule == "surgery_operative_report":
        assert encounter.procedure_start is not None
        return encounter.procedure_start.date() + timedelta(days=5)
    return encounter.admit_at.date() - timedelta(days=60)


def _encounters(rng: random.Random, n: int, end: datetime) -> list[SyntheticEncounter]:
    found: list[SyntheticEncounter] = []
    patient = 0
    while len(found) < n:
        patient += 1
        mrn = f"{70000000 + patient:08d}"
        # 1-3 visits per patient, 90+ days apart so no window of one reaches another.
        admit = end - timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 23))
        for visit in range(rng.choice((1, 1, 2, 2, 3))):
            if len(found) == n:
                break
            found.append(_one(rng, f"V{len(found) + 1:07d}", mrn, admit, end, latest=visit == 0))
            admit -= timedelta(days=rng.randint(90, 200))
    return found


def _one(
    rng: random.Random, visit: str, mrn: str, admit: datetime, end: datetime, *, latest: bool
) -> SyntheticEncounter:
    kind = rng.choices(("inpatient", "surgery", "emergency"), (60, 25, 15))[0]
    attending = f"D{rng.randint(1, 60):04d}"
    hours = rng.randint(6, 24) if kind != "inpatient" else rng.randint(20, 240)
    leaves = admit + timedelta(hours=hours)
    discharge: datetime | None = leaves
    if leaves > end - timedelta(hours=1) or (latest and rng.random() < 0.04):
        discharge = None  # still in house (only a patient's latest visit can be)
    start = end_proc = None
    if kind == "surgery" or (kind == "inpatient" and rng.random() < 0.2):
        start = admit + timedelta(hours=rng.randint(1, 4))
        end_proc = start + timedelta(minutes=rng.randint(30, 240))
        if discharge is not None and discharge < end_proc:
            discharge = end_proc + timedelta(hours=2)
    patient_class = "day_surgery" if kind == "surgery" else kind
    return SyntheticEncounter(
        visit, mrn, patient_class, admit, discharge, attending, start, end_proc
    )


def make_charts(n_encounters: int, seed: int, first_analysis_at: datetime) -> ChartSet:
    """Generate encounters and documents with the expected deficiencies (same seed, same set).

    Args:
        n_encounters: how many encounters.
        seed: the random seed.
        first_analysis_at: every discharge lies before it; late documents come a week after.
    """
    rng = random.Random(seed)
    encounters = _encounters(rng, n_encounters, first_analysis_at)
    charts = ChartSet(encounters, [], first_analysis_at, first_analysis_at + timedelta(days=7))
    by_patient: dict[str, list[SyntheticEncounter]] = {}
    for encounter in encounters:
        by_patient.setdefault(encounter.mrn, []).append(encounter)
    for encounter in encounters:
        for _ in range(rng.randint(1, 3)):
            day = encounter.admit_at.date()
            _add(charts, encounter.mrn, rng.choice(NOISE_TYPES), day, encounter.visit_number)
        if encounter.discharge_at is None:
            continue
        for rule, doc_type in required_rules(encounter):
            fate = rng.choices(FATES, FATE_WEIGHTS)[0]
            others = [e for e in by_patient[encounter.mrn] if e is not encounter]
            if fate == "wrong_encounter" and not others:
                fate = "never"
            charts.fates[fate] = charts.fates.get(fate, 0) + 1
            _apply_fate(charts, rng, encounter, rule, doc_type, fate, others)
    return charts


def _apply_fate(
    charts: ChartSet,
    rng: random.Random,
    encounter: SyntheticEncounter,
    rule: str,
    doc_type: str,
    fate: str,
    others: list[SyntheticEncounter],
) -> None:
    key = (encounter.visit_number, rule)
    visit, mrn = encounter.visit_number, encounter.mrn
    day = _in_window_day(encounter, rule)
    if fate == "on_time":
        on_page = visit if rng.random() < 0.5 else None
        _add(charts, mrn, doc_type, day, on_page, fate=fate, for_visit=visit, rule=rule)
        return
    if fate == "late":
        key_of = _add(
            charts, mrn, doc_type, day, visit, late=True, fate=fate, for_visit=visit, rule=rule
        )
        charts.expected_auto_closed[key] = key_of
        return
    charts.expected_open.add(key)
    if fate == "wrong_encounter":
        other = rng.choice(others).visit_number
        _add(charts, mrn, doc_type, day, other, fate=fate, for_visit=visit, rule=rule)
    elif fate == "out_of_window":
        off = _out_of_window_day(encounter, rule)
        _add(charts, mrn, doc_type, off, visit, fate=fate, for_visit=visit, rule=rule)
    elif fate == "in_review":
        _add(
            charts,
            mrn,
            doc_type,
            day,
            visit,
            status="review",
            fate=fate,
            for_visit=visit,
            rule=rule,
        )


def _add(
    charts: ChartSet,
    mrn: str,
    doc_type: str,
    day: date | None,
    visit_on_page: str | None,
    *,
    status: str = "filed",
    late: bool = False,
    fate: str = "noise",
    for_visit: str | None = None,
    rule: str | None = None,
) -> int:
    key = len(charts.documents)
    charts.documents.append(
        SyntheticChartDocument(
            key, mrn, doc_type, day, visit_on_page, status, late, fate, for_visit, rule
        )
    )
    return key


def write_encounters_csv(encounters: list[SyntheticEncounter], path: Path) -> Path:
    """The encounters as the CSV ``chartclerk encounters import`` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        for e in encounters:
            writer.writerow(
                [
                    e.visit_number,
                    e.mrn,
                    e.patient_class,
                    e.admit_at.isoformat(),
                    e.discharge_at.isoformat() if e.discharge_at else "",
                    e.attending,
                    e.procedure_start.isoformat() if e.procedure_start else "",
                    e.procedure_end.isoformat() if e.procedure_end else "",
                ]
            )
    return path


def chart_documents(charts: ChartSet, *, late: bool) -> list[tuple[int, NewDocument]]:
    """The documents arriving before (``late=False``) or after the first analysis."""
    found = []
    for doc in charts.documents:
        if doc.late != late:
            continue
        filed = doc.status == "filed"
        found.append(
            (
                doc.key,
                NewDocument(
                    sha256=None,
                    source_name=f"synthetic-{doc.key}.pdf",
                    source_path=f"synthetic/{doc.key}.pdf",
                    status=doc.status,
                    patient_mrn=doc.mrn if filed else None,
                    doc_type=doc.doc_type,
                    review_reason=None if filed else "ambiguous candidates",
                    service_date=doc.service_date,
                    identifiers=[("encounter", doc.visit_on_page, 1)] if doc.visit_on_page else [],
                ),
            )
        )
    return found
