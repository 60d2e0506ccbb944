"""The audit trail: one append-only, hash-chained entry per act on PHI.

Every entry's ``hash`` is sha256 over the previous entry's hash and this entry's canonical
form (:func:`canonical`), so editing, removing, inserting or reordering an entry breaks the
chain from there on; :func:`verify` walks it. Someone with the database file could rewrite
the whole chain, so a signed checkpoint of the head (records/checkpoint.py), kept
where the data folder's owner cannot rewrite it, pins everything up to it.

Entries are appended inside the caller's transaction, after taking SQLite's write lock,
so two writers can never chain onto the same head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from chartclerk_errors import AuditChainError
from records.models import AuditDocument, AuditEntry

if TYPE_CHECKING:
    from records.store import Store

__all__ = [
    "GENESIS",
    "SYSTEM",
    "Actor",
    "AuditChainError",
    "Channel",
    "EntryView",
    "VerifyResult",
    "canonical",
    "chain_hash",
    "history",
    "record",
    "record_access",
    "verify",
]

Channel = Literal["web", "api", "cli", "daemon"]
CHANNELS: tuple[str, ...] = ("web", "api", "cli", "daemon")
GENESIS = "0" * 64

# Columns in the order the canonical form and the verifier read them.
COLUMNS = (
    "id, at, actor, channel, action, access, mrns, document_ids, outcome, detail, client, "
    "prev_hash, hash"
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, the OS account of the command line, or ``system``.

    Built only by the faces from what they verified (a session, a token, the process uid),
    never from a name the caller typed.
    """

    name: str
    channel: Channel
    client: str | None = None


SYSTEM = Actor("system", "daemon")


@dataclass(frozen=True)
class EntryView:
    """One audit entry as read back."""

    id: int
    at: datetime
    actor: str
    channel: str
    action: str
    access: bool
    mrns: list[str]
    document_ids: list[int]
    outcome: str
    detail: str | None
    client: str | None

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON-ready values."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "channel": self.channel,
            "action": self.action,
            "access": self.access,
            "mrns": self.mrns,
            "document_ids": self.document_ids,
            "outcome": self.outcome,
            "detail": self.detail,
            "client": self.client,
        }

    @classmethod
    def of(cls, row: AuditEntry) -> EntryView:
        """Copy an audit_log row."""
        return cls(
            row.id,
            datetime.fromisoformat(row.at),
            row.actor,
            row.channel,
            row.action,
            bool(row.access),
            json.loads(row.mrns),
            json.loads(row.document_ids),
            row.outcome,
            row.detail,
            row.client,
        )


def stamp() -> str:
    """The current time, UTC with its offset, as stored in ``audit_log.at``."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


# One encoder for every entry: json.dumps with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_list(values: Iterable[Any]) -> str:
    """The stored (and hashed) text of a list of MRNs or document ids: compact JSON."""
    return _ENCODER.encode(list(values))


def canonical(
    entry_id: int,
    at: str,
    actor: str,
    channel: str,
    action: str,
    access: bool | int,
    mrns: str,
    document_ids: str,
    outcome: str,
    detail: str | None,
    client: str | None,
) -> bytes:
    """The bytes an entry's hash covers: every field but the hashes, as compact JSON."""
    return _ENCODER.encode(
        [entry_id, at, actor, channel, action, 1 if access else 0]
        + [mrns, document_ids, outcome, detail, client]
    ).encode("utf-8")


