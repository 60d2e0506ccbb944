"""quarantined entries: one quarantine row per unreadable inbox entry, across crashes

Revision ID: 0008_stuck
Revises: 0011_ops
Create Date: 2026-11-29 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_stuck"
down_revision = "0011_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantined_entries",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        op.f("ix_quarantined_entries_document_id"),
        "quarantined_entries",
        ["document_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_quarantined_entries_document_id"), table_name="quarantined_entries")
    op.drop_table("quarantined_entries")
