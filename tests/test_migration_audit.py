"""An existing data folder (schema 0001, with events) upgrades in place to the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from records.audit import verify
from records.db import alembic_config, open_engine


def _database_at_0001(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql(
            "INSERT INTO documents (id, source_name, source_path, status, patient_mrn, pages, "
            "received_at, updated_at) VALUES (1, 'a.pdf', '/in/a.pdf', 'filed', '555001', 1, "
            "'2026-11-01 08:00:00.000000', '2026-11-01 08:00:00.000000')"
        )
        events = [
            (1, "2026-11-01 08:00:00.000000", "chartclerk", "received", None, 0),
            (1, "2026-11-01 08:00:00.000000", "chartclerk", "filed", '{"mrn": "555001"}', 0),
            (None, "2026-11-01 09:00:00.500000", "clerk-a", "search", '{"hits": 1}', 1),
            (1, "2026-11-01 09:01:00.000000", "clerk-a", "viewed", None, 1),
            (1, "2026-11-02 10:00:00.000000", "clerk-b", "refiled", '{"from": "555001", '
             '"to": "555002", "reason": "wrong chart"}', 0),
        ]  # fmt: skip
        connection.exec_driver_sql(
            "INSERT INTO events (document_id, at, actor, kind, detail, is_access) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            events,
        )
    engine.dispose()
    return url


def test_events_become_the_first_entries_of_the_chain(tmp_path: Path) -> None:
    engine = open_engine(_database_at_0001(tmp_path / "old.db"))
    try:
        assert "events" not in inspect(engine).get_table_names()
        assert verify(engine).count == 5
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT id, at, actor, channel, action, access, mrns, document_ids, detail "
                "FROM audit_log ORDER BY id"
            ).all()
        assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
        assert [(r[2], r[3], r[4]) for r in rows] == [
            ("system", "daemon", "received"),
            ("system", "daemon", "filed"),
            ("clerk-a", "cli", "search"),
            ("clerk-a", "cli", "viewed"),
            ("clerk-b", "cli", "refiled"),
        ]
        assert rows[2][1] == "2026-11-01T09:00:00.500000+00:00"
        assert [bool(r[5]) for r in rows] == [False, False, True, True, False]
        assert json.loads(rows[4][6]) == ["555001", "555002"]
        assert [json.loads(r[7]) for r in rows] == [[1], [1], [], [1], [1]]
        assert json.loads(rows[4][8])["reason"] == "wrong chart"
        with engine.begin() as conn:
            count = conn.exec_driver_sql(
                "SELECT count(*) FROM audit_log_documents WHERE document_id = 1"
            ).scalar()
            assert count == 4
        with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_log")
    finally:
        engine.dispose()


def test_the_upgraded_chain_goes_on_and_downgrade_brings_events_back(tmp_path: Path) -> None:
    url = _database_at_0001(tmp_path / "old.db")
    engine = open_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
            kinds = connection.exec_driver_sql("SELECT kind FROM events ORDER BY id").scalars()
            assert list(kinds) == ["received", "filed", "search", "viewed", "refiled"]
            command.upgrade(config, "head")
        assert verify(engine).count == 5
    finally:
        engine.dispose()
