"""Deficiency analysis as a pure function: encounters + documents + rules → requirements."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from records.completeness_rules import CompletenessSettings, TimePoint
from records.deficiencies import (
    DocumentFacts,
    EncounterFacts,
    LinkFacts,
    analyze_patient,
    link_document,
    requirements_of,
)

RULES = CompletenessSettings()
ADMIT = datetime(2026, 10, 1, 9, 0)
DISCHARGE = datetime(2026, 10, 5, 11, 0)
NOW = datetime(2026, 10, 20, 12, 0)


def inpatient(**changes: object) -> EncounterFacts:
    data: dict[str, object] = {
        "id": 1,
        "visit_number": "V1",
        "mrn": "10000001",
        "patient_class": "inpatient",
        "admit_at": ADMIT,
        "discharge_at": DISCHARGE,
        "attending_id": "P1",
    }
    data.update(changes)
    return EncounterFacts(**data)  # type: ignore[arg-type]


def by_rule(reqs: list) -> dict:
    return {r.rule: r for r in reqs}


@pytest.mark.parametrize(
    ("text", "anchor", "offset"),
    [
        ("admit", "admit", timedelta(0)),
        ("admit - 30d", "admit", timedelta(days=-30)),
        ("procedure_end + 24h", "procedure_end", timedelta(hours=24)),
        ("  discharge+14d ", "discharge", timedelta(days=14)),
    ],
)
def test_time_points_read_anchor_and_offset(text: str, anchor: str, offset: timedelta) -> None:
    point = TimePoint.parse(text)
    assert (point.anchor, point.offset) == (anchor, offset)


@pytest.mark.parametrize("text", ["admission", "admit - 30", "admit * 2d", "discharge + 3w"])
def test_bad_time_points_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="anchor|admit"):
        TimePoint.parse(text)


def test_an_inpatient_stay_needs_hp_and_discharge_summary() -> None:
    reqs = by_rule(requirements_of(inpatient(), RULES, NOW))
    assert set(reqs) == {"inpatient_history_physical", "inpatient_discharge_summary"}
    hp = reqs["inpatient_history_physical"]
    assert hp.window == (date(2026, 9, 1), date(2026, 10, 2))
    assert hp.due_at == ADMIT + timedelta(hours=24)
    assert hp.delinquent_at == DISCHARGE + timedelta(days=30)
    assert hp.assigned_to == "P1"


def test_a_short_stay_needs_no_discharge_summary() -> None:
    short = inpatient(discharge_at=ADMIT + timedelta(hours=47))
    assert set(by_rule(requirements_of(short, RULES, NOW))) == {"inpatient_history_physical"}
    exactly = inpatient(discharge_at=ADMIT + timedelta(hours=48))
    assert "inpatient_discharge_summary" in by_rule(requirements_of(exactly, RULES, NOW))


def test_nothing_is_required_before_discharge_or_of_a_cancelled_encounter() -> None:
    assert requirements_of(inpatient(discharge_at=None), RULES, NOW) == []
    assert requirements_of(inpatient(discharge_at=NOW + timedelta(hours=1)), RULES, NOW) == []
    assert requirements_of(inpatient(status="cancelled"), RULES, NOW) == []


def test_surgery_rules_apply_only_with_a_procedure_and_go_to_the_surgeon() -> None:
    plain = inpatient(patient_class="outpatient")
    assert requirements_of(plain, RULES, NOW) == []
    start = datetime(2026, 10, 2, 8, 0)
    surgery = inpatient(
        patient_class="outpatient", procedure_start=start, surgeon_id="S9", procedure_end=None
    )
    reqs = by_rule(requirements_of(surgery, RULES, NOW))
    assert set(reqs) == {"surgery_consent", "surgery_operative_report"}
    assert reqs["surgery_consent"].window[1] == date(2026, 10, 2)
    assert reqs["surgery_operative_report"].window == (date(2026, 10, 2), date(2026, 10, 3))
    assert {r.assigned_to for r in reqs.values()} == {"S9"}
    no_surgeon = inpatient(patient_class="outpatient", procedure_start=start)
    assert {r.assigned_to for r in requirements_of(no_surgeon, RULES, NOW)} == {"P1"}


def doc(id_: int, doc_type: str, day: date | None, visit: str | None = "V1") -> DocumentFacts:
    return DocumentFacts(id_, doc_type, day, visit)


def test_a_linked_document_in_window_satisfies_its_requirement() -> None:
    docs = [doc(7, "history_physical", date(2026, 10, 1)), doc(8, "lab_report", date(2026, 10, 2))]
    reqs = by_rule(analyze_patient([inpatient()], docs, RULES, NOW))
    assert reqs["inpatient_history_physical"].satisfied_by == 7
    assert reqs["inpatient_discharge_summary"].satisfied_by is None
    assert reqs["inpatient_discharge_summary"].suggested is None


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (doc(7, "history_physical", date(2026, 8, 1)), "dated before the window"),
        (doc(7, "history_physical", date(2026, 10, 3)), "dated after the window"),
        (doc(7, "history_physical", None), "undated"),
        (doc(7, "history_physical", date(2026, 10, 1), visit=None), "patient-level"),
    ],
)
def test_out_of_window_undated_or_patient_level_is_only_suggested(
    document: DocumentFacts, why: str
) -> None:
    hp = by_rule(analyze_patient([inpatient()], [document], RULES, NOW))[
        "inpatient_history_physical"
    ]
    assert hp.satisfied_by is None, why
    assert hp.suggested == 7, why


def test_a_document_of_another_encounter_neither_satisfies_nor_is_suggested() -> None:
    other = inpatient(
        id=2, visit_number="V2", admit_at=datetime(2026, 6, 1), discharge_at=datetime(2026, 6, 9)
    )
    docs = [doc(7, "history_physical", date(2026, 10, 1), visit="V2")]
    reqs = [
        r for r in analyze_patient([inpatient(), other], docs, RULES, NOW) if r.visit_number == "V1"
    ]
    hp = by_rule(reqs)["inpatient_history_physical"]
    assert (hp.satisfied_by, hp.suggested) == (None, None)


def test_a_document_two_rules_accept_is_suggested_to_both_not_closed() -> None:
    rules = CompletenessSettings.model_validate(
        {
            "rules": [
                {"name": "a", "classes": ["inpatient"], "doc_type": "consult_note",
                 "window_from": "admit", "window_to": "discharge", "due": "discharge"},
                {"name": "b", "classes": ["inpatient"], "doc_type": "consult_note",
                 "window_from": "admit", "window_to": "discharge", "due": "discharge"},
            ]
        }
    )  # fmt: skip
    reqs = by_rule(
        analyze_patient([inpatient()], [doc(7, "consult_note", date(2026, 10, 2))], rules, NOW)
    )
    assert [(r.satisfied_by, r.suggested) for r in reqs.values()] == [(None, 7), (None, 7)]


def test_rule_versions_and_names_are_checked() -> None:
    with pytest.raises(ValueError, match="unique"):
        CompletenessSettings.model_validate(
            {"rules": [RULES.rules[0].model_dump(), RULES.rules[0].model_dump()]}
        )


def test_links_prefer_the_visit_number_on_the_page() -> None:
    first = inpatient()
    second = inpatient(id=2, visit_number="V2", admit_at=datetime(2026, 10, 10), discharge_at=None)
    encounters = [first, second]
    assert link_document(LinkFacts(1, ("V2",), date(2026, 10, 2)), encounters) == (
        "V2",
        "visit number on the page",
    )
    assert link_document(LinkFacts(1, ("99999",), date(2026, 10, 2)), encounters) == (
        "V1",
        "service date in the encounter's stay",
    )
    assert link_document(LinkFacts(1, (), date(2026, 10, 15)), encounters)[0] == "V2"
    assert link_document(LinkFacts(1, ("V1", "V2"), None), encounters)[0] is None
    visit, why = link_document(LinkFacts(1, (), date(2026, 9, 1)), encounters)
    assert (visit, why) == (None, "service date outside every encounter")
    assert link_document(LinkFacts(1, (), None), encounters)[0] is None
    cancelled = inpatient(status="cancelled")
    assert link_document(LinkFacts(1, ("V1",), None), [cancelled]) == (
        None,
        "no encounter of the patient on file",
    )
