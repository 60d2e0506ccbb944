"""operations and feeds: earlier readings, inactive patients, a document type's LOINC code

Revision ID: 0011_ops
Revises: 0009_users_audit
Create Date: 2026-11-29 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_ops"
# Chained after i9's migration (merged into this branch) so the branch has one head.
down_revision = "0009_users_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("patient_mrn", sa.String(length=32), nullable=True),
        sa.Column("doc_type", sa.String(length=32), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("ocr_confidence", sa.Float(), nullable=True),
        sa.Column("decision_json", sa.Text(), nullable=True),
        sa.Column("pages_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_readings_document_id"), ["document_id"], unique=False)
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inactive", sa.String(length=64), nullable=True))
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("doc_type_loinc", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_readings_document_id"))
    op.drop_table("readings")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("doc_type_loinc")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("inactive")
