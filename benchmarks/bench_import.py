"""Patient import and candidate lookup + decision on a registry like a big hospital's.

    .venv/bin/python benchmarks/bench_import.py                  # 100,000 patients
    nice .venv/bin/python benchmarks/bench_import.py --n 1000000 # the million (minutes)

The registry is generated and streamed to CSV: Zipf-distributed surnames (tens of
thousands of them) with one block of 2 % Smiths (20,000 at a million), twins and
namesakes, 2 % of patients without a date of birth, MRNs with leading zeros.

Figures are also given against a reference in the same process: the import against a bare
sqlite3 executemany of the same rows into a table with the same indexes (no parsing,
validation, keys or ORM); lookup + decision against ``decide`` alone on the candidates
the lookup brought (what matching costs with no lookup).
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn  # noqa: E402

from records.audit import SYSTEM  # noqa: E402
from records.candidates import given_name_vocabulary, surname_vocabulary  # noqa: E402
from records.patient_records import letters_key  # noqa: E402
from records.patients import count_patients, import_patients  # noqa: E402
from records.settings import StoreSettings  # noqa: E402
from records.store import Store  # noqa: E402
from scanner.identifying.identifiers import Identifiers  # noqa: E402
from scanner.identifying.names import PersonName  # noqa: E402
from scanner.matching.decision import MatchSettings, decide  # noqa: E402
from scanner.matching.lookup import lookup_and_decide  # noqa: E402

_SYLLABLES = [
    "an", "ber", "cor", "dal", "en", "fel", "gar", "hol", "ist", "jor", "kal", "lin", "mor",
    "nor", "ost", "per", "quin", "ros", "sten", "tor", "ul", "ver", "wes", "yor", "zan",
    "bright", "son", "man", "ley", "ton", "field", "wood", "ski", "ova", "ez", "elli", "sen",
]  # fmt: skip
_GIVEN = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty", "Anthony",
    "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily",
    "Andrew", "Donna", "Joshua", "Michelle", "Søren", "Zoë", "José", "Łucja", "Ngozi", "Wei",
    "Aisha", "Mateo", "Priya", "Kofi", "Ingrid", "Yuki", "Olga", "Hamza", "Chloé", "Björn",
]  # fmt: skip


@dataclass(frozen=True)
class Row:
    mrn: str
    last: str
    first: str
    dob: date | None
    sex: str


def surnames(count: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        parts = rng.randint(2, 3)
        name = "".join(rng.choice(_SYLLABLES) for _ in range(parts)).title()
        if rng.random() < 0.03:
            name += "-" + "".join(rng.choice(_SYLLABLES) for _ in range(2)).title()
        names.add(name)
    return sorted(names)


def given_names(rng: random.Random) -> list[str]:
    extra = {"".join(rng.choice(_SYLLABLES) for _ in range(2)).title() for _ in range(1500)}
    return _GIVEN + sorted(extra)


def generate(n: int, seed: int) -> Iterator[Row]:
    """``n`` patients, streamed: 2 % Smiths, Zipf surnames, twins, 2 % without a DOB."""
    rng = random.Random(seed)
    pool = surnames(max(50, n // 12), rng)
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    given = given_names(rng)
    given_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(given))]
    start = date(1925, 1, 1)
    batch = 10_000
    number = 0
    while number < n:
        lasts = rng.choices(pool, weights, k=batch)
        firsts = rng.choices(given, given_weights, k=batch)
        for last, first in zip(lasts, firsts, strict=True):
            if number >= n:
                return
            if rng.random() < 0.02:
                last = "Smith"
            dob = None if rng.random() < 0.02 else start + timedelta(days=rng.randrange(36_000))
            pad = "00" if rng.random() < 0.1 else ""
            yield Row(f"{pad}{10_000_000 + number}", last, first, dob, rng.choice("MF"))
            number += 1
            if rng.random() < 0.01 and number < n:  # a twin: same surname and birth date
                yield Row(f"{10_000_000 + number}", last, rng.choice(given), dob, "F")
                number += 1


def write_csv(n: int, path: Path, sample_every: int) -> list[Row]:
    """Write the registry; return a sample of its rows (for pages), every Smith included."""
    sample: list[Row] = []
    smiths: list[Row] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["mrn", "last_name", "first_name", "dob", "sex"])
        for number, row in enumerate(generate(n, seed=11)):
            out.writerow([row.mrn, row.last, row.first, row.dob or "", row.sex])
            if number % sample_every == 0:
                sample.append(row)
            if row.last == "Smith" and len(smiths) < 500:
                smiths.append(row)
    return sample + smiths


def open_store(folder: Path) -> Store:
    return Store(
        StoreSettings(
            database_url=f"sqlite:///{folder / 'db.sqlite'}",
            archive_dir=folder / "archive",
            quarantine_dir=folder / "q",
        )
    )


def reference_insert(folder: Path, registry: Path) -> float:
    """Bare sqlite3: same rows streamed from the CSV, same indexes, one transaction."""
    conn = sqlite3.connect(folder / "ref.sqlite")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, mrn TEXT UNIQUE, last_name TEXT,"
        " first_name TEXT, dob DATE, sex TEXT, name_key TEXT, merged_into TEXT,"
        " updated_at TEXT, last_key TEXT, first_key TEXT, last_parts TEXT)"
    )
    conn.execute("CREATE INDEX p_dob ON p (dob)")
    conn.execute("CREATE INDEX p_key ON p (name_key)")
    conn.execute("CREATE INDEX p_lf ON p (last_key, first_key)")
    conn.execute("CREATE INDEX p_ulf ON p (last_key, first_key) WHERE dob IS NULL")
    start = time.perf_counter()
    with registry.open(newline="", encoding="utf-8") as handle, conn:
        reader = csv.reader(handle)
        next(reader)
        conn.executemany(
            "INSERT INTO p (mrn, last_name, first_name, dob, sex, name_key, updated_at,"
            " last_key, first_key, last_parts) VALUES (?, ?, ?, ?, ?, '', '2024-01-01', ?, ?, '')",
            (
                (m, last, first, d or None, s, last.upper(), first.upper())
                for m, last, first, d, s in reader
            ),
        )
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def timed_import(store: Store, path: Path, label: str, reference: float) -> None:
    size = path.stat().st_size
    with Progress(
        "{task.description}", BarColumn(), DownloadColumn(), TimeElapsedColumn(), transient=True
    ) as bar:
        task = bar.add_task(label, total=size)
        start = time.perf_counter()
        report = import_patients(
            store,
            path,
            actor=SYSTEM,
            progress=lambda done, total: bar.update(task, completed=done),
        )
        elapsed = time.perf_counter() - start
    rows = report.added + report.updated + report.unchanged
    print(
        f"{label:<22} {rows:>9,} rows  {elapsed:6.1f} s  {rows / elapsed:>9,.0f} rows/s  "
        f"{elapsed / reference:5.1f}x bare sqlite3   (added {report.added:,}, "
        f"unchanged {report.unchanged:,}, errors {len(report.errors)})  "
        f"peak RSS so far {peak_mib():,.0f} MiB"
    )


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pages(sample: list[Row], count: int) -> Iterator[tuple[str, Identifiers, str | None]]:
    """Pages as a Monday brings them: (kind, identifiers, the patient's MRN or None)."""
    rng = random.Random(5)
    for _ in range(count):
        row = rng.choice(sample)
        name = PersonName(row.last, row.first)
        dobs = (row.dob,) if row.dob else ()
        roll = rng.random()
        if roll < 0.45:
            yield "mrn+name+dob", Identifiers(mrns=(row.mrn,), names=(name,), dobs=dobs), row.mrn
        elif roll < 0.6:
            misread = row.mrn[:-1] + str((int(row.mrn[-1]) + 3) % 10)
            yield "misread mrn", Identifiers(mrns=(misread,), names=(name,), dobs=dobs), None
        elif roll < 0.85:
            yield "name+dob", Identifiers(names=(name,), dobs=dobs), row.mrn
        elif roll < 0.93:
            yield "name only", Identifiers(names=(name,)), None
        else:
            stranger = PersonName(row.last, rng.choice(_GIVEN))
            dob = date(1999, 12, 31)
            yield "unknown patient", Identifiers(names=(stranger,), dobs=(dob,)), None


def bench_lookups(store: Store, sample: list[Row], count: int, limit: int) -> None:
    settings = MatchSettings(max_lookup_rows=limit)
    # Read the name vocabularies outside the timings (once per process and import, like a
    # daemon's first lookup after an import), and warm the rest of the code.
    surname_vocabulary(store, undated_only=False)
    surname_vocabulary(store, undated_only=True)
    given_name_vocabulary(store)
    for _, ids, _ in pages(sample, 20):
        lookup_and_decide(ids, store, settings)
    timings: list[float] = []
    reference: list[float] = []
    sizes: list[int] = []
    by_kind: dict[str, list[float]] = {}
    outcomes: dict[str, int] = {}
    for kind, ids, _mrn in pages(sample, count):
        start = time.perf_counter()
        decision, found = lookup_and_decide(ids, store, settings)
        elapsed = (time.perf_counter() - start) * 1000
        timings.append(elapsed)
        by_kind.setdefault(kind, []).append(elapsed)
        sizes.append(len(found))
        outcome = decision.action if decision.action == "file" else str(decision.reason)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        start = time.perf_counter()
        decide(ids, found, settings)
        reference.append((time.perf_counter() - start) * 1000)
    smiths = sum(1 for row in sample if letters_key(row.last) == "SMITH")
    print(
        f"lookup + decision x{count} on {count_patients(store):,} patients "
        f"(max_lookup_rows {limit}): "
        f"p50 {statistics.median(timings):.1f} ms  p95 {percentile(timings, 95):.1f} ms  "
        f"max {max(timings):.0f} ms   (decide alone p95 {percentile(reference, 95):.1f} ms; "
        f"median {statistics.median(sizes):.0f} candidates, max {max(sizes)}; "
        f"{smiths} Smiths among the sampled patients)"
    )
    for kind, values in sorted(by_kind.items()):
        print(
            f"  {kind:<16} x{len(values):<5} p50 {statistics.median(values):6.1f} ms"
            f"  p95 {percentile(values, 95):6.1f} ms"
        )
    print(f"  outcomes: {dict(sorted(outcomes.items()))}   peak RSS {peak_mib():,.0f} MiB")


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * pct / 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="patients in the registry")
    parser.add_argument("--lookups", type=int, default=1000, help="pages matched")
    parser.add_argument("--folder", type=Path, default=None, help="work folder (default: temp)")
    parser.add_argument(
        "--max-lookup-rows", type=int, nargs="+", default=[500], help="lookup limits to run"
    )
    parser.add_argument("--no-reimport", action="store_true", help="skip the unchanged re-import")
    args = parser.parse_args()
    letters_key("warm-up")
    with tempfile.TemporaryDirectory(prefix="bench-import-", dir=args.folder) as tmp:
        folder = Path(tmp)
        registry = folder / "registry.csv"
        start = time.perf_counter()
        sample = write_csv(args.n, registry, sample_every=max(1, args.n // 5000))
        print(
            f"generated {args.n:,} patients in {time.perf_counter() - start:.1f} s "
            f"({registry.stat().st_size / 2**20:,.0f} MiB CSV)"
        )
        store = open_store(folder)
        try:
            reference = reference_insert(folder, registry)
            print(f"reference: bare sqlite3 executemany of {args.n:,} rows: {reference:.1f} s")
            timed_import(store, registry, "import (fresh store)", reference)
            for limit in args.max_lookup_rows if args.lookups else []:
                bench_lookups(store, sample, args.lookups, limit)
            if not args.no_reimport:
                timed_import(store, registry, "re-import (unchanged)", reference)
        finally:
            store.close()


if __name__ == "__main__":
    main()
