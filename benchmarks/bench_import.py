"""Patient import and candidate lookup on generated registries.

    .venv/bin/python benchmarks/bench_import.py            # 10,000 then 100,000 patients
    .venv/bin/python benchmarks/bench_import.py --n 5000 --large 0

Figures are also given as a ratio to a reference run in the same process: a bare sqlite3
executemany of the same rows into a table with the same indexes (what the import would cost
with no parsing, validation, name keys or ORM).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records.audit import SYSTEM
from records.patient_records import name_key  # noqa: E402
from records.patients import count_patients, find_candidates, import_patients  # noqa: E402
from records.settings import StoreSettings  # noqa: E402
from records.store import Store  # noqa: E402
from synthetic.patients import SyntheticPatient, generate_patients, write_registry_csv  # noqa: E402


def open_store(folder: Path) -> Store:
    return Store(
        StoreSettings(
            database_url=f"sqlite:///{folder / 'db.sqlite'}",
            archive_dir=folder / "archive",
            quarantine_dir=folder / "q",
        )
    )


def reference_insert(folder: Path, patients: list[SyntheticPatient]) -> float:
    """Bare sqlite3: same rows, same indexes, same pragmas, one transaction."""
    conn = sqlite3.connect(folder / "ref.sqlite")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, mrn TEXT UNIQUE, last_name TEXT,"
        " first_name TEXT, dob DATE, sex TEXT, name_key TEXT, merged_into TEXT, updated_at TEXT)"
    )
    conn.execute("CREATE INDEX p_dob ON p (dob)")
    conn.execute("CREATE INDEX p_key ON p (name_key)")
    rows = [(p.mrn, p.last_name, p.first_name, p.dob.isoformat(), p.sex) for p in patients]
    start = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO p (mrn, last_name, first_name, dob, sex, name_key, updated_at)"
            " VALUES (?, ?, ?, ?, ?, '', '2024-01-01')",
            rows,
        )
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def timed_import(store: Store, path: Path, label: str, n: int, reference: float) -> None:
    start = time.perf_counter()
    report = import_patients(store, path, actor=SYSTEM)
    elapsed = time.perf_counter() - start
    print(
        f"{label:<22} {n:>7} rows  {elapsed:6.2f} s  {n / elapsed:>9,.0f} rows/s  "
        f"{elapsed / reference:5.1f}x bare sqlite3   "
        f"(added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"errors {len(report.errors)})"
    )


def bench_lookups(store: Store, patients: list[SyntheticPatient], lookups: int) -> None:
    rng = random.Random(7)
    timings: list[float] = []
    sizes: list[int] = []
    for _ in range(lookups):
        p = rng.choice(patients)
        # Half the pages show a misread MRN, as OCR does: the DOB and name must carry them.
        mrn = p.mrn if rng.random() < 0.5 else p.mrn[:-1] + "9"
        start = time.perf_counter()
        found = find_candidates(store, [mrn], [p.dob], [p.last_name])
        timings.append((time.perf_counter() - start) * 1000)
        sizes.append(len(found))
        assert p.mrn in {v.mrn for v in found}
    timings.sort()
    p95 = timings[int(0.95 * len(timings)) - 1]
    print(
        f"find_candidates x{lookups} on {count_patients(store):,} patients: "
        f"p50 {statistics.median(timings):.2f} ms  p95 {p95:.2f} ms  "
        f"(median {statistics.median(sizes):.0f} candidates, max {max(sizes)})"
    )


def run(n: int, folder: Path, lookups: int) -> None:
    patients = generate_patients(n, seed=1)
    path = write_registry_csv(patients, folder / f"registry-{n}.csv")
    reference = reference_insert(folder, patients)
    print(f"reference: bare sqlite3 executemany of {n:,} rows: {reference:.2f} s")
    store = open_store(folder)
    try:
        timed_import(store, path, "import (fresh store)", n, reference)
        timed_import(store, path, "re-import (unchanged)", n, reference)
        if lookups:
            bench_lookups(store, patients, lookups)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="patients in the first run")
    parser.add_argument("--large", type=int, default=100_000, help="patients in the large run")
    parser.add_argument("--lookups", type=int, default=1000, help="find_candidates calls")
    args = parser.parse_args()
    name_key("warm-up")  # jellyfish import and first call outside the timings
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        runs = [(args.n, 0)] + ([(args.large, args.lookups)] if args.large else [])
        for n, lookups in runs:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            run(n, folder, lookups)


if __name__ == "__main__":
    main()
