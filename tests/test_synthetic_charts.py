"""The deficiencies analysis finds on a synthetic hospital are exactly the ground truth's."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from clerk.app import App
from records.audit import Actor
from records.bulk import add_documents
from records.deficiency_store import analyze
from records.encounters import import_encounters
from records.models import Deficiency, Encounter
from synthetic.encounters import FATES, chart_documents, make_charts, write_encounters_csv

CLERK = Actor("clerk-a", "cli")
BOSS = Actor("boss", "cli")
FIRST = datetime(2026, 11, 1, 6, 0)


def test_the_generator_is_seeded_and_covers_every_fate() -> None:
    one, two = make_charts(300, 5, FIRST), make_charts(300, 5, FIRST)
    assert one.encounters == two.encounters and one.documents == two.documents
    assert set(one.fates) == set(FATES)
    assert make_charts(300, 6, FIRST).encounters != one.encounters
    assert all(e.discharge_at is None or e.discharge_at < FIRST for e in one.encounters)


def test_analysis_matches_ground_truth(app: App, tmp_path: Path) -> None:
    charts = make_charts(200, 11, FIRST)
    rules = app.settings.completeness
    import_encounters(
        app.store,
        write_encounters_csv(charts.encounters, tmp_path / "e.csv"),
        actor=CLERK,
        now=FIRST,
    )
    ids: dict[int, int] = {}
    for late, when in ((False, FIRST), (True, charts.second_analysis_at)):
        batch = chart_documents(charts, late=late)
        ids.update(
            zip([k for k, _ in batch], add_documents(app.store, [d for _, d in batch]), strict=True)
        )
        analyze(app.store, rules, now=when)
    again = analyze(app.store, rules, now=charts.second_analysis_at)
    assert (again.opened, again.auto_closed, again.reopened, again.links_changed) == (0, 0, 0, 0)
    with app.store.session() as s:
        rows = list(s.execute(select(Deficiency, Encounter.visit_number).join(Encounter)))
    found_open = {(visit, d.rule) for d, visit in rows if d.status == "open"}
    found_closed = {
        (visit, d.rule): d.document_id for d, visit in rows if d.status == "auto_closed"
    }
    assert found_open == charts.expected_open
    assert found_closed == {key: ids[doc] for key, doc in charts.expected_auto_closed.items()}
    assert len(rows) == len(found_open) + len(found_closed)  # on-time documents open nothing
