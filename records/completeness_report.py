"""The completeness report: open and delinquent deficiencies by provider and age, the rate.

Delinquency rate = delinquent charts / average monthly discharges (over the last
``rate_months`` months), as hospitals report it. Median days to completion counts from
discharge to the closing of missing-document deficiencies (completed or auto-closed).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from records.completeness_rules import CompletenessSettings
from records.deficiencies import MISSING_DOCUMENT
from records.deficiency_worklist import DeficiencyView, list_deficiencies
from records.models import Encounter
from records.store import Store

BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-14", 8, 14),
    ("15-21", 15, 21),
    ("22-30", 22, 30),
    (">30", 31, None),
)
DAYS_PER_MONTH = 365.25 / 12


def bucket_of(age_days: int) -> str:
    """The age bucket (days since discharge) a deficiency falls in."""
    for name, low, high in BUCKETS:
        if age_days >= low and (high is None or age_days <= high):
            return name
    return BUCKETS[0][0]


def summarize(
    views: Sequence[DeficiencyView],
    discharges: Sequence[datetime],
    settings: CompletenessSettings,
    now: datetime,
) -> dict[str, Any]:
    """The report from every deficiency and the discharge times. Pure.

    Args:
        views: every deficiency (any status) as of ``now``.
        discharges: discharge times of active encounters.
        settings: for the months the discharge average is taken over.
        now: the time of the report.
    """
    empty = {name: 0 for name, _, _ in BUCKETS}
    by_provider: dict[str, dict[str, Any]] = {}
    by_age = {"open": dict(empty), "delinquent": dict(empty)}
    delinquent_charts: set[str] = set()
    open_views = [v for v in views if v.status == "open"]
    for view in open_views:
        provider = view.assigned_to or "(unassigned)"
        entry = by_provider.setdefault(
            provider, {"open": 0, "delinquent": 0, "by_age": dict(empty)}
        )
        bucket = bucket_of(view.age_days or 0)
        entry["open"] += 1
        entry["by_age"][bucket] += 1
        by_age["open"][bucket] += 1
        if view.delinquent:
            entry["delinquent"] += 1
            by_age["delinquent"][bucket] += 1
            delinquent_charts.add(view.visit_number)
    since = now - timedelta(days=DAYS_PER_MONTH * settings.rate_months)
    recent = sum(1 for at in discharges if since < at <= now)
    monthly = recent / settings.rate_months
    closed = [
        v for v in views if v.kind == MISSING_DOCUMENT and v.status in ("completed", "auto_closed")
    ]
    days = [
        max(0.0, (v.closed_at - v.discharge_at).total_seconds() / 86400)
        for v in closed
        if v.closed_at is not None and v.discharge_at is not None
    ]
    auto = sum(1 for v in closed if v.status == "auto_closed")
    return {
        "as_of": now.isoformat(),
        "open": len(open_views),
        "delinquent": sum(1 for v in open_views if v.delinquent),
        "by_provider": dict(sorted(by_provider.items())),
        "by_age": by_age,
        "delinquent_charts": len(delinquent_charts),
        "average_monthly_discharges": round(monthly, 2),
        "delinquency_rate": round(len(delinquent_charts) / monthly, 4) if monthly else None,
        "median_days_to_completion": round(statistics.median(days), 1) if days else None,
        "auto_close_rate": round(auto / len(closed), 4) if closed else None,
        "completed": len(closed) - auto,
        "auto_closed": auto,
        "waived": sum(1 for v in views if v.status == "waived"),
    }


def completeness_report(
    store: Store, settings: CompletenessSettings, *, now: datetime
) -> dict[str, Any]:
    """The report for the whole store as of ``now``."""
    views = list_deficiencies(store, now=now)
    with store.session() as s:
        discharges = list(
            s.scalars(
                select(Encounter.discharge_at).where(
                    Encounter.status == "active", Encounter.discharge_at.is_not(None)
                )
            )
        )
    return summarize(views, [d for d in discharges if d is not None], settings, now)
