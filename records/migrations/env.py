"""Alembic environment: runs on the connection that records.db hands it."""

from __future__ import annotations

from alembic import context

from records.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    """Run the migrations on the connection given in the Alembic config attributes."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
