"""document_people: providers and other people a document names

Revision ID: 0014_roles
Revises: 0012_page_costs
Create Date: 2026-11-29 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_roles"
down_revision = "0012_page_costs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("document_people", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_people_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_document_people_role"), ["role"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_people_role"))
        batch_op.drop_index(batch_op.f("ix_document_people_document_id"))
    op.drop_table("document_people")
