"""The audit trail's cost: the chain per appended entry, and `audit verify` speed.

    .venv/bin/python benchmarks/bench_audit.py                 # 2,000 appends, 1,000,000 verified
    .venv/bin/python benchmarks/bench_audit.py --appends 500 --verify 100000

Appends: the same entries are written once through records.audit (write lock, head read,
canonical form, sha256) and once as bare inserts of the same rows and index rows with no
chain, in the same database, each mode both one entry per transaction (as a view is
recorded; fsync-bound with synchronous=FULL) and all in one transaction (the CPU cost).
Verify: a generated chain of --verify entries is verified by `records.audit.verify` (which
streams); the reference is the same SELECT read to the end without hashing. Peak memory of
the verify is shown to prove it streams.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from records import audit  # noqa: E402
from records.audit import GENESIS, Actor, canonical, chain_hash, json_list  # noqa: E402
from records.models import AuditEntry  # noqa: E402
from records.settings import StoreSettings  # noqa: E402
from records.store import Store  # noqa: E402

ACTOR = Actor("clerk-a", "cli")


def open_store(folder: Path) -> Store:
    return Store(
        StoreSettings(
            database_url=f"sqlite:///{folder / 'db.sqlite'}",
            archive_dir=folder / "archive",
            quarantine_dir=folder / "q",
        )
    )


def _plain_tables(store: Store) -> None:
    """Copies of the audit tables without triggers, for the no-chain reference."""
    with store.engine.begin() as conn:
        for sql in (
            "CREATE TABLE plain_log AS SELECT * FROM audit_log WHERE 0",
            "CREATE TABLE plain_docs (document_id INTEGER, entry_id INTEGER, "
            "PRIMARY KEY (document_id, entry_id))",
            "CREATE TABLE plain_mrns (mrn TEXT, entry_id INTEGER, PRIMARY KEY (mrn, entry_id))",
        ):
            conn.exec_driver_sql(sql)


def _plain_append(session: Session, n: int) -> None:
    """The same rows and index rows through the same driver calls, with no lock, head or hash."""
    connection = session.connection()
    mrn = f"{n:08d}"
    fields = (n, audit.stamp(), ACTOR.name, "cli", "viewed", 1, json_list([mrn]), json_list([n]))
    connection.exec_driver_sql(
        f"INSERT INTO plain_log ({audit.COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*fields, "ok", None, None, GENESIS, GENESIS),
    )
    connection.exec_driver_sql("INSERT INTO plain_docs VALUES (?, ?)", [(n, n)])
    connection.exec_driver_sql("INSERT INTO plain_mrns VALUES (?, ?)", [(mrn, n)])


def _chain_append(session: Session, n: int) -> None:
    audit.append(session, ACTOR, "viewed", access=True, mrns=[f"{n:08d}"], document_ids=[n])


def bench_appends(folder: Path, count: int) -> None:
    store = open_store(folder)
    _plain_tables(store)
    results: dict[tuple[str, str], float] = {}
    cpu_results: dict[tuple[str, str], float] = {}
    offset = 0
    for mode in ("one transaction each", "all in one transaction"):
        for name, fn in (("no chain", _plain_append), ("chain", _chain_append)):
            start, cpu = time.perf_counter(), time.process_time()
            if mode == "one transaction each":
                for i in range(count):
                    with store.session() as s:
                        fn(s, offset + i + 1)
            else:
                with store.session() as s:
                    for i in range(count):
                        fn(s, offset + i + 1)
            results[(mode, name)] = (time.perf_counter() - start) / count * 1e6
            cpu_results[(mode, name)] = (time.process_time() - cpu) / count * 1e6
        offset += count
    store.close()
    print(f"appends: {count} entries per run")
    for mode in ("one transaction each", "all in one transaction"):
        plain, chain = results[(mode, "no chain")], results[(mode, "chain")]
        plain_cpu, chain_cpu = cpu_results[(mode, "no chain")], cpu_results[(mode, "chain")]
        print(
            f"  {mode:24s} wall: no chain {plain:7.1f} µs, chain {chain:7.1f} µs "
            f"({chain - plain:+6.1f} µs/entry)   CPU: no chain {plain_cpu:6.1f} µs, "
            f"chain {chain_cpu:6.1f} µs ({chain_cpu - plain_cpu:+6.1f} µs/entry)"
        )


def _generate(store: Store, count: int, batch: int = 50_000) -> None:
    """A valid chain of ``count`` entries, written in bulk (not through append)."""
    prev = GENESIS
    at = "2026-11-29T12:00:00.000000+00:00"
    with store.engine.begin() as conn:
        for start in range(1, count + 1, batch):
            rows = []
            for n in range(start, min(start + batch, count + 1)):
                mrns, docs = json_list([f"{n % 90000 + 10000:08d}"]), json_list([n % 50000])
                fields = (n, at, "clerk-a", "cli", "viewed", 1, mrns, docs, "ok", None, None)
                digest = chain_hash(prev, canonical(*fields))
                rows.append(
                    {
                        "id": n, "at": at, "actor": "clerk-a", "channel": "cli",
                        "action": "viewed", "access": True, "mrns": mrns, "document_ids": docs,
                        "outcome": "ok", "detail": None, "client": None,
                        "prev_hash": prev, "hash": digest,
                    }
                )  # fmt: skip
                prev = digest
            conn.execute(insert(AuditEntry), rows)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_verify(folder: Path, count: int) -> None:
    store = open_store(folder)
    start = time.perf_counter()
    _generate(store, count)
    print(f"verify: generated {count:,} entries in {time.perf_counter() - start:.1f} s")
    rss_before = _peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    rows = sum(1 for _ in audit.iter_rows(store.engine))
    read, read_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    result = audit.verify(store.engine)
    took, took_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert result.count == rows == count
    store.close()
    # CPU seconds too: on a shared machine the wall clock measures the neighbours.
    print(
        f"  read only (reference) {read:6.2f} s wall {count / read:10,.0f}/s   "
        f"{read_cpu:6.2f} s CPU {count / read_cpu:10,.0f}/s\n"
        f"  audit verify          {took:6.2f} s wall {count / took:10,.0f}/s   "
        f"{took_cpu:6.2f} s CPU {count / took_cpu:10,.0f}/s "
        f"({took_cpu / read_cpu:.2f}x the bare read's CPU; target >= 100,000/s)\n"
        f"  peak RSS before verify {rss_before:.0f} MB, after {_peak_rss_mb():.0f} MB (streams)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--verify", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.appends:
            (Path(tmp) / "a").mkdir()
            bench_appends(Path(tmp) / "a", args.appends)
        if args.verify:
            (Path(tmp) / "v").mkdir()
            bench_verify(Path(tmp) / "v", args.verify)


if __name__ == "__main__":
    main()
