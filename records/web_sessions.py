"""The web desk's server-side sessions and review claims (SQL lives only in ``records``).

A session id is a random token the browser holds; the store keeps only its sha256, so a
copy of the database does not let anyone sign in as someone else.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from records import audit
from records.audit import Actor
from records.models import Document, ReviewClaim, WebSession
from records.store import Store, now

# A session's last_seen_at is written at most this often: one write per request would make
# twenty clerks queue on the database's single writer for nothing.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class SessionView:
    """A live session: who, its CSRF token, and when it started."""

    user_name: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class ClaimView:
    """Who holds a review item, and until when."""

    document_id: int
    user_name: str
    until: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    store: Store, user_name: str, *, client: str | None, replaces: str | None = None
) -> tuple[str, SessionView]:
    """Open a new session (a new id at every sign-in); returns the token and the session.

    ``replaces`` is the token the browser held before, ended so it cannot be reused.
    """
    token = secrets.token_urlsafe(32)
    stamp = now()
    row = WebSession(
        id_hash=_hash(token),
        user_name=user_name,
        csrf_token=secrets.token_urlsafe(32),
        client=client,
        created_at=stamp,
        last_seen_at=stamp,
    )
    with store.session() as s:
        if replaces:
            s.execute(delete(WebSession).where(WebSession.id_hash == _hash(replaces)))
        s.add(row)
    return token, SessionView(user_name, row.csrf_token, stamp, stamp)


def current_session(
    store: Store, token: str, *, idle: timedelta, absolute: timedelta
) -> SessionView | None:
    """The live session for ``token``, touched; None (and the row gone) when expired."""
    stamp = now()
    with store.session() as s:
        row = s.get(WebSession, _hash(token))
        if row is None:
            return None
        if stamp - row.last_seen_at > idle or stamp - row.created_at > absolute:
            s.delete(row)
            return None
        if stamp - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = stamp
        return SessionView(row.user_name, row.csrf_token, row.created_at, row.last_seen_at)


def end_session(store: Store, token: str) -> None:
    """Sign out: the session row goes."""
    with store.session() as s:
        s.execute(delete(WebSession).where(WebSession.id_hash == _hash(token)))


def end_user_sessions(store: Store, user_name: str) -> int:
    """End every session of a user (disabled, role changed); returns how many."""
    with store.session() as s:
        result = s.execute(delete(WebSession).where(WebSession.user_name == user_name))
        return int(getattr(result, "rowcount", 0) or 0)


def purge_expired(store: Store, *, idle: timedelta, absolute: timedelta) -> int:
    """Remove expired sessions; returns how many went."""
    stamp = now()
    with store.session() as s:
        result = s.execute(
            delete(WebSession).where(
                (WebSession.last_seen_at < stamp - idle)
                | (WebSession.created_at < stamp - absolute)
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def claim(
    store: Store,
    document_id: int,
    user_name: str,
    minutes: float,
    *,
    viewed_by: Actor | None = None,
    mrns: Iterable[str] = (),
) -> ClaimView:
    """Claim a review item for ``minutes``, unless someone else holds it now.

    One statement (an upsert that only takes a free, expired or own claim), so two clerks
    opening the same item at the same instant cannot both get it. With ``viewed_by``, the
    view is recorded in the audit trail in the same transaction (one commit, not two: the
    store has one writer, and twenty clerks queue on it). Returns the claim in force
    afterwards: the caller's, or the other holder's.
    """
    stamp = now()
    until = stamp + timedelta(minutes=minutes)
    statement = sqlite_insert(ReviewClaim).values(
        document_id=document_id, user_name=user_name, until=until
    )
    statement = statement.on_conflict_do_update(
        index_elements=[ReviewClaim.document_id],
        set_={"user_name": user_name, "until": until},
        where=(ReviewClaim.until <= stamp) | (ReviewClaim.user_name == user_name),
    )
    with store.session() as s:
        s.execute(statement)
        row = s.get(ReviewClaim, document_id, populate_existing=True)
        assert row is not None
        if viewed_by is not None:
            audit.append(
                s,
                viewed_by,
                "view",
                access=True,
                mrns=mrns,
                document_ids=[document_id],
                detail="review item",
            )
        return ClaimView(document_id, row.user_name, row.until)


def holder(store: Store, document_id: int) -> ClaimView | None:
    """The claim in force on a review item, if any (claims on filed documents count not)."""
    with store.session() as s:
        row = s.scalar(
            select(ReviewClaim)
            .join(Document, Document.id == ReviewClaim.document_id)
            .where(
                ReviewClaim.document_id == document_id,
                ReviewClaim.until > now(),
                Document.status == "review",
            )
        )
        if row is None:
            return None
        return ClaimView(document_id, row.user_name, row.until)


def release_claim(store: Store, document_id: int) -> None:
    """Drop the claim on an item (it was filed or rejected)."""
    with store.session() as s:
        s.execute(delete(ReviewClaim).where(ReviewClaim.document_id == document_id))


def claimed_by_others(store: Store, user_name: str) -> dict[int, str]:
    """Review items others hold right now, with who holds them."""
    with store.session() as s:
        rows = s.execute(
            select(ReviewClaim.document_id, ReviewClaim.user_name).where(
                ReviewClaim.until > now(), ReviewClaim.user_name != user_name
            )
        )
        return {doc_id: name for doc_id, name in rows}


@dataclass(frozen=True)
class QueueItem:
    """One row of the review queue as the desk lists it."""

    id: int
    source_name: str
    doc_type: str | None
    pages: int
    review_reason: str | None
    received_at: datetime


@dataclass(frozen=True)
class QueueView:
    """The oldest items waiting, how many wait in all, and how many for each reason."""

    items: list[QueueItem]
    total: int
    reasons: list[tuple[str, int]]


def review_queue(store: Store, limit: int) -> QueueView:
    """The review queue, oldest first: two indexed queries, not every row of the queue."""
    with store.session() as s:
        rows = s.execute(
            select(
                Document.id,
                Document.source_name,
                Document.doc_type,
                Document.pages,
                Document.review_reason,
                Document.received_at,
            )
            .where(Document.status == "review")
            .order_by(Document.received_at, Document.id)
            .limit(limit)
        )
        items = [QueueItem(*row) for row in rows]
        counts = s.execute(
            select(Document.review_reason, func.count())
            .where(Document.status == "review")
            .group_by(Document.review_reason)
            .order_by(func.count().desc())
        )
        reasons = [(reason or "-", int(n)) for reason, n in counts]
    return QueueView(items, sum(n for _, n in reasons), reasons)


def next_free_ids(store: Store, user_name: str, *, skip: int | None, limit: int = 10) -> list[int]:
    """The oldest review items no one else holds right now (one indexed query)."""
    held = select(ReviewClaim.document_id).where(
        ReviewClaim.until > now(), ReviewClaim.user_name != user_name
    )
    query = (
        select(Document.id)
        .where(Document.status == "review", Document.id.not_in(held))
        .order_by(Document.received_at, Document.id)
        .limit(limit)
    )
    if skip is not None:
        query = query.where(Document.id != skip)
    with store.session() as s:
        return list(s.scalars(query))


def document_version(store: Store, document_id: int) -> str | None:
    """The document's version stamp (its updated_at), sent with forms to refuse stale ones."""
    with store.session() as s:
        stamp = s.scalar(select(Document.updated_at).where(Document.id == document_id))
        return stamp.isoformat() if stamp else None
