"""Deficiency analysis against ground truth, and its cost, on synthetic encounters.

    .venv/bin/python benchmarks/bench_completeness.py              # 10,000 encounters
    .venv/bin/python benchmarks/bench_completeness.py --n 2000 --seed 3

The generator (synthetic/encounters.py) gives each required document a fate: on time,
late, never, for the wrong encounter, out of window, in review. The analysis runs once
with the early documents filed, once more after the late ones arrive, and once again with
nothing new (the nightly run). Reported: precision and recall of the open deficiencies
found, whether auto-closes are right (the right document on the right deficiency), and the
times, also as a ratio to a reference run in the same process: bare sqlite3 SELECTs of the same
rows analysis reads (what any analysis must pay before it thinks).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from records.audit import Actor  # noqa: E402
from records.bulk import add_documents  # noqa: E402
from records.completeness_rules import CompletenessSettings  # noqa: E402
from records.deficiency_store import analyze  # noqa: E402
from records.encounters import import_encounters  # noqa: E402
from records.models import Deficiency, Encounter  # noqa: E402
from records.settings import StoreSettings  # noqa: E402
from records.store import Store  # noqa: E402
from synthetic.encounters import chart_documents, make_charts, write_encounters_csv  # noqa: E402

CLERK = Actor("clerk-a", "cli")
BOSS = Actor("boss", "cli")
FIRST = datetime(2026, 11, 1, 6, 0)


def reference_load(database: Path) -> float:
    """The reads analysis needs, bare sqlite3: encounters, filed documents, numbers, links,
    deficiencies (the same columns), with nothing done with them."""
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    try:
        for sql in (
            "SELECT id, visit_number, patient_mrn, patient_class, admit_at, discharge_at, "
            "attending_id, surgeon_id, procedure_start, procedure_end, status FROM encounters",
            "SELECT id, doc_type, service_date, patient_mrn FROM documents WHERE status='filed'",
            "SELECT document_id, value FROM identifiers WHERE kind IN ('encounter', 'account')",
            "SELECT document_id, visit_number, why, manual FROM encounter_links",
            "SELECT id, encounter_id, kind, rule, status, open_key, closed_at, closed_by, "
            "document_id, suggested_document_id, reason, assigned_to, due_at, delinquent_at "
            "FROM deficiencies",
        ):
            connection.execute(sql).fetchall()
    finally:
        connection.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="encounters")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rules = CompletenessSettings()
    charts = make_charts(args.n, args.seed, FIRST)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(
            StoreSettings(
                database_url=f"sqlite:///{folder / 'db.sqlite'}",
                archive_dir=folder / "archive",
                quarantine_dir=folder / "quarantine",
            )
        )
        try:
            run(store, charts, rules, folder)
        finally:
            store.close()


def run(store: Store, charts, rules: CompletenessSettings, folder: Path) -> None:  # noqa: ANN001
    started = time.perf_counter()
    feed = write_encounters_csv(charts.encounters, folder / "encounters.csv")
    report = import_encounters(store, feed, actor=CLERK, now=FIRST)
    import_s = time.perf_counter() - started
    assert not report.errors, report.errors[:3]
    key_to_id: dict[int, int] = {}
    early = chart_documents(charts, late=False)
    key_to_id.update(
        zip([k for k, _ in early], add_documents(store, [d for _, d in early]), strict=True)
    )
    first = analyze(store, rules, now=FIRST)
    late = chart_documents(charts, late=True)
    key_to_id.update(
        zip([k for k, _ in late], add_documents(store, [d for _, d in late]), strict=True)
    )
    second = analyze(store, rules, now=charts.second_analysis_at)
    nightly = analyze(store, rules, now=charts.second_analysis_at)
    reference = min(reference_load(folder / "db.sqlite") for _ in range(3))
    with store.session() as s:
        rows = list(s.execute(select(Deficiency, Encounter.visit_number).join(Encounter)))
    found_open = {(v, d.rule) for d, v in rows if d.status == "open"}
    found_closed = {(v, d.rule): d.document_id for d, v in rows if d.status == "auto_closed"}
    expected_closed = {k: key_to_id[doc] for k, doc in charts.expected_auto_closed.items()}
    true_pos = len(found_open & charts.expected_open)
    precision = true_pos / len(found_open) if found_open else 1.0
    recall = true_pos / len(charts.expected_open) if charts.expected_open else 1.0
    closed_right = sum(1 for k, doc in found_closed.items() if expected_closed.get(k) == doc)
    per_patient = time_per_patient(store, rules, charts)
    print(f"encounters: {len(charts.encounters):,}  documents: {len(charts.documents):,}")
    print(f"fates of required documents: {dict(sorted(charts.fates.items()))}")
    print(f"encounter import (CSV): {import_s:.2f} s")
    print(
        f"open deficiencies: found {len(found_open):,}, expected {len(charts.expected_open):,}; "
        f"precision {precision:.2%}, recall {recall:.2%}"
    )
    print(
        f"auto-closed: {len(found_closed):,}, right {closed_right:,} of "
        f"{len(expected_closed):,} expected ({closed_right / max(1, len(expected_closed)):.2%})"
    )
    for name, result in (("first", first), ("after late", second), ("nightly", nightly)):
        print(
            f"analysis {name}: {result.seconds:.2f} s ({result.seconds / reference:.1f}x the bare "
            f"reads, {reference:.2f} s); opened {result.opened}, auto-closed {result.auto_closed}, "
            f"links changed {result.links_changed}"
        )
    print(f"analysis of one patient (the filing hook): {per_patient * 1000:.1f} ms")


def time_per_patient(store: Store, rules: CompletenessSettings, charts) -> float:  # noqa: ANN001
    mrns = sorted({e.mrn for e in charts.encounters})[:100]
    started = time.perf_counter()
    for mrn in mrns:
        analyze(store, rules, now=charts.second_analysis_at, mrns={mrn})
    return (time.perf_counter() - started) / len(mrns)


if __name__ == "__main__":
    main()
