"""pages.passes_json: the tesseract passes each page cost

Revision ID: 0012_page_costs
Revises: 0008_stuck
Create Date: 2026-11-29 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_page_costs"
down_revision = "0008_stuck"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("passes_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("passes_json")
