"""users, API tokens and the hash-chained audit_log (the events become its first entries)

Revision ID: 0009_users_audit
Revises: 0001
Create Date: 2026-11-29 19:40:00
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from records.audit import GENESIS, canonical, chain_hash, json_list

revision = "0009_users_audit"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_log", "audit_log_documents", "audit_log_patients")
# The actor the old code wrote for the service itself.
OLD_SYSTEM = "chartclerk"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("access", sa.Boolean(), nullable=False),
        sa.Column("mrns", sa.Text(), nullable=False),
        sa.Column("document_ids", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("client", sa.String(length=255), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
    op.create_table(
        "audit_log_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO audit_log_lock (id, n) VALUES (1, 0)")
    op.create_table(
        "audit_log_documents",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["audit_log.id"]),
        sa.PrimaryKeyConstraint("document_id", "entry_id"),
    )
    op.create_table(
        "audit_log_patients",
        sa.Column("mrn", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["audit_log.id"]),
        sa.PrimaryKeyConstraint("mrn", "entry_id"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_name"), ["name"], unique=True)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    _chain_old_events(op.get_bind())
    op.drop_table("events")
    for table in APPEND_ONLY:
        _refuse_changes(table)


def _refuse_changes(table: str) -> None:
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def _mrns_in(detail: str | None) -> list[str]:
    try:
        data = json.loads(detail) if detail else None
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    found = {data.get(key) for key in ("mrn", "from", "to")}
    return sorted(v for v in found if isinstance(v, str) and v)


def _old_events(connection: sa.Connection) -> Iterator[Any]:
    yield from connection.exec_driver_sql(
        "SELECT id, document_id, at, actor, kind, detail, is_access FROM events ORDER BY id"
    )


def _chain_old_events(connection: sa.Connection) -> None:
    """The existing events, in id order, become the first entries of the chain."""
    prev, entries, docs, mrns = GENESIS, [], [], []
    for number, event in enumerate(_old_events(connection), start=1):
        _old_id, document_id, at, actor, kind, detail, is_access = event
        when = datetime.fromisoformat(str(at)).replace(tzinfo=UTC)
        name, channel = ("system", "daemon") if actor == OLD_SYSTEM else (actor, "cli")
        mrn_list = _mrns_in(detail)
        doc_list = [document_id] if document_id is not None else []
        row = {
            "id": number,
            "at": when.isoformat(timespec="microseconds"),
            "actor": name,
            "channel": channel,
            "action": kind,
            "access": bool(is_access),
            "mrns": json_list(mrn_list),
            "document_ids": json_list(doc_list),
            "outcome": "ok",
            "detail": detail,
            "client": None,
        }
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(prev, canonical(*list(row.values())[:11]))
        entries.append(row)
        docs += [{"document_id": d, "entry_id": number} for d in doc_list]
        mrns += [{"mrn": m, "entry_id": number} for m in mrn_list]
    meta = sa.MetaData()
    names = ("audit_log", "audit_log_documents", "audit_log_patients")
    tables = [sa.Table(name, meta, autoload_with=connection) for name in names]
    for table, rows in zip(tables, (entries, docs, mrns), strict=True):
        if rows:
            connection.execute(table.insert(), rows)


def downgrade() -> None:
    for table in APPEND_ONLY:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("is_access", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_at", ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_document_id"), ["document_id"], unique=False)
    # Back to one row per entry, about its first document (if it still exists).
    op.execute(
        "INSERT INTO events (document_id, at, actor, kind, detail, is_access) "
        "SELECT (SELECT min(d.document_id) FROM audit_log_documents d "
        "        JOIN documents ON documents.id = d.document_id WHERE d.entry_id = a.id), "
        "replace(substr(a.at, 1, 26), 'T', ' '), a.actor, substr(a.action, 1, 32), a.detail, "
        "a.access FROM audit_log a ORDER BY a.id"
    )
    for table in ("api_tokens", "users", "audit_log_patients", "audit_log_documents"):
        op.drop_table(table)
    op.drop_table("audit_log_lock")
    op.drop_table("audit_log")
