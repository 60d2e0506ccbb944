"""Reading a PDF page's own text layer into words and lines, without OCR.

pdfium (pypdfium2) hands over a page's characters as one string in a single call, with
the spaces and line breaks it inferred from the glyphs' positions already in it. A word's
box is then the union of the boxes of its first and last characters: two calls a word,
not one Python object a character. pdfplumber's per-character objects cost about 40 ms for
a dense page of 5,000 characters (an EHR printout); this reads one in a few milliseconds,
keeping text-layer PDFs well above 100 pages a second.
"""

from __future__ import annotations

import atexit
import logging
import re
from array import array
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from scanner.reading.pagetext import PageText, TextLayerWords, Word

# Words whose tops are within this many points sit on one line.
LINE_TOLERANCE = 3.0
WORD = re.compile(r"\S+")

log = logging.getLogger("chartclerk.pages")


class _Box(NamedTuple):
    text: str
    left: float
    top: float
    right: float
    bottom: float


def _boxes(textpage: pdfium.PdfTextPage, height: float) -> list[_Box]:
    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    if len(text) != count:
        # Characters outside the Basic Multilingual Plane take two UTF-16 units, which
        # shifts string positions against character indices; read them one by one.
        text = "".join(textpage.get_text_range(i, 1) or " " for i in range(count))
    # pdfium's own call with one reused box: the wrapper's get_charbox makes a new ctypes
    # structure per character, a third of the time of reading a dense page.
    rect = pdfium_c.FS_RECTF()
    charbox = pdfium_c.FPDFText_GetLooseCharBox
    handle = textpage.raw
    boxes: list[_Box] = []
    for match in WORD.finditer(text):
        first, last = match.start(), match.end() - 1
        if not charbox(handle, first, rect):
            raise pdfium.PdfiumError("Failed to get charbox.")
        left, bottom, right, top = rect.left, rect.bottom, rect.right, rect.top
        if last != first:
            if not charbox(handle, last, rect):
                raise pdfium.PdfiumError("Failed to get charbox.")
            left, right = min(left, rect.left), max(right, rect.right)
            bottom, top = min(bottom, rect.bottom), max(top, rect.top)
        boxes.append(_Box(match.group(), left, height - top, right, height - bottom))
    return boxes


def _lines(boxes: list[_Box]) -> list[list[_Box]]:
    lines: list[list[_Box]] = []
    for box in sorted(boxes, key=lambda b: (b.top, b.left)):
        if lines and abs(box.top - lines[-1][0].top) <= LINE_TOLERANCE:
            lines[-1].append(box)
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.left) for line in lines]


def read_text_layer(page: pdfium.PdfPage, number: int) -> PageText:
    """The words and lines of one PDF page's text layer, in reading order (top to bottom)."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        boxes = _boxes(textpage, height)
    finally:
        textpage.close()
    words: list[Word] = []
    flat: list[float] = []
    lines: list[str] = []
    for line_number, line in enumerate(_lines(boxes), 1):
        for box in line:
            word = Word(
                box.text,
                box.left,
                box.top,
                box.right - box.left,
                box.bottom - box.top,
                100.0,
                line=line_number,
            )
            words.append(word)
            flat += (word.left, word.top, word.width, word.height)
        lines.append(" ".join(box.text for box in line))
    text = "\n".join(lines)
    return PageText(
        number=number,
        text=text,
        # Carried to the ingest process as the text and an array of boxes (see
        # TextLayerWords); here, where they are identified, as the words already made.
        words=TextLayerWords(text, array("d", flat), tuple(words)),
        confidence=None,
        source="text_layer",
        width=float(width),
        height=float(height),
    )


# Each OCR worker keeps the PDF it is reading open: the pages of one document come to it
# one after another, and reopening costs a parse of the page tree every time.
_open: tuple[str, pdfium.PdfDocument] | None = None


def _close_open() -> None:
    global _open
    if _open is not None:
        _open[1].close()
        _open = None


# A worker's last PDF is closed as it exits, not left for pdfium's finaliser to complain of.
atexit.register(_close_open)


def _document(path: str) -> pdfium.PdfDocument:
    global _open
    if _open is not None and _open[0] == path:
        return _open[1]
    if _open is not None:
        _open[1].close()
        _open = None
    pdf = pdfium.PdfDocument(path)
    _open = (path, pdf)
    return pdf


def read_pdf_text_layer(path: str, index: int) -> PageText | None:
    """The text layer of page ``index`` of a PDF, or None when pdfium cannot read it.

    A page whose text layer cannot be read is not lost: the caller renders it and OCRs it.
    """
    try:
        page = _document(path)[index]
        try:
            return read_text_layer(page, index + 1)
        finally:
            page.close()
    except (pdfium.PdfiumError, ValueError, IndexError, OSError) as exc:
        log.info(
            "page %d: text layer unreadable (%s); reading it by OCR", index + 1, type(exc).__name__
        )
        return None
