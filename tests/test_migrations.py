"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from records.db import open_engine
from records.models import Base


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() is not None
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models changed without a migration: {diff}"
    finally:
        engine.dispose()


def test_reopening_an_existing_database_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = open_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO patients (mrn, last_name, first_name, name_key, updated_at) "
            "VALUES ('00000001', 'Testa', 'Ada', 'TST', '2026-01-01 00:00:00')"
        )
    engine.dispose()
    again = open_engine(url)
    try:
        assert "documents" in inspect(again).get_table_names()
        with again.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM patients").scalar()
        assert count == 1
    finally:
        again.dispose()


def test_the_migrations_are_one_line_in_the_documented_order(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    import records.migrations.versions as versions
    from records.db import alembic_config

    engine = open_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        script = ScriptDirectory.from_config(alembic_config(engine))
        assert len(script.get_heads()) == 1
        oldest_first = [r.revision for r in reversed(list(script.walk_revisions()))]
    finally:
        engine.dispose()
    documented = [part.strip(" .\n") for part in (versions.__doc__ or "").split(":")[-1].split("→")]
    assert oldest_first == documented
    # The revision a database at the newest schema is opened with, without Alembic.
    assert oldest_first[-1] == versions.HEAD
