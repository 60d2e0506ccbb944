"""Physician request letters: one PDF per provider listing the charts they must complete.

The level follows the oldest item's days since discharge: courtesy, then warning from
``letters.warning_days``, then final from ``letters.final_days``. Each letter sent is a
``deficiency_letters`` row per deficiency it lists (shown on the deficiency) and one audit
entry.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from records.chart_audit import Actor, audit
from records.completeness_rules import CompletenessSettings, LetterSettings
from records.deficiency_worklist import DeficiencyView, list_deficiencies
from records.models import DeficiencyLetter, Patient, Provider
from records.store import Store

LEVELS = ("courtesy", "warning", "final")
TITLES = {
    "courtesy": "Courtesy reminder: incomplete medical records",
    "warning": "Warning: medical records approaching delinquency",
    "final": "Final notice: delinquent medical records",
}


@dataclass(frozen=True)
class LetterSent:
    """One letter written."""

    provider_id: str
    level: str
    items: int
    path: Path


def level_for(age_days: int, settings: LetterSettings) -> str:
    """courtesy, warning or final by days since discharge."""
    if age_days >= settings.final_days:
        return "final"
    if age_days >= settings.warning_days:
        return "warning"
    return "courtesy"


def missing_text(view: DeficiencyView) -> str:
    """What is missing, in a clerk's words."""
    if view.kind == "missing_document":
        return (view.doc_type or "document").replace("_", " ")
    what = view.kind.removeprefix("missing_").replace("_", "/")
    return f"{what} on document {view.document_id}"


def send_letters(
    store: Store,
    settings: CompletenessSettings,
    out_dir: Path,
    *,
    now: datetime,
    actor: Actor,
    provider: str | None = None,
) -> list[LetterSent]:
    """Write one PDF per provider with open deficiencies (or only ``provider``'s)."""
    views = list_deficiencies(store, now=now, status="open", provider=provider)
    by_provider: dict[str, list[DeficiencyView]] = defaultdict(list)
    for view in views:
        if view.assigned_to:
            by_provider[view.assigned_to].append(view)
    out_dir.mkdir(parents=True, exist_ok=True)
    sent: list[LetterSent] = []
    with store.session() as s:
        names = {p.id: p.name for p in s.scalars(select(Provider))}
        mrns = sorted({v.patient_mrn for v in views})
        patients = {
            p.mrn: f"{p.last_name}, {p.first_name}"
            for p in s.scalars(select(Patient).where(Patient.mrn.in_(mrns)))
        }
        for provider_id, items in sorted(by_provider.items()):
            level = max(
                (level_for(v.age_days or 0, settings.letters) for v in items), key=LEVELS.index
            )
            path = out_dir / f"letter-{_safe(provider_id)}-{now:%Y%m%d}.pdf"
            _render(
                path,
                names.get(provider_id, provider_id),
                provider_id,
                level,
                items,
                patients,
                settings,
                now,
            )
            for view in items:
                s.add(
                    DeficiencyLetter(
                        deficiency_id=view.id,
                        provider_id=provider_id,
                        level=level,
                        sent_at=now,
                        file_name=path.name,
                    )
                )
            audit(
                s,
                actor,
                "deficiency letter sent",
                mrns=[v.patient_mrn for v in items],
                detail={
                    "provider": provider_id,
                    "level": level,
                    "deficiencies": [v.id for v in items],
                },
            )
            sent.append(LetterSent(provider_id, level, len(items), path))
    return sent


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:64] or "provider"


def _render(
    path: Path,
    name: str,
    provider_id: str,
    level: str,
    items: list[DeficiencyView],
    patients: dict[str, str],
    settings: CompletenessSettings,
    now: datetime,
) -> None:
    styles = getSampleStyleSheet()
    rows = [["Patient", "MRN", "Visit", "Discharged", "Missing", "Days left"]]
    for view in sorted(items, key=lambda v: (v.delinquent_at or now, v.id)):
        left = (view.delinquent_at - now).days if view.delinquent_at else None
        rows.append(
            [
                patients.get(view.patient_mrn, ""),
                view.patient_mrn,
                view.visit_number,
                view.discharge_at.date().isoformat() if view.discharge_at else "",
                missing_text(view),
                "" if left is None else (str(left) if left >= 0 else f"delinquent {-left}d"),
            ]
        )
    table = Table(rows, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story = [
        Paragraph("Medical Records Department", styles["Heading2"]),
        Paragraph(TITLES[level], styles["Heading1"]),
        Paragraph(f"To: {_escape(name)} ({_escape(provider_id)})", styles["Normal"]),
        Paragraph(f"Date: {now:%Y-%m-%d}", styles["Normal"]),
        Spacer(1, 12),
        Paragraph(
            f"The following records are incomplete. A record must be complete within "
            f"{settings.delinquent_after_days} days of discharge (42 CFR 482.24(c)(4)(viii)).",
            styles["Normal"],
        ),
        Spacer(1, 12),
        table,
    ]
    temp = path.with_name(path.name + ".tmp")
    SimpleDocTemplate(str(temp), pagesize=letter, title=TITLES[level]).build(story)
    temp.replace(path)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
