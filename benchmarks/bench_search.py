"""Benchmark the search index against SQLite FTS5 on the same synthetic texts and queries.

    .venv/bin/python benchmarks/bench_search.py --docs 100000

Prints the index rate, peak memory during the rebuild, and p50/p95 query latency of
``index.SearchIndex`` and of an FTS5 table (porter + unicode61 without diacritics, i.e.
stemmed and accent folded too), and their ratios. Targets: p95 <= 100 ms and <= 5x FTS5,
reindex >= 500 docs/s, memory < 2 GiB. All data is generated from a seed: no real PHI.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from index import IndexDocument, IndexSettings, SearchFilters, SearchIndex  # noqa: E402
from records.models import Document, Page, Patient  # noqa: E402
from records.settings import StoreSettings  # noqa: E402
from records.store import Store  # noqa: E402
from scanner.indexing import StoreIndexer  # noqa: E402


def words(text: str) -> list[str]:
    """Split a word list written as one string."""
    return text.split()


FIRST = words(
    "marta jose ebony tobias amara liam noor sofia mateo hana arjun chloe dmitri ines kofi "
    "lena omar priya rafael sven talia umar vera wen yusuf zara bruno celia dario elif"
)
LAST = words(
    "kowalczyk garcía whitfield lindqvist okonkwo nakamura fernández oyelaran brennan "
    "castellanos dubois eriksen farouk gallagher haddad ivanova jaramillo kaczmarek "
    "lefebvre mbeki novak ostrowski petrov quintero rasmussen szabo takahashi ulrich "
    "vasquez wojcik xiong yilmaz zielinski abernathy bergström córdoba delacroix esposito "
    "fitzgerald gutiérrez hoffmann iglesias jablonski koenig moreau"
)
MEDICAL = words(
    "hemoglobin platelet creatinine sodium potassium glucose lactate troponin bilirubin "
    "albumin radiograph consolidation effusion pneumothorax cardiomegaly fracture edema "
    "stenosis thrombosis embolism infarction ischemia arrhythmia tachycardia bradycardia "
    "hypertension hypotension diabetes asthma copd pneumonia sepsis cellulitis abscess "
    "appendicitis cholecystitis pancreatitis hepatitis nephrolithiasis pyelonephritis "
    "anemia leukocytosis neutropenia coagulopathy biopsy resection anastomosis laparoscopy "
    "catheter intubation extubation sedation analgesia antibiotic vancomycin ceftriaxone "
    "heparin warfarin metoprolol lisinopril furosemide insulin prednisone ondansetron "
    "discharge admission consult followup outpatient inpatient consent procedure operative "
    "postoperative preoperative imaging ultrasound tomography resonance echocardiogram "
    "electrocardiogram spirometry dyspnea cough fever chills nausea vomiting diarrhea "
    "abdominal chest pain headache dizziness syncope fatigue weakness numbness rash"
)
COMMON = words(
    "the patient was is with and of to in no on for a at by denies reports noted normal "
    "stable unchanged mild moderate severe left right bilateral acute chronic history prior "
    "recent today day week plan continue start stop review results within limits"
)
ROOTS = words(
    "cardi gastr hepat nephr neur oste arthr derm hemat pulmon enter col cyst mening "
    "encephal my angi phleb lymph aden thyr pancreat splen laryng pharyng rhin ot ophthalm "
    "cholecyst append bronch trache esophag duoden ile prostat ureter urethr vagin cervic "
    "mast"
)
SUFFIXES = words(
    "itis osis ectomy otomy ostomy ology algia emia oma opathy plasty scopy gram megaly"
)
DOC_TYPES = ["lab_report", "radiology_report", "progress_note", "discharge_summary", "consent"]
STATUSES = ["filed"] * 8 + ["review"]


def patients(count: int, rng: random.Random) -> list[tuple[str, str, date]]:
    """Synthetic patients: (mrn, "First Last", dob)."""
    return [
        (
            f"{rng.randrange(10**7, 10**8):08d}",
            f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}",
            date(1930, 1, 1) + timedelta(days=rng.randrange(30000)),
        )
        for _ in range(count)
    ]


def vocabulary() -> tuple[list[str], list[float]]:
    """Words with cumulative Zipf weights (frequency ~ 1/rank), as in real clinical text.

    Common words rank first; the medical words and the root+suffix terms are shuffled
    behind them, so a query word may be frequent or rare, as clerks' query words are.
    """
    terms = MEDICAL + [root + suffix for root in ROOTS for suffix in SUFFIXES]
    random.Random(0).shuffle(terms)
    words = COMMON + terms
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


def documents(count: int, seed: int) -> Iterator[IndexDocument]:
    """``count`` synthetic documents of about 2 KB each, the same for the same seed."""
    rng = random.Random(seed)
    people = patients(max(count // 5, 10), rng)
    words, weights = vocabulary()
    for number in range(1, count + 1):
        mrn, name, dob = rng.choice(people)
        text = " ".join(rng.choices(words, cum_weights=weights, k=280))
        received = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=number * 7)
        yield IndexDocument(
            id=number,
            patient_mrn=mrn,
            patient_name=name,
            dob=dob,
            doc_type=rng.choice(DOC_TYPES),
            service_date=None if number % 4 == 0 else received.date() - timedelta(days=3),
            received_at=received,
            status=rng.choice(STATUSES),
            source_name=f"scan_{number:07d}.pdf",
            text=f"Patient {name}. MRN {mrn}. {text}",
        )


@dataclass
class Query:
    """One benchmark query in both dialects, with the same filters."""

    kind: str
    whoosh: str
    fts: str
    filters: SearchFilters | None = None


def typo(word: str, rng: random.Random) -> str:
    """Swap two adjacent letters after the first (the commonest typing error)."""
    at = rng.randrange(1, len(word) - 1)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def queries(count: int, docs: int, seed: int) -> list[Query]:
    """``count`` fixed mixed queries: terms, AND, phrases, MRN, fuzzy names, filters."""
    rng = random.Random(seed + 1)
    people = patients(max(docs // 5, 10), random.Random(seed))
    out: list[Query] = []
    for number in range(count):
        kind = number % 6
        a, b = rng.sample(MEDICAL, 2)
        mrn, name, _ = rng.choice(people)
        last = name.split()[1].lower()
        if kind == 0:
            out.append(Query("term", a, a))
        elif kind == 1:
            out.append(Query("and", f"{a} AND {b}", f"{a} AND {b}"))
        elif kind == 2:
            out.append(Query("phrase", f'"{a} {b}"', f'"{a} {b}"'))
        elif kind == 3:
            out.append(Query("mrn", f"mrn:{mrn}", f'mrn : "{mrn}"'))
        elif kind == 4:
            # FTS5 has no fuzzy match: the nearest cheap equivalent is a name prefix.
            out.append(Query("fuzzy name", f"name:{typo(last, rng)}", f"name : {last[:4]}*"))
        else:
            # Documents arrive every 7 minutes from 2020-01-01: a window of a fifth of the span.
            span = max(docs * 7 // 1440, 5)
            start = date(2020, 1, 1) + timedelta(days=rng.randrange(span))
            filters = SearchFilters(
                doc_type=rng.choice(DOC_TYPES),
                date_from=start,
                date_to=start + timedelta(span // 5),
            )
            out.append(Query("filtered", a, a, filters))
    return out


class MemoryWatch:
    """Samples the RSS of this process and its children; keeps the peak."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            rss = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # a child may exit meanwhile
                    rss += child.memory_info().rss
            self.peak = max(self.peak, rss)
            self._stop.wait(0.1)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def percentiles(times: list[float]) -> tuple[float, float]:
    """Return p50 and p95 in milliseconds."""
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def time_queries(run: Callable[[Query], int], qs: list[Query]) -> tuple[list[float], int]:
    """Run every query once as warm-up, then time each; return times and total hits."""
    for q in qs[:20]:
        run(q)
    times, hits = [], 0
    for q in qs:
        started = time.perf_counter()
        hits += run(q)
        times.append(time.perf_counter() - started)
    return times, hits