def chain_hash(prev_hash: str, canonical_form: bytes) -> str:
    """sha256 over the previous entry's hash (hex) and this entry's canonical form."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_form).hexdigest()


_INSERT_ENTRY = f"INSERT INTO audit_log ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_DOCUMENT = "INSERT INTO audit_log_documents (document_id, entry_id) VALUES (?, ?)"
_INSERT_PATIENT = "INSERT INTO audit_log_patients (mrn, entry_id) VALUES (?, ?)"


def append(
    session: Session,
    actor: Actor,
    action: str,
    *,
    access: bool = False,
    mrns: Iterable[str] = (),
    document_ids: Iterable[int] = (),
    outcome: str = "ok",
    detail: str | None = None,
    at: str | None = None,
) -> int:
    """Append one entry in ``session``'s transaction; returns its id.

    Plain driver statements: the ORM's per-statement cost was 20x the chain's own.
    """
    if actor.channel not in CHANNELS:
        raise ValueError(f"unknown audit channel {actor.channel!r}")
    mrn_list = sorted({m for m in mrns if m})
    doc_list = sorted({int(d) for d in document_ids})
    connection = session.connection()
    # A write first: it takes SQLite's write lock (waiting busy_timeout for another writer),
    # so the head read next is the real head and no other writer can chain onto it too.
    connection.exec_driver_sql("UPDATE audit_log_lock SET n = n + 1 WHERE id = 1")
    head = connection.exec_driver_sql(
        "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
    ).first()
    last_id, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
    entry_id = last_id + 1
    fields = (
        entry_id,
        at or stamp(),
        actor.name,
        actor.channel,
        action,
        1 if access else 0,
        json_list(mrn_list),
        json_list(doc_list),
        outcome,
        detail,
        actor.client,
    )
    digest = chain_hash(prev, canonical(*fields))
    connection.exec_driver_sql(_INSERT_ENTRY, (*fields, prev, digest))
    if doc_list:
        connection.exec_driver_sql(_INSERT_DOCUMENT, [(d, entry_id) for d in doc_list])
    if mrn_list:
        connection.exec_driver_sql(_INSERT_PATIENT, [(m, entry_id) for m in mrn_list])
    return entry_id


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
    """Append one entry for an act, inside the caller's transaction (chained there).

    Args:
        session: The caller's session; the entry commits or rolls back with its change.
        actor: Who acted.
        action: What was done, e.g. ``"assigned"``, ``"user added"``.
        mrns: The patients concerned.
        document_ids: The documents concerned.
        outcome: ``"ok"``, ``"denied"``, ``"failed"``...
        detail: Free text or JSON about the act (never a password).
    """
    append(
        session,
        actor,
        action,
        mrns=mrns,
        document_ids=document_ids,
        outcome=outcome,
        detail=detail,
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
    """Append one access entry (a view, list, search, image, download) in its own transaction.

    Record the ids of every document and patient shown, not only the query.
    """
    with store.session() as session:
        append(
            session,
            actor,
            action,
            access=True,
            mrns=mrns,
            document_ids=document_ids,
            outcome=outcome,
            detail=detail,
        )


def history(session: Session, document_id: int) -> list[EntryView]:
    """Every entry naming this document, oldest first."""
    query = (
        select(AuditEntry)
        .join(AuditDocument, AuditDocument.entry_id == AuditEntry.id)
        .where(AuditDocument.document_id == document_id)
        .order_by(AuditEntry.id)
    )
    return [EntryView.of(row) for row in session.scalars(query)]


# -- verifying the chain -------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """An unbroken chain: how many entries, and its head."""

    count: int
    head_id: int
    head_hash: str

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return {"ok": True, "count": self.count, "head_id": self.head_id, "hash": self.head_hash}


@dataclass(frozen=True)
class Pin:
    """A checkpoint's claim to check while walking: entry ``head_id`` has ``hash``."""

    head_id: int
    hash: str
    count: int


def iter_rows(engine: Engine, batch: int = 10_000) -> Iterator[Sequence[Any]]:
    """Every audit_log row in id order, streamed (never the whole table in memory)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"SELECT {COLUMNS} FROM audit_log ORDER BY id")  # noqa: S608 - constant
        while rows := cursor.fetchmany(batch):
            yield from rows
        cursor.close()
    finally:
        raw.close()


def _diagnose(row: Sequence[Any]) -> str:
    """Why an entry's hash does not match: moved from a neighbouring id, or altered."""
    for shift in (1, -1):
        form = canonical(row[0] + shift, *row[1:11])
        if chain_hash(row[11], form) == row[12]:
            return (
                f"it holds what was entry {row[0] + shift} "
                "(entries were inserted, removed or reordered)"
            )
    return "altered (its content does not match its hash)"


def verify(engine: Engine, pin: Pin | None = None) -> VerifyResult:
    """Recompute the whole chain, streaming; raise at the first broken entry.

    Args:
        engine: The store's engine.
        pin: A verified checkpoint's head, which must still be in the chain as it was.

    Raises:
        AuditChainError: one line naming the first entry altered, removed, inserted or
            reordered, or the checkpoint's head missing or different.
    """
    expected_id, prev, count = 1, GENESIS, 0
    pinned = pin is None
    for row in iter_rows(engine):
        entry_id, stored_prev, stored_hash = row[0], row[11], row[12]
        if chain_hash(stored_prev, canonical(*row[:11])) != stored_hash:
            raise AuditChainError(f"audit trail broken at entry {entry_id}: {_diagnose(row)}")
        if entry_id != expected_id:
            gone = (
                f"entry {expected_id}"
                if entry_id == expected_id + 1
                else f"entries {expected_id}-{entry_id - 1}"
            )
            raise AuditChainError(f"audit trail broken at entry {entry_id}: {gone} removed")
        if stored_prev != prev:
            raise AuditChainError(
                f"audit trail broken at entry {entry_id}: it does not follow entry "
                f"{entry_id - 1} (an entry was inserted, removed or reordered here)"
            )
        count += 1
        if pin is not None and entry_id == pin.head_id:
            if stored_hash != pin.hash or count != pin.count:
                raise AuditChainError(
                    f"audit trail broken at entry {entry_id}: differs from the checkpoint "
                    "(the chain up to it was rewritten)"
                )
            pinned = True
        prev, expected_id = stored_hash, entry_id + 1
    if not pinned and pin is not None:
        raise AuditChainError(
            f"audit trail broken after entry {expected_id - 1}: the checkpoint's head, entry "
            f"{pin.head_id}, and what followed it were removed"
        )
    return VerifyResult(count, expected_id - 1, prev)
