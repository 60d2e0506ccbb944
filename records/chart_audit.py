"""The one place chart-completeness acts are written to the audit trail.

Encounter imports, deficiency analysis runs, completions, waivers, marks, links and letters
each leave an entry in the hash-chained trail (records.audit), in the caller's transaction.
An entry naming documents is part of each one's history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from records import audit as trail
from records.audit import SYSTEM, Actor
from records.views import dump_detail

__all__ = ["SYSTEM", "Actor", "actor_name", "audit"]


def actor_name(actor: Actor) -> str:
    """The name an actor is shown under (closed_by, letters)."""
    return actor.name


def audit(
    session: Session,
    actor: Actor,
    action: str,
    *,
    mrns: Iterable[str] = (),
    document_ids: Iterable[int] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit trail inside the caller's transaction."""
    trail.record(
        session,
        actor,
        action,
        mrns=sorted({m for m in mrns if m}),
        document_ids=list(document_ids),
        detail=dump_detail(detail),
    )
