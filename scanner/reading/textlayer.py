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
import ctypes
import functools
import logging
import operator
import re
from array import array
from collections.abc import Callable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from scanner.reading.pagetext import PageText, TextLayerWords, Word

# Words whose tops are within this many points sit on one line.
LINE_TOLERANCE = 3.0
WORD = re.compile(r"\S+")

log = logging.getLogger("chartclerk.pages")


# A word as read: top, left and its index first, so that plain tuple order sorts it into
# reading order, ties (words printed over each other) kept in the text layer's own order.
_Box = tuple[float, float, int, str, float, float]  # top, left, index, text, right, bottom


def _boxes(textpage: pdfium.PdfTextPage, height: float) -> list[_Box]:
    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    if len(text) != count:
        # Characters outside the Basic Multilingual Plane take two UTF-16 units, which
        # shifts string positions against character indices; read them one by one.
        text = "".join(textpage.get_text_range(i, 1) or " " for i in range(count))
    spans = [match.span() for match in WORD.finditer(text)]
    # The boxes of every word's first and last characters, side by side in one array of
    # floats (FS_RECTF: left, top, right, bottom), by pdfium's own call: the wrapper's
    # get_charbox makes a ctypes structure a character, and even the raw binding checks
    # and converts its arguments a call, which cost a dense page (800 words) 1.6 ms.
    rects = (ctypes.c_float * (8 * len(spans)))()
    charbox, handle, at = _loose_charbox(), _address(textpage), ctypes.byref
    ok = 1
    for offset, (first, end) in zip(range(0, 32 * len(spans), 32), spans, strict=True):
        ok &= charbox(handle, first, at(rects, offset))
        ok &= charbox(handle, end - 1, at(rects, offset + 16))
    if not ok:
        raise pdfium.PdfiumError("Failed to get charbox.")
    v = rects[:]
    # A word's box is the union of its first and last characters' boxes. Comparisons
    # written out (not min/max calls) keep the loop cheap; they pick the same floats.
    return [
        (
            height - (t1 if t1 > t2 else t2),
            l1 if l1 < l2 else l2,
            index,
            text[first:end],
            r1 if r1 > r2 else r2,
            height - (b1 if b1 < b2 else b2),
        )
        for index, ((first, end), l1, t1, r1, b1, l2, t2, r2, b2) in enumerate(
            zip(*(spans, *(v[k::8] for k in range(8))), strict=True)
        )
    ]


@functools.cache
def _loose_charbox() -> Callable[..., int]:
    """The FPDFText_GetLooseCharBox of pdfium, called without ctypes' per-argument checks.

    Its arguments are given as what C receives: the text page as a ``c_void_p``, the
    character index as an int, the box as a ``byref`` into an array of floats.
    """
    address = ctypes.cast(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_void_p).value
    if address is None:
        raise pdfium.PdfiumError("pdfium has no FPDFText_GetLooseCharBox")
    return ctypes.CFUNCTYPE(ctypes.c_int)(address)


def _address(textpage: pdfium.PdfTextPage) -> ctypes.c_void_p:
    return ctypes.c_void_p(ctypes.cast(textpage.raw, ctypes.c_void_p).value)


# By left edge, then top, then the text layer's own order.
_LEFT_TOP_INDEX = operator.itemgetter(1, 0, 2)


def _lines(boxes: list[_Box]) -> list[list[_Box]]:
    """Boxes whose tops are within LINE_TOLERANCE of a line's first box, left to right."""
    lines: list[list[_Box]] = []
    line: list[_Box] = []
    line_top = 0.0
    boxes.sort()
    for box in boxes:
        if line and abs(box[0] - line_top) <= LINE_TOLERANCE:
            line.append(box)
        else:
            line = [box]
            line_top = box[0]
            lines.append(line)
    # By left edge; boxes with the same left stay in reading order (top, then index).
    return [sorted(line, key=_LEFT_TOP_INDEX) for line in lines]


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
    make = Word._make  # a named tuple from a tuple: a third cheaper than calling the class
    for line_number, line in enumerate(_lines(boxes), 1):
        texts = []
        for top, left, _, word, right, bottom in line:
            texts.append(word)
            box = (left, top, right - left, bottom - top)
            flat += box
            words.append(make((word, *box, 100.0, 0, 0, line_number)))
        lines.append(" ".join(texts))
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


def close_open_pdf() -> None:
    """Close the PDF this worker keeps open (as it exits; before its file is removed)."""
    global _open
    if _open is not None:
        _open[1].close()
        _open = None


# A worker's last PDF is closed as it exits, not left for pdfium's finaliser to complain of.
atexit.register(close_open_pdf)


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
