"""CPU a text-layer page costs in ``read_text_layer``, this tree's against another revision's.

    .venv/bin/python benchmarks/text_layer_reader.py [--pages 200] [--repeats 7]
        [--against 138580b]

The pages are ``bench_ingest.py``'s dense and light text corpora, opened once; then each
reader reads every page, in turns (this tree, the other revision, pdfium alone), best of
``--repeats``, in CPU seconds, so that a loaded machine counts less. "pdfium alone" is what
any reader must pay: the page's size, its text page and its text. The other revision's
``scanner/reading/textlayer.py`` is loaded from git beside this tree's ``pagetext``; both
readers' pages are checked equal first, word for word and box for box.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_ingest import write_text_corpus  # noqa: E402

from scanner.reading import textlayer  # noqa: E402


def revision_reader(revision: str, folder: Path) -> ModuleType:
    """``scanner/reading/textlayer.py`` as it was at ``revision``, loaded as a module."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:scanner/reading/textlayer.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = folder / f"textlayer_{revision.replace('/', '_')}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cpu(work: Callable[[], Any]) -> float:
    gc.collect()
    start = time.process_time()
    work()
    return time.process_time() - start


def compare(pages: list[pdfium.PdfPage], other: ModuleType, repeats: int) -> dict[str, float]:
    """CPU ms a page: this tree's reader, the other's, and pdfium alone."""
    for number, page in enumerate(pages, 1):
        mine, theirs = textlayer.read_text_layer(page, number), other.read_text_layer(page, number)
        assert mine == theirs and tuple(mine.words) == tuple(theirs.words), number

    def this_tree() -> None:
        for page in pages:
            textlayer.read_text_layer(page, 1)

    def other_revision() -> None:
        for page in pages:
            other.read_text_layer(page, 1)

    def pdfium_alone() -> None:
        for page in pages:
            page.get_size()
            textpage = page.get_textpage()
            textpage.get_text_range(0, textpage.count_chars())
            textpage.close()

    runs: dict[str, list[float]] = {"this": [], "other": [], "pdfium": []}
    for _ in range(repeats):
        runs["this"].append(_cpu(this_tree))
        runs["other"].append(_cpu(other_revision))
        runs["pdfium"].append(_cpu(pdfium_alone))
    return {name: min(times) * 1000 / len(pages) for name, times in runs.items()}


def main() -> None:
    """Print the figures for the dense and the light corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--against", default="138580b", help="git revision to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chartclerk-bench-textlayer-") as work:
        folder = Path(work)
        other = revision_reader(args.against, folder)
        for dense in (True, False):
            label = "dense" if dense else "light"
            files = write_text_corpus(folder / label, args.pages, dense)
            documents = [pdfium.PdfDocument(str(f)) for f in files]
            pages = [pdf[i] for pdf in documents for i in range(len(pdf))]
            ms = compare(pages, other, args.repeats)
            this, theirs = ms["this"] - ms["pdfium"], ms["other"] - ms["pdfium"]
            print(
                f"{len(pages)} {label} pages, CPU ms a page: read_text_layer {ms['this']:.3f} "
                f"({args.against}: {ms['other']:.3f}); pdfium alone {ms['pdfium']:.3f}; "
                f"the rest {this:.3f} against {theirs:.3f} ({100 * (1 - this / theirs):.0f}% less)"
            )
            for page in pages:
                page.close()
            for pdf in documents:
                pdf.close()


if __name__ == "__main__":
    main()
