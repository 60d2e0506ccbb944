"""STUB of the issue-9 audit API (replaced by branch i9 at merge)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from records.models import Event
from records.store import Store, now
from records.views import dump_detail


@dataclass(frozen=True)
class Actor:
    """Who acts, through which channel, from where."""

    name: str
    channel: Literal["web", "api", "cli", "daemon"]
    client: str | None = None


SYSTEM = Actor("system", "daemon")


def _detail(
    actor: Actor, mrns: Iterable[str], ids: Iterable[int], outcome: str, detail: str | None
) -> str | None:
    return dump_detail(
        {
            "channel": actor.channel,
            "client": actor.client,
            "mrns": list(mrns),
            "ids": list(ids),
            "outcome": outcome,
            "detail": detail,
        }
    )


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    mrns: Iterable[str] = (),
    document_ids: Iterable[int] = (),
    outcome: str = "ok",
    detail: str | None = None,
) -> None:
    """Append one entry inside the caller's transaction."""
    ids = list(document_ids)
    session.add(
        Event(
            document_id=ids[0] if len(ids) == 1 else None,
            at=now(),
            actor=actor.name,
            kind=action,
            detail=_detail(actor, mrns, ids, outcome, detail),
            is_access=True,
        )
    )


def record_access(
    store: Store,
    actor: Actor,
    action: str,
    *,
    mrns: Iterable[str] = (),
    document_ids: Iterable[int] = (),
    outcome: str = "ok",
    detail: str | None = None,
) -> None:
    """Append one entry in its own transaction."""
    with store.session() as s:
        record(
            s, actor, action, mrns=mrns, document_ids=document_ids, outcome=outcome, detail=detail
        )
