"""Where a text-layer page's CPU goes, stage by stage, beside the bare libraries' floor.

Used by ``bench_ingest.py`` (text-layer figures): each stage of the pipeline is run alone, in
this process, on the same PDFs the ingest read, and timed in CPU seconds (not wall), so the
figures hold on a loaded machine. Two references do the least any text pipeline must do:
pdfium's own text extraction (no word boxes) and indexing the same text in a fresh search
index (Whoosh, through ``index/`` as the pipeline writes it); the index is also timed as bare
Whoosh with its own ``TEXT`` fields (``index_plain_whoosh``), which it was until schema 3.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

from clerk.config import load_config
from index import IndexDocument, SearchIndex
from index.models import IndexSettings
from index.reference import write_plain_index
from scanner.identifying.classify import KeywordClassifier
from scanner.identifying.identifiers import extract_identifiers
from scanner.reading.pagetext import PageText
from scanner.reading.textlayer import read_pdf_text_layer


def _cpu_ms_per_page(pages: int, work: Callable[[], Any]) -> float:
    start = time.process_time()
    work()
    return (time.process_time() - start) * 1000 / max(pages, 1)


def stage_costs(files: list[Path], config: Path) -> dict[str, float]:
    """CPU milliseconds a page for each stage, and for the two bare references."""
    settings = load_config(config).filing
    counts = [len(pdfium.PdfDocument(str(f))) for f in files]
    pages = sum(counts)
    docs: list[list[PageText]] = []

    def bare_text() -> None:
        for path, count in zip(files, counts, strict=True):
            pdf = pdfium.PdfDocument(str(path))
            for i in range(count):
                page = pdf[i]
                textpage = page.get_textpage()
                textpage.get_text_range()
                textpage.close()
                page.close()
            pdf.close()

    def read() -> None:
        for path, count in zip(files, counts, strict=True):
            read_pages = [read_pdf_text_layer(str(path), i) for i in range(count)]
            docs.append([p for p in read_pages if p is not None])

    def identify() -> None:
        for doc in docs:
            extract_identifiers(doc, settings.identifiers, today=date.today())

    def classify() -> None:
        classifier = KeywordClassifier(settings.classify)
        for doc in docs:
            classifier.classify(doc)

    def documents() -> Iterator[IndexDocument]:
        received = datetime.now(UTC)
        for number, doc in enumerate(docs, 1):
            text = "\n".join(p.text for p in doc)
            yield IndexDocument(
                number, None, None, None, None, None, received, "review", "bench.pdf", text
            )

    def index() -> None:
        with tempfile.TemporaryDirectory(prefix="chartclerk-bench-index-") as folder:
            search = SearchIndex(IndexSettings(path=Path(folder) / "index"))
            search.add(documents())
            search.close()

    def plain_index() -> None:
        # The same documents in one commit of bare Whoosh, with Whoosh's own TEXT fields:
        # what the index stage cost before index.analysis.FoldedText.
        with tempfile.TemporaryDirectory(prefix="chartclerk-bench-index-") as folder:
            write_plain_index(Path(folder) / "index", documents())

    figures = {"bare_pdfium_text_ms": _cpu_ms_per_page(pages, bare_text)}
    figures["read_words_and_boxes_ms"] = _cpu_ms_per_page(pages, read)
    figures["identify_ms"] = _cpu_ms_per_page(pages, identify)
    figures["classify_ms"] = _cpu_ms_per_page(pages, classify)
    figures["index_ms"] = _cpu_ms_per_page(pages, index)
    figures["index_plain_whoosh_ms"] = _cpu_ms_per_page(pages, plain_index)
    return figures
