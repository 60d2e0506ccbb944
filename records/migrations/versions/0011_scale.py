"""patient keys for complete candidate lookup; registry generation

Revision ID: 0011_scale
Revises: 0013_charts
Create Date: 2026-11-29 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from records.patient_records import letters_key, surname_parts

revision = "0011_scale"
down_revision = "0013_charts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_key", sa.String(length=120), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("first_key", sa.String(length=120), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_parts", sa.String(length=240), server_default="", nullable=False)
        )
    _fill_keys()
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index("ix_patients_last_first", ["last_key", "first_key"], unique=False)
        batch_op.create_index(
            "ix_patients_undated_last_first",
            ["last_key", "first_key"],
            unique=False,
            sqlite_where=sa.text("dob IS NULL"),
        )
    op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _fill_keys() -> None:
    """Key the patients an older schema already holds."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, last_name, first_name FROM patients")).all()
    updates = [
        {
            "id": pid,
            "last": letters_key(last),
            "first": letters_key(first),
            "parts": " ".join(surname_parts(last)),
        }
        for pid, last, first in rows
    ]
    if updates:
        connection.execute(
            sa.text(
                "UPDATE patients SET last_key = :last, first_key = :first, last_parts = :parts"
                " WHERE id = :id"
            ),
            updates,
        )


def downgrade() -> None:
    op.drop_table("registry_state")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_undated_last_first")
        batch_op.drop_index("ix_patients_last_first")
        batch_op.drop_column("last_parts")
        batch_op.drop_column("first_key")
        batch_op.drop_column("last_key")