def fill_store(folder: Path, docs: int, seed: int) -> Store:
    """A record store holding the generated documents (one page each) and their patients."""
    store = Store(
        StoreSettings(
            database_url=f"sqlite:///{folder / 'store.db'}",
            archive_dir=folder / "archive",
            quarantine_dir=folder / "quarantine",
        )
    )
    stamp = datetime(2026, 1, 1)
    seen: set[str] = set()
    batch: list[IndexDocument] = []

    def flush() -> None:
        with store.engine.begin() as connection:
            people = []
            for d in batch:
                if d.patient_mrn and d.patient_mrn not in seen:
                    seen.add(d.patient_mrn)
                    first, _, last = (d.patient_name or " ").partition(" ")
                    people.append(
                        {"mrn": d.patient_mrn, "last_name": last, "first_name": first,
                         "dob": d.dob, "sex": None, "name_key": last[:4].upper(),
                         "merged_into": None, "updated_at": stamp}
                    )  # fmt: skip
            if people:
                connection.execute(insert(Patient), people)
            connection.execute(
                insert(Document),
                [
                    {"id": d.id, "sha256": f"{d.id:064x}", "source_name": d.source_name,
                     "source_path": d.source_name, "status": d.status,
                     "patient_mrn": d.patient_mrn, "doc_type": d.doc_type, "pages": 1,
                     "service_date": d.service_date,
                     "received_at": d.received_at.replace(tzinfo=None), "updated_at": stamp}
                    for d in batch
                ],
            )  # fmt: skip
            connection.execute(
                insert(Page),
                [
                    {"document_id": d.id, "number": 1, "text": d.text, "source": "text_layer",
                     "rotation": 0}
                    for d in batch
                ],
            )  # fmt: skip
        batch.clear()

    for doc in documents(docs, seed):
        batch.append(doc)
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    return store


