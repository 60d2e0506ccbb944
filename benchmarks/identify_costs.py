"""CPU a text-layer page's identifiers cost in its worker: ``find_on_page`` and its parts.

    .venv/bin/python benchmarks/identify_costs.py [--corpus dense] [--pages 200] [--repeats 5]
        [--profile]

The pages are ``bench_ingest.py``'s text-layer corpora, written here (``dense``: EHR
printouts of ~5,500 characters; ``light``: ~1,100), or any folder of PDFs, read as a worker
reads them. Each figure is CPU seconds a page, the best of ``--repeats`` runs over all the
pages in order, with what is kept from page to page (the label finder's lines, the values
read, the lines looked at for headings and for providers) emptied before each run; it then
helps only with the lines and values the pages share, such as a document's header.
``--cold`` also times ``find_on_page`` with it emptied before every page, as if no page
shared anything. The parts are timed alone, each as ``find_on_page`` calls it, so they add
up to more than the whole where they share the finder's cache.
"""

from __future__ import annotations

import argparse
import cProfile
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ingest import write_text_corpus  # noqa: E402
from text_worker_costs import jobs_of  # noqa: E402

from clerk.config import load_config  # noqa: E402
from scanner.identifying import identifiers, people  # noqa: E402
from scanner.identifying.headers import header_names  # noqa: E402
from scanner.identifying.labels import word_lines  # noqa: E402
from scanner.identifying.people import providers, subjects  # noqa: E402
from scanner.identifying.roles import Sections  # noqa: E402
from scanner.ocr import read_page  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="dense", help="dense, light, or a folder of PDFs")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile find_on_page")
    parser.add_argument("--total", action="store_true", help="find_on_page only, not its parts")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="also find_on_page with every cache emptied before each page",
    )
    args = parser.parse_args()
    folder = Path(args.corpus)
    with tempfile.TemporaryDirectory(prefix="chartclerk-identify-") as tmp:
        if folder.is_dir():
            files = sorted(folder.glob("*.pdf"))
        elif args.corpus in ("dense", "light"):
            files = write_text_corpus(Path(tmp) / args.corpus, args.pages, args.corpus == "dense")
        else:
            print(f"{args.corpus}: not dense, light or a folder of PDFs")
            return 1
        pages = [read_page(job) for job in jobs_of(files)][: args.pages]
    settings = load_config(ROOT / "config.yaml").filing.identifiers
    today = date.today()
    finder = identifiers._finder(settings.model_dump_json())
    reader = identifiers._Reader(settings, today)
    roles = settings.roles

    def forget() -> None:
        """Empty what is kept from page to page: lines' labels, values and names read."""
        finder._cache.clear()
        # The makers of the objects that keep them (made again), where this code has them.
        for module, kept in (
            (identifiers, "_reader"),
            (identifiers, "_sections"),
            (people, "_providers_by_line"),
        ):
            made = getattr(module, kept, None)
            if made is not None:
                made.cache_clear()

    def timed(name: str, work: Callable[[Any], object]) -> None:
        best = float("inf")
        for _ in range(args.repeats):
            forget()
            start = time.process_time()
            for page in pages:
                work(page)
            best = min(best, time.process_time() - start)
        print(f"{name:24s} {best * 1000 / len(pages):6.3f} ms/page")

    def lines(page: Any) -> list[str]:
        return page.text.splitlines()

    chars = sum(len(p.text) for p in pages) / len(pages)
    words = sum(len(p.words) for p in pages) / len(pages)
    print(f"{len(pages)} pages from {folder}: {chars:.0f} characters, {words:.0f} words a page")
    timed("find_on_page", lambda p: identifiers.find_on_page(p, settings, today=today))
    if args.cold:

        def cold(page: Any) -> None:
            # As if no page before it shared a line or a value with it (a worker's first).
            forget()
            identifiers.find_on_page(page, settings, today=today)

        timed("find_on_page, cold", cold)
    if args.total:
        return 0
    timed("  _page_values", lambda p: identifiers._page_values(p, reader, finder))
    timed("  sections", lambda p: Sections(roles).roles(lines(p), finder))
    timed("  word_lines", lambda p: word_lines(p.words))
    timed(
        "  _values_below_words",
        lambda p: identifiers._values_below_words(word_lines(p.words), reader, finder),
    )
    timed(
        "  header_names",
        lambda p: header_names(lines(p), finder, Sections(roles).roles(lines(p), finder)),
    )
    timed(
        "  subjects",
        lambda p: subjects(
            lines(p), roles, order=settings.date_order, today=today,
            pivot=settings.two_digit_year_pivot,
        ),
    )  # fmt: skip
    timed("  providers", lambda p: providers(lines(p), roles))
    timed("  unlabelled", lambda p: identifiers._UNLABELLED.findall(p.text))
    if args.profile:
        profile = cProfile.Profile()
        forget()
        profile.runcall(lambda: [identifiers.find_on_page(p, settings, today=today) for p in pages])
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
