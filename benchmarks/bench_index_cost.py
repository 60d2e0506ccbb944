"""CPU a dense page costs the search index, beside bare Whoosh with version 2's schema.

    .venv/bin/python benchmarks/bench_index_cost.py [--docs 60] [--batches 1,2,5,20,60]

Documents are ten-page EHR printouts (about 5,000 characters a page, ``bench_ingest``'s dense
pages), as a text-layer ingest hands them to the index. For each batch size (documents per
commit: the background writer commits what it has gathered), in one process, interleaved:

- ``bare``: plain Whoosh (``TEXT`` fields, ``add_document``, ``commit()`` per batch): the
  reference, i.e. what indexing cost before ``FoldedText``;
- ``index``: :meth:`index.SearchIndex.add` per batch, as the ingest's background writer calls
  it (``update_document``, merging small segments at each commit);
- ``index_burst``: the same with ``merge=False``, as the writer commits while documents keep
  coming, and one merging commit at the end (a quiet queue).

CPU seconds (``time.process_time``), so the figures hold on a loaded machine; the best of
``--repeats`` runs is kept.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import LAYOUTS, TYPES, dense_pages  # noqa: E402

from index import IndexDocument, IndexSettings, SearchIndex  # noqa: E402
from index.reference import write_plain_index  # noqa: E402
from synthetic import DocumentSpec, generate_patients  # noqa: E402
from synthetic.files import text_of  # noqa: E402

PAGES_PER_DOC = 10


def dense_documents(count: int) -> list[IndexDocument]:
    """``count`` ten-page dense documents, one synthetic patient each."""
    patients = generate_patients(max(count, 10), seed=5)
    received = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    docs = []
    for number in range(count):
        specs = [
            DocumentSpec(
                patient=patients[number],
                doc_type=TYPES[k % len(TYPES)],
                layout=LAYOUTS[k % len(LAYOUTS)],
                content_seed=number * PAGES_PER_DOC + k,
            )
            for k in range(PAGES_PER_DOC)
        ]
        head = text_of(specs[0])[0].splitlines()[:12]
        text = "\n".join("\n".join([*head, body]) for body in dense_pages(specs))
        person = patients[number]
        docs.append(
            IndexDocument(
                id=number + 1,
                patient_mrn=person.mrn,
                patient_name=f"{person.first_name} {person.last_name}",
                dob=person.dob,
                doc_type=specs[0].doc_type,
                service_date=None,
                received_at=received,
                status="filed",
                source_name=f"printout_{number:04d}.pdf",
                text=text,
            )
        )
    return docs


def cpu_s(work: Callable[[Path], object]) -> float:
    with tempfile.TemporaryDirectory(prefix="chartclerk-bench-index-") as folder:
        start = time.process_time()
        work(Path(folder) / "ix")
        return time.process_time() - start


def bare_whoosh(docs: list[IndexDocument], batch: int) -> Callable[[Path], None]:
    def work(folder: Path) -> None:
        write_plain_index(folder, docs, commit_every=batch)

    return work


def through_index(docs: list[IndexDocument], batch: int, merge: bool) -> Callable[[Path], None]:
    def work(folder: Path) -> None:
        with SearchIndex(IndexSettings(path=folder)) as index:
            for start in range(0, len(docs), batch):
                index.add(docs[start : start + batch], merge=merge)
            if not merge:
                index.merge()

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--batches", default="1,2,5,20,60")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    docs = dense_documents(args.docs)
    pages = len(docs) * PAGES_PER_DOC
    chars = sum(len(doc.text) for doc in docs) // pages
    print(f"{len(docs)} documents, {pages} pages, {chars} characters a page")
    print("docs/commit   bare ms/page   index ms/page (ratio)   index_burst ms/page (ratio)")
    for batch in (int(b) for b in args.batches.split(",")):
        runs: dict[str, list[float]] = {"bare": [], "index": [], "burst": []}
        for _ in range(args.repeats):
            runs["bare"].append(cpu_s(bare_whoosh(docs, batch)))
            runs["index"].append(cpu_s(through_index(docs, batch, merge=True)))
            runs["burst"].append(cpu_s(through_index(docs, batch, merge=False)))
        bare, index, burst = (min(runs[k]) * 1000 / pages for k in ("bare", "index", "burst"))
        print(
            f"{batch:>11}   {bare:>12.2f}   {index:>8.2f} ({index / bare:.2f}x)"
            f"          {burst:>8.2f} ({burst / bare:.2f}x)"
        )


if __name__ == "__main__":
    main()
