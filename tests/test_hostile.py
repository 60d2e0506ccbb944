"""Hostile input: quarantined with a clear reason, without harm, while processing goes on."""

from __future__ import annotations

import gc
import os
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from clerk.app import App
from clerk.config import load_config
from tests.conftest import write_config
from tests.scans import patients, scan

pytestmark = pytest.mark.needs_tesseract


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def huge_bilevel_png(path: Path, width: int, height: int, dpi: int | None = None) -> Path:
    """A blank 1-bit PNG of ``width`` x ``height`` pixels, small on disk (zlib of zeros).

    Written chunk by chunk, so making it never holds the image in memory either.
    """
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    parts = [packer.compress(row * 1000) for _ in range(height // 1000)]
    parts.append(packer.compress(row * (height % 1000)))
    parts.append(packer.flush())
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)))
        if dpi:
            per_metre = round(dpi / 0.0254)
            out.write(_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
        out.write(_chunk(b"IDAT", b"".join(parts)))
        out.write(_chunk(b"IEND", b""))
    return path


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


@pytest.fixture
def inbox(app: App) -> Path:
    folder = app.settings.inbox.path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def strict_app(tmp_path: Path) -> Iterator[App]:
    """An app with tiny limits: 2 pages a file, 4 megapixels a page, 0.01 s of OCR a page."""
    settings = load_config(write_config(tmp_path))
    settings.ingest = settings.ingest.model_copy(
        update={"max_pages": 2, "max_page_megapixels": 4.0}
    )
    instance = App(settings, actor="test-clerk")
    yield instance
    instance.close()


HOSTILE_NAMES = [
    "..\\..\\windows\\evil.pdf",
    "..evil..pdf",
    "line\nbreak\r\nname.pdf",
    "tab\tand\x1bescape.pdf",
    os.fsdecode(b"latin1-\xe9\xff\xfe-name.pdf"),
    "\u202eevil-rtl.pdf",
    "x" * 240 + ".pdf",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_names_never_escape_quarantine_and_are_stored_printable(
    app: App, inbox: Path, name: str
) -> None:
    path = inbox / name
    path.write_bytes(b"MZ\x90\x00 definitely not a scan " + os.urandom(64))
    outcome = app.ingestor.ingest(path)
    assert outcome.kind == "quarantined"
    assert outcome.reason == "not a PDF or an image (unrecognised contents)"
    assert not path.exists()
    quarantine = app.settings.store.quarantine_dir
    placed = [p for p in quarantine.iterdir() if not p.name.startswith(".")]
    assert len(placed) == 1
    assert placed[0].parent == quarantine
    assert placed[0].name.isascii() and placed[0].name.isprintable()
    row = app.store.get_document(outcome.document_id or 0).summary
    assert row.source_name.isprintable()
    assert "\n" not in row.source_name


def test_a_readable_file_with_an_undecodable_name_is_filed_normally(app: App, inbox: Path) -> None:
    good = scan(inbox, patients()[1], "pdf_text", "x.pdf")
    odd = inbox / os.fsdecode(b"scan-\xff\xfe\n.pdf")
    good.rename(odd)
    outcome = app.ingestor.ingest(odd)
    assert outcome.kind in ("filed", "review")
    assert not odd.exists()
    assert app.store.get_document(outcome.document_id or 0).summary.source_name == "scan-��?.pdf"


@pytest.mark.parametrize(
    ("width", "height", "dpi"),
    [(30000, 30000, None), (20400, 26400, 2400)],
    ids=["decompression-bomb", "letter-at-2400-dpi"],
)
def test_giant_images_are_refused_by_size_without_being_decoded(
    app: App, inbox: Path, width: int, height: int, dpi: int | None
) -> None:
    path = huge_bilevel_png(inbox / "giant.png", width, height, dpi)
    assert path.stat().st_size < 1_000_000  # tiny on disk; gigabytes once decoded
    before = rss()
    start = time.monotonic()
    outcome = app.ingestor.ingest(path)
    took = time.monotonic() - start
    assert outcome.kind == "quarantined"
    assert "too large" in (outcome.reason or "")
    assert took < 10, f"took {took:.1f} s: was it decoded?"
    assert rss() - before < 50 * 2**20, "memory grew as if the image was decoded"


def test_a_page_over_the_configured_megapixels_is_refused(strict_app: App) -> None:
    inbox = strict_app.settings.inbox.path
    path = scan(inbox, patients()[2], "png", "big.png")  # 2550x3300 at 300 dpi: 8.4 MP
    outcome = strict_app.ingestor.ingest(path)
    assert outcome.kind == "quarantined"
    assert (outcome.reason or "").startswith("page too large (2550x3300 px, over 4 megapixels)")


def test_a_pdf_with_more_pages_than_allowed_is_refused_unread(strict_app: App) -> None:
    inbox = strict_app.settings.inbox.path
    path = scan(inbox, patients()[3], "pdf_text", "long.pdf", pages=3)
    outcome = strict_app.ingestor.ingest(path)
    assert outcome.kind == "quarantined"
    assert outcome.reason == "too many pages (3 > limit of 2)"
    ok = strict_app.ingestor.ingest(scan(inbox, patients()[3], "pdf_text", "short.pdf", pages=2))
    assert ok.kind in ("filed", "review"), "processing goes on after a refused file"


def test_a_page_over_the_ocr_time_limit_sends_the_document_to_review(tmp_path: Path) -> None:
    settings = load_config(write_config(tmp_path))
    settings.ocr = settings.ocr.model_copy(update={"page_timeout_seconds": 0.01})
    app = App(settings, actor="test-clerk")
    try:
        path = scan(settings.inbox.path, patients()[4], "png", "slow.png")
        outcome = app.ingestor.ingest(path)
        assert outcome.kind == "review"
        assert outcome.reason == "page(s) 1 could not be read"
        detail = app.store.get_document(outcome.document_id or 0)
        assert [p.error for p in detail.pages] == ["OCR time limit reached on this page"]
        assert not path.exists(), "the document is stored; the inbox file is released"
    finally:
        app.close()


@pytest.mark.slow
def test_memory_stays_bounded_across_a_batch(app: App, inbox: Path) -> None:
    def batch(round_: int) -> None:
        for i in range(8):
            kind = "png" if i == 0 else "pdf_text"
            path = scan(
                inbox,
                patients()[i],
                kind,
                f"r{round_}-{i}.{kind}",
                pages=2 if i else 1,
                content_seed=round_ * 100 + i,
            )
            assert app.ingestor.ingest(path).kind in ("filed", "review")
        bomb = huge_bilevel_png(inbox / f"bomb{round_}.png", 30000 + round_, 30000)
        assert app.ingestor.ingest(bomb).kind == "quarantined"

    batch(0)  # warm up: imports, OCR workers, caches
    before = rss()
    for round_ in range(1, 4):
        batch(round_)
    growth = rss() - before
    assert growth < 60 * 2**20, f"RSS grew {growth / 2**20:.0f} MiB over 27 files"


def test_pages_that_break_the_decoders_end_in_review_or_quarantine(
    app: App, inbox: Path, tmp_path: Path
) -> None:
    from PIL import Image

    # A 32-bit float TIFF: Pillow opens it, tesseract gives no output at all.
    Image.new("F", (400, 400), 0.5).save(inbox / "float.tif")
    # A PDF whose page tree promises two pages and holds one: pdfium fails on page 2.
    good = scan(tmp_path / "src", patients()[1], "pdf_text", "one.pdf")
    (inbox / "short.pdf").write_bytes(good.read_bytes().replace(b"/Count 1", b"/Count 2"))
    for name in ("float.tif", "short.pdf"):
        outcome = app.ingestor.ingest(inbox / name)
        assert outcome.kind in ("review", "quarantined"), (name, outcome)
        assert outcome.reason, name
        assert not (inbox / name).exists(), f"{name} left in the inbox"


def test_a_dead_worker_pool_is_replaced_and_the_file_still_read(
    app: App, inbox: Path, tmp_path: Path
) -> None:
    pool = app.ingestor.pool()
    pool.submit(os.getpid).result()
    for process in list(pool._processes.values()):
        process.kill()
    time.sleep(0.5)
    path = scan(inbox, patients()[2], "pdf_text", "after-crash.pdf")
    outcome = app.ingestor.ingest(path)
    assert outcome.kind in ("filed", "review")
    assert app.ingestor.pool() is not pool
