"""operations and feeds: inactive patients, the LOINC code of a document's type

Revision ID: 0011_ops
Revises: 0001
Create Date: 2026-11-29 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_ops"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inactive", sa.String(length=64), nullable=True))
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("doc_type_loinc", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("doc_type_loinc")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("inactive")
