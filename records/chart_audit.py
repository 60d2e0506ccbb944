"""The one place chart-completeness acts are written to the audit trail.

Encounter imports, deficiency analysis runs, completions, waivers, marks, links and letters
each leave one entry here, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from records.models import Event
from records.views import dump_detail

Actor = str
SYSTEM: Actor = "chartclerk"


def actor_name(actor: Actor) -> str:
    """The name an actor is shown under (closed_by, letters)."""
    return actor


def audit(
    session: Session,
    actor: Actor,
    action: str,
    at: datetime,
    *,
    mrns: Iterable[str] = (),
    document_ids: Iterable[int] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit trail inside the caller's transaction."""
    ids = list(document_ids)
    data = dict(detail or {})
    mrn_list = sorted(set(mrns))
    if mrn_list:
        data["mrns"] = mrn_list
    if len(ids) > 1:
        data["document_ids"] = ids
    session.add(
        Event(
            document_id=ids[0] if len(ids) == 1 else None,
            at=at,
            actor=actor_name(actor),
            kind=action,
            detail=dump_detail(data or None),
        )
    )
