"""Writers for every kind of file a scanner or fax server drops: PNG, JPEG, TIFF and PDFs."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from synthetic.content import text_of
from synthetic.documents import render_pages
from synthetic.render import FONT_DIR
from synthetic.spec import DocumentSpec

KINDS: dict[str, str] = {
    "png": ".png",
    "jpeg": ".jpg",
    "tiff": ".tif",
    "pdf_image": ".pdf",
    "pdf_text": ".pdf",
    "pdf_mixed": ".pdf",
}
SINGLE_PAGE_KINDS = ("png", "jpeg")
_PDF_FONT = "DejaVuSans"

__all__ = [
    "KINDS",
    "text_of",
    "write_document",
    "write_image_pdf",
    "write_jpeg",
    "write_mixed_pdf",
    "write_png",
    "write_text_pdf",
    "write_tiff_multipage",
]


def write_png(image: Image.Image, path: Path) -> Path:
    """Write one page as PNG, keeping its dpi."""
    image.save(path, format="PNG", dpi=_dpi(image))
    return Path(path)


def write_jpeg(image: Image.Image, path: Path, quality: int = 85) -> Path:
    """Write one page as JPEG (bilevel pages are stored as grayscale)."""
    image.convert("L").save(path, format="JPEG", quality=quality, dpi=_dpi(image))
    return Path(path)


def write_tiff_multipage(images: Sequence[Image.Image], path: Path) -> Path:
    """Write all pages into one TIFF: Group 4 for bilevel pages, LZW otherwise."""
    first, rest = images[0], list(images[1:])
    compression = "group4" if first.mode == "1" else "tiff_lzw"
    first.save(
        path,
        format="TIFF",
        save_all=True,
        append_images=rest,
        compression=compression,
        dpi=_dpi(first),
    )
    return Path(path)


def write_image_pdf(images: Sequence[Image.Image], path: Path) -> Path:
    """Write an image-only PDF (no text layer), each page sized from its pixels and dpi."""
    first, rest = images[0], list(images[1:])
    first.save(
        path, format="PDF", save_all=True, append_images=rest, resolution=float(_dpi(first)[0])
    )
    return Path(path)


def write_text_pdf(pages_text: Sequence[str], path: Path) -> Path:
    """Write a letter-size PDF with a real text layer, one PDF line per line of text."""
    pdf = canvas.Canvas(str(path), pagesize=letter, invariant=True)
    for text in pages_text:
        _draw_text_page(pdf, text)
        pdf.showPage()
    pdf.save()
    return Path(path)


def write_mixed_pdf(
    images: Sequence[Image.Image],
    pages_text: Sequence[str],
    path: Path,
    text_pages: Sequence[bool] | None = None,
) -> Path:
    """Write a PDF where some pages carry a text layer and the others are only an image.

    Args:
        images: The rendered pages.
        pages_text: The text of the same pages.
        path: Where to write.
        text_pages: For each page, True for a text page; by default even-numbered pages
            (the 1st, 3rd, ...) are text and the others images.

    Returns:
        The path written.
    """
    flags = list(text_pages) if text_pages is not None else [i % 2 == 0 for i in range(len(images))]
    pdf = canvas.Canvas(str(path), pagesize=letter, invariant=True)
    width, height = letter
    for image, text, as_text in zip(images, pages_text, flags, strict=True):
        if as_text:
            _draw_text_page(pdf, text)
        else:
            pdf.drawImage(ImageReader(image.convert("L")), 0, 0, width=width, height=height)
        pdf.showPage()
    pdf.save()
    return Path(path)


def write_document(
    spec: DocumentSpec, seed: int, folder: Path, kind: str, name: str | None = None
) -> Path:
    """Render ``spec`` and write it as ``kind`` into ``folder``.

    Args:
        spec: The document.
        seed: Render seed (see ``render_pages``).
        folder: An existing folder.
        kind: One of ``KINDS``: png, jpeg, tiff, pdf_image, pdf_text, pdf_mixed. PNG and
            JPEG hold one page, so a multi-page spec raises ValueError for them.
        name: File name; by default a scanner-style name from a checksum of the spec,
            never an identifier.

    Returns:
        The path of the file written.
    """
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if kind in SINGLE_PAGE_KINDS and spec.pages > 1:
        raise ValueError(f"{kind} holds one page; use tiff or a pdf kind for {spec.pages} pages")
    if name is None:
        name = f"SCAN_{zlib.crc32(f'{spec!r}:{seed}:{kind}'.encode()):08X}{KINDS[kind]}"
    path = Path(folder) / name
    if kind == "pdf_text":
        return write_text_pdf(text_of(spec), path)
    images = render_pages(spec, seed)
    if kind == "png":
        return write_png(images[0], path)
    if kind == "jpeg":
        return write_jpeg(images[0], path)
    if kind == "tiff":
        return write_tiff_multipage(images, path)
    if kind == "pdf_image":
        return write_image_pdf(images, path)
    return write_mixed_pdf(images, text_of(spec), path)


@lru_cache(maxsize=1)
def _register_font() -> str:
    pdfmetrics.registerFont(TTFont(_PDF_FONT, str(FONT_DIR / f"{_PDF_FONT}.ttf")))
    return _PDF_FONT


def _draw_text_page(pdf: canvas.Canvas, text: str) -> None:
    lines = text.split("\n")
    width, height = letter
    leading = min(14.0, (height - 90.0) / max(1, len(lines)))
    y = height - 54.0
    pdf.setFont(_register_font(), min(10.0, leading * 0.8))
    for line in lines:
        pdf.drawString(54.0, y, line)
        y -= leading


def _dpi(image: Image.Image) -> tuple[int, int]:
    dpi = image.info.get("dpi", (300, 300))
    return round(float(dpi[0])), round(float(dpi[1]))