def bench_whoosh(args: argparse.Namespace, folder: Path, qs: list[Query]) -> dict[str, float]:
    settings = IndexSettings(path=folder / "ix", procs=args.procs, limitmb=args.limitmb)
    index = SearchIndex(settings)
    store = fill_store(folder, args.docs, args.seed) if args.from_store else None
    with MemoryWatch() as memory:
        started = time.perf_counter()
        if store is not None:
            # What `chartclerk reindex` does: read every document back from the store.
            StoreIndexer(store, index).rebuild()
        else:
            index.rebuild(documents(args.docs, args.seed), total=args.docs)
        elapsed = time.perf_counter() - started
    if store is not None:
        store.close()
    # Hits shown (the first page), as on the FTS5 side: neither runs an exact count.
    times, hits = time_queries(lambda q: len(index.search(q.whoosh, q.filters).hits), qs)
    index.close()
    p50, p95 = percentiles(times)
    return {"rate": args.docs / elapsed, "mem": memory.peak, "p50": p50, "p95": p95, "hits": hits}


FTS_SEARCH = (
    "SELECT d.rowid, snippet(docs_fts, 0, '«', '»', ' … ', 24) FROM docs_fts "
    "JOIN docs d ON d.rowid = docs_fts.rowid WHERE docs_fts MATCH ?{where} "
    "ORDER BY rank LIMIT 10"
)


def fts_filter(filters: SearchFilters | None) -> tuple[str, list[str]]:
    """The SQL condition and parameters equivalent to ``filters``."""
    if filters is None:
        return "", []
    assert filters.doc_type and filters.date_from and filters.date_to
    where = " AND d.doc_type = ? AND d.effective BETWEEN ? AND ?"
    return where, [filters.doc_type, filters.date_from.isoformat(), filters.date_to.isoformat()]


