"""The audit trail: appended in the act's transaction, hash-chained, append-only, verified.

Every way of breaking the chain is tried as an attacker with the database file would:
triggers dropped first, then rows edited, deleted, inserted, swapped or cut off.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from chartclerk_errors import AuditChainError, StoreError
from records import audit, checkpoint
from records.audit import SYSTEM, Actor, canonical, chain_hash, record, record_access, verify
from records.settings import StoreSettings
from records.store import NewDocument, Store

ALICE = Actor("alice", "cli")
BOB = Actor("bob", "web", "10.0.0.7")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    instance = Store(
        StoreSettings(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
            archive_dir=tmp_path / "archive",
            quarantine_dir=tmp_path / "quarantine",
        )
    )
    yield instance
    instance.close()


def _fill(store: Store, n: int = 10) -> None:
    for i in range(n):
        record_access(store, ALICE if i % 2 else BOB, "viewed", document_ids=[i], mrns=[f"M{i}"])


def _db(store: Store) -> sqlite3.Connection:
    """The database as an attacker opens it: plain sqlite3, triggers dropped."""
    path = store.settings.database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    for table in ("audit_log", "audit_log_documents", "audit_log_patients"):
        for verb in ("update", "delete"):
            conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    return conn


def _broken(store: Store, pin: audit.Pin | None = None) -> str:
    with pytest.raises(AuditChainError) as caught:
        verify(store.engine, pin)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_entries_chain_from_genesis_and_verify(store: Store) -> None:
    assert verify(store.engine).count == 0
    _fill(store, 5)
    result = verify(store.engine)
    assert (result.count, result.head_id) == (5, 5)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT {audit.COLUMNS} FROM audit_log ORDER BY id").all()
    prev = audit.GENESIS
    for row in rows:
        assert row[11] == prev
        assert row[12] == chain_hash(prev, canonical(*row[:11]))
        assert row[1].endswith("+00:00")  # UTC with its offset
        prev = row[12]
    assert rows[0][2:4] == ("bob", "web") and rows[0][10] == "10.0.0.7"
    assert json.loads(rows[1][6]) == ["M1"] and json.loads(rows[1][7]) == [1]
    assert result.head_hash == prev


def test_record_commits_and_rolls_back_with_the_callers_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as s:
        record(s, ALICE, "assigned", document_ids=[1])
        raise RuntimeError("the act failed")
    assert verify(store.engine).count == 0
    with store.session() as s:
        record(s, ALICE, "assigned", document_ids=[1], outcome="ok", detail="x")
    assert store.list_events()[0]["kind"] == "assigned"


def test_the_database_refuses_update_and_delete(store: Store) -> None:
    _fill(store, 2)
    for sql in (
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log WHERE id = 2",
        "DELETE FROM audit_log_documents",
        "UPDATE audit_log_patients SET mrn = 'x'",
    ):
        with pytest.raises(IntegrityError, match="append-only"), store.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    assert verify(store.engine).count == 2


def test_deleting_a_document_never_touches_the_trail(store: Store) -> None:
    doc_id = store.add_document(
        NewDocument(
            sha256="b" * 64,
            source_name="a.pdf",
            source_path="/in/a.pdf",
            status="review",
            events=[("received", None)],
        )
    )
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM documents WHERE id = {doc_id}")
    assert verify(store.engine).count == 1
    assert store.list_events(document_id=doc_id)[0]["kind"] == "received"


def test_concurrent_writers_never_fork_the_chain(store: Store) -> None:
    def write(n: int) -> None:
        for i in range(25):
            record_access(store, Actor(f"u{n}", "api"), "viewed", document_ids=[i])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert verify(store.engine).count == 100


def test_an_edited_field_is_named(store: Store) -> None:
    _fill(store)
    _db(store).execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 4")
    assert (
        _broken(store)
        == "audit trail broken at entry 4: altered (its content does not match its hash)"
    )


def test_an_edited_id_list_is_named(store: Store) -> None:
    _fill(store)
    _db(store).execute("UPDATE audit_log SET document_ids = '[]', mrns = '[]' WHERE id = 7")
    assert "entry 7: altered" in _broken(store)


def test_a_deleted_entry_is_named(store: Store) -> None:
    _fill(store)
    _db(store).execute("DELETE FROM audit_log WHERE id = 6")
    assert _broken(store) == "audit trail broken at entry 7: entry 6 removed"


def test_an_inserted_entry_is_found(store: Store) -> None:
    """A forged entry slipped in at 5 (later ones renumbered) or appended with a wrong link."""
    _fill(store)
    conn = _db(store)
    rows = conn.execute(f"SELECT {audit.COLUMNS} FROM audit_log ORDER BY id").fetchall()
    conn.execute("DELETE FROM audit_log")
    forged = (5, rows[4][1], "mallory", "cli", "viewed", 0, "[]", "[]", "ok", None, None)
    prev = rows[3][12]
    new_rows = [*rows[:4], (*forged, prev, chain_hash(prev, canonical(*forged)))]
    new_rows += [(r[0] + 1, *r[1:]) for r in rows[4:]]
    conn.executemany(
        f"INSERT INTO audit_log ({audit.COLUMNS}) VALUES ({','.join('?' * 13)})", new_rows
    )
    assert _broken(store).startswith("audit trail broken at entry 6: it holds what was entry 5")


def test_an_entry_appended_without_the_chain_is_found(store: Store) -> None:
    _fill(store, 3)
    forged = (
        4,
        "2026-01-01T00:00:00.000000+00:00",
        "x",
        "cli",
        "a",
        0,
        "[]",
        "[]",
        "ok",
        None,
        None,
    )
    prev = "f" * 64
    _db(store).execute(
        f"INSERT INTO audit_log ({audit.COLUMNS}) VALUES ({','.join('?' * 13)})",
        (*forged, prev, chain_hash(prev, canonical(*forged))),
    )
    assert _broken(store) == (
        "audit trail broken at entry 4: it does not follow entry 3 "
        "(an entry was inserted, removed or reordered here)"
    )


def test_two_swapped_entries_are_named(store: Store) -> None:
    _fill(store)
    conn = _db(store)
    rows = {r[0]: r for r in conn.execute(f"SELECT {audit.COLUMNS} FROM audit_log")}
    conn.execute("DELETE FROM audit_log WHERE id IN (3, 4)")
    insert = f"INSERT INTO audit_log ({audit.COLUMNS}) VALUES ({','.join('?' * 13)})"
    conn.execute(insert, (3, *rows[4][1:]))
    conn.execute(insert, (4, *rows[3][1:]))
    assert _broken(store).startswith("audit trail broken at entry 3: it holds what was entry 4")


def test_a_chain_rewritten_whole_passes_alone_but_not_against_a_checkpoint(
    store: Store, tmp_path: Path
) -> None:
    _fill(store)
    key, cp = tmp_path / "keys" / "cp.key", tmp_path / "cp.json"
    checkpoint.cut(store.engine, key, cp)
    conn = _db(store)
    rows = conn.execute(f"SELECT {audit.COLUMNS} FROM audit_log ORDER BY id").fetchall()
    conn.execute("DELETE FROM audit_log")
    prev = audit.GENESIS
    for row in rows:
        fields = (*row[:2], "mallory", *row[3:11])
        prev, old = chain_hash(prev, canonical(*fields)), prev
        conn.execute(
            f"INSERT INTO audit_log ({audit.COLUMNS}) VALUES ({','.join('?' * 13)})",
            (*fields, old, prev),
        )
    assert verify(store.engine).count == 10  # self-consistent: only a checkpoint catches it
    message = str(
        pytest.raises(AuditChainError, checkpoint.verify_with, store.engine, cp, key).value
    )
    assert message == (
        "audit trail broken at entry 10: differs from the checkpoint "
        "(the chain up to it was rewritten)"
    )


def test_a_tail_cut_off_after_a_checkpoint_is_found(store: Store, tmp_path: Path) -> None:
    _fill(store)
    key, cp = tmp_path / "cp.key", tmp_path / "cp.json"
    payload = checkpoint.cut(store.engine, key, cp)
    assert (payload["head_id"], payload["count"]) == (10, 10)
    assert (key.stat().st_mode & 0o777, cp.stat().st_mode & 0o777) == (0o600, 0o600)
    _fill(store, 2)  # appended after the checkpoint: fine
    assert checkpoint.verify_with(store.engine, cp, key).count == 12
    _db(store).execute("DELETE FROM audit_log WHERE id > 7")
    assert verify(store.engine).count == 7  # a cut tail looks whole without a checkpoint
    message = str(
        pytest.raises(AuditChainError, checkpoint.verify_with, store.engine, cp, key).value
    )
    assert message == (
        "audit trail broken after entry 7: the checkpoint's head, entry 10, and what followed "
        "it were removed"
    )


def test_a_forged_checkpoint_is_refused(store: Store, tmp_path: Path) -> None:
    _fill(store, 3)
    key, cp = tmp_path / "cp.key", tmp_path / "cp.json"
    checkpoint.cut(store.engine, key, cp)
    data = json.loads(cp.read_text())
    data["head_id"], data["count"] = 2, 2
    cp.write_text(json.dumps(data))
    with pytest.raises(AuditChainError, match="signature does not match"):
        checkpoint.verify_with(store.engine, cp, key)


def test_a_checkpoint_of_a_broken_chain_is_refused(store: Store, tmp_path: Path) -> None:
    _fill(store, 3)
    _db(store).execute("UPDATE audit_log SET outcome = 'denied' WHERE id = 2")
    with pytest.raises(AuditChainError):
        checkpoint.cut(store.engine, tmp_path / "k", tmp_path / "cp.json")
    assert not (tmp_path / "cp.json").exists()


def test_history_and_the_old_listing_read_the_trail(store: Store) -> None:
    doc_id = store.add_document(
        NewDocument(
            sha256="c" * 64,
            source_name="a.pdf",
            source_path="/in/a.pdf",
            status="filed",
            patient_mrn="123456",
            events=[("received", None), ("filed", {"mrn": "123456"})],
        )
    )
    record_access(store, ALICE, "viewed", document_ids=[doc_id], mrns=["123456"])
    history = store.get_document(doc_id).events
    assert [(e.actor, e.kind) for e in history] == [
        ("system", "received"),
        ("system", "filed"),
        ("alice", "viewed"),
    ]
    assert all(e.at.tzinfo is not None for e in history)
    rows = store.list_events(document_id=doc_id, access_only=True)
    assert [(r["actor"], r["channel"], r["mrns"]) for r in rows] == [("alice", "cli", ["123456"])]
    assert store.list_events(actor="system")[0]["mrns"] == ["123456"]
    assert Actor("system", "daemon") == SYSTEM


def test_an_unknown_channel_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="channel"), store.session() as s:
        record(s, Actor("x", "email"), "viewed")  # type: ignore[arg-type]


def test_store_errors_carry_no_bound_parameters(store: Store) -> None:
    with pytest.raises(StoreError) as caught, store.session() as s:
        s.execute(text("INSERT INTO users (name) VALUES (:secret)"), {"secret": "Smith-1962-03-04"})
    assert "Smith" not in str(caught.value)
    assert "Smith" not in str(caught.value.__cause__)  # hide_parameters on the engine
    assert "hidden" in str(caught.value.__cause__)
