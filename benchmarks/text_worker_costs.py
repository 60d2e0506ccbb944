"""CPU a dense text-layer page costs in its OCR worker, and in crossing to the ingest process.

    .venv/bin/python benchmarks/text_worker_costs.py [--pages 200] [--repeats 3] [--profile]

The pages are ``bench_ingest.py``'s dense text corpus (EHR printouts of ~5,000 characters,
one patient a file). Timed in this process, in CPU seconds, best of ``--repeats``:
``read_page`` (pdfium's text layer to words, boxes and lines), ``read_and_find`` (the same and
the page's identifiers, as an OCR worker does for the ingest), and pickling the result in the
worker and unpickling it in the ingest process (``PageText`` as it crosses the process pool).
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_ingest import write_text_corpus  # noqa: E402

from clerk.config import load_config  # noqa: E402
from scanner.ocr import read_page  # noqa: E402
from scanner.reading.document import FindOnPage, read_and_find  # noqa: E402
from scanner.reading.pages import PageJob, ReadOptions, plan_pages  # noqa: E402


def jobs_of(files: list[Path]) -> list[PageJob]:
    """Every page planned as the ingest plans it, with the shipped config's settings."""
    config = load_config(ROOT / "config.yaml")
    ocr, ingest = config.ocr, config.ingest
    options = ReadOptions.from_settings(ocr, ingest)
    return [
        job
        for path in files
        for job in plan_pages(path, "application/pdf", options, ocr.text_layer_min_chars)
    ]


def best_ms_per_page(pages: int, repeats: int, work: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best * 1000 / max(pages, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile read_and_find")
    args = parser.parse_args()
    config = load_config(ROOT / "config.yaml")
    find = FindOnPage(config.filing.identifiers.model_dump_json(), date.today())
    with tempfile.TemporaryDirectory(prefix="chartclerk-text-costs-") as folder:
        jobs = jobs_of(write_text_corpus(Path(folder) / "dense", args.pages, dense=True))
        n, r = len(jobs), args.repeats
        read_and_find(jobs[0], find)  # imports and caches, as a warm worker has them
        read_ms = best_ms_per_page(n, r, lambda: [read_page(j) for j in jobs])
        find_ms = best_ms_per_page(n, r, lambda: [read_and_find(j, find) for j in jobs])
        pages = [read_and_find(j, find) for j in jobs]
        blobs = [pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for p in pages]
        dump_ms = best_ms_per_page(
            n, r, lambda: [pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for p in pages]
        )
        load_ms = best_ms_per_page(n, r, lambda: [pickle.loads(b) for b in blobs])
        print(
            f"{n} dense pages, CPU ms a page: read_page {read_ms:.2f}, read_and_find "
            f"{find_ms:.2f}, pickle {dump_ms:.2f}, unpickle {load_ms:.2f} "
            f"({sum(map(len, blobs)) / n / 1024:.1f} KiB a page)"
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for job in jobs:
                read_and_find(job, find)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