def bench_fts5(args: argparse.Namespace, folder: Path, qs: list[Query]) -> dict[str, float]:
    db = sqlite3.connect(folder / "fts.sqlite")
    db.executescript(
        "CREATE TABLE docs (rowid INTEGER PRIMARY KEY, doc_type TEXT, status TEXT, "
        "effective TEXT);"
        "CREATE VIRTUAL TABLE docs_fts USING fts5(text, name, mrn, "
        "tokenize='porter unicode61 remove_diacritics 2');"
    )
    started = time.perf_counter()
    with db:
        for doc in documents(args.docs, args.seed):
            db.execute(
                "INSERT INTO docs VALUES (?, ?, ?, ?)",
                (doc.id, doc.doc_type, doc.status, doc.effective_date.isoformat()),
            )
            db.execute(
                "INSERT INTO docs_fts (rowid, text, name, mrn) VALUES (?, ?, ?, ?)",
                (doc.id, doc.text, doc.patient_name, doc.patient_mrn),
            )
    elapsed = time.perf_counter() - started

    def run(q: Query) -> int:
        # The first page of hits with snippets, no exact count: the work Whoosh is timed for
        # (its total is the engine's estimate, got without a second search).
        where, params = fts_filter(q.filters)
        return len(db.execute(FTS_SEARCH.format(where=where), [q.fts, *params]).fetchall())

    times, hits = time_queries(run, qs)
    db.close()
    p50, p95 = percentiles(times)
    return {"rate": args.docs / elapsed, "p50": p50, "p95": p95, "hits": hits}


def report(docs: int, whoosh: dict[str, float], fts: dict[str, float]) -> None:
    mib = whoosh["mem"] / 2**20
    print(f"documents: {docs}")
    print(f"{'':10} {'docs/s':>10} {'p50 ms':>9} {'p95 ms':>9} {'hits shown':>10}")
    for label, row in (("whoosh", whoosh), ("fts5", fts)):
        print(
            f"{label:10} {row['rate']:10.0f} {row['p50']:9.2f} {row['p95']:9.2f} "
            f"{row['hits']:10.0f}"
        )
    print(f"peak RSS during whoosh rebuild: {mib:.0f} MiB (target < 2048)")
    print(
        f"ratios whoosh/fts5: index rate {whoosh['rate'] / fts['rate']:.2f}x, "
        f"p50 {whoosh['p50'] / fts['p50']:.1f}x, p95 {whoosh['p95'] / fts['p95']:.1f}x "
        "(target p95 <= 5x)"
    )
    verdicts = {
        "p95 <= 100 ms": whoosh["p95"] <= 100,
        "p95 <= 5x fts5": whoosh["p95"] <= 5 * fts["p95"],
        "reindex >= 500 docs/s": whoosh["rate"] >= 500,
        "memory < 2 GiB": mib < 2048,
    }
    for target, met in verdicts.items():
        print(f"  {'ok  ' if met else 'MISS'} {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--limitmb", type=int, default=256)
    parser.add_argument(
        "--from-store",
        action="store_true",
        help="fill a record store first and time the reindex from it, as `chartclerk reindex`",
    )
    args = parser.parse_args()
    qs = queries(args.queries, args.docs, args.seed)
    with tempfile.TemporaryDirectory(prefix="bench_search_") as tmp:
        started = time.perf_counter()
        generated = sum(1 for _ in documents(args.docs, args.seed))
        print(f"generating {generated} documents alone: {time.perf_counter() - started:.1f} s")
        whoosh = bench_whoosh(args, Path(tmp), qs)
        fts = bench_fts5(args, Path(tmp), qs)
    report(args.docs, whoosh, fts)


if __name__ == "__main__":
    main()
