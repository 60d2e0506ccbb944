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
import math
import re
import threading
from array import array
from collections.abc import Callable
from itertools import accumulate, chain, count, repeat
from operator import itemgetter, sub
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from scanner.reading.pagetext import PageText, TextLayerWords, Word

# Words whose tops are within this many points sit on one line.
LINE_TOLERANCE = 3.0
# Split with its group kept, the text alternates between what lies between words and the
# words themselves (\S is the complement of the whitespace str.split splits on).
WORD = re.compile(r"(\S+)")

log = logging.getLogger("chartclerk.pages")


class _Words:
    """A page's words in the text layer's order, one list a field (index i is word i).

    Lists of floats, not a tuple a word: sorting and picking them out in reading order is
    then done by C loops (``sort`` with a key, ``map``, ``zip``), not Python bytecode a word.
    """

    __slots__ = ("heights", "lefts", "texts", "tops", "widths")

    def __init__(
        self,
        texts: list[str],
        lefts: list[float],
        tops: list[float],
        widths: list[float],
        heights: list[float],
    ):
        self.texts = texts
        self.lefts = lefts
        self.tops = tops
        self.widths = widths
        self.heights = heights


def _words(textpage: pdfium.PdfTextPage, height: float) -> _Words:
    """Every word's text and box (top down, in points), in the text layer's order."""
    chars = textpage.count_chars()
    if chars <= 0:
        return _Words([], [], [], [], [])
    text = textpage.get_text_range(0, chars)
    if len(text) != chars:
        # Characters outside the Basic Multilingual Plane take two UTF-16 units, which
        # shifts string positions against character indices; read them one by one.
        text = "".join(textpage.get_text_range(i, 1) or " " for i in range(chars))
    # Spaces, word, spaces, word, ..., spaces: the running sum of their lengths is where
    # each word starts and ends. Taking one from every end gives each word's first and
    # last character index, side by side, as pdfium is asked for them below.
    parts = WORD.split(text)
    ends = list(accumulate(map(len, parts)))
    del ends[-1]
    ends[1::2] = map(sub, ends[1::2], repeat(1))
    # The boxes of every word's first and last characters (FS_RECTF: left, top, right,
    # bottom), written by pdfium into an array of floats. ``map`` makes the calls from C:
    # the wrapper's get_charbox makes a ctypes structure a character, the raw binding
    # checks and converts its arguments a call, and a Python loop around the call costs
    # as much again (a dense page has 1,600 of them).
    floats, boxes = _charboxes(len(ends))
    if not all(map(_loose_charbox(), repeat(_address(textpage)), ends, boxes)):
        raise pdfium.PdfiumError("Failed to get charbox.")
    return _boxed(parts[1::2], floats, height)


def _boxed(texts: list[str], floats: array[float], height: float) -> _Words:
    """Words with their boxes, top down: each the union of its first and last characters'.

    Args:
        texts: the words.
        floats: for each word its first then its last character's box (left, top, right,
            bottom, y up from the page's foot); what follows the last word's is not read.
        height: the page's height.
    """
    n = 8 * len(texts)
    l1, t1, r1, b1, l2, t2, r2, b2 = (floats[k:n:8] for k in range(8))
    # Comparisons written out, not min/max calls (which cost twice as much here); which of
    # two equal floats is kept (0.0 or -0.0) or whether a NaN is, is as it always was.
    lefts = [a if a < b else b for a, b in zip(l1, l2, strict=True)]
    tops = [height - (a if a > b else b) for a, b in zip(t1, t2, strict=True)]
    # Width is right less left, height bottom less top, as before (the bottom, ``height -
    # b``, taken first); in the same loops as right and bottom, which then need no list.
    widths = [(a if a > b else b) - left for a, b, left in zip(r1, r2, lefts, strict=True)]
    heights = [height - (a if a < b else b) - top for a, b, top in zip(b1, b2, tops, strict=True)]
    return _Words(texts, lefts, tops, widths, heights)


class _Charboxes(threading.local):
    """An array of floats for pdfium to write character boxes into, and a pointer a box.

    One a thread, kept from page to page: making a ``byref`` a box costs a dense page
    (1,600 boxes) 0.13 ms. Pages with more than _KEPT_BOXES boxes get their own.
    """

    # Class attributes: every thread starts from these, and sets its own.
    floats = array("f")
    boxes: tuple[Any, ...] = ()


_KEPT_BOXES = 4096  # 88 bytes a box (floats, pointer): 360 KiB a thread
_charbox_store = _Charboxes()


def _charboxes(count: int) -> tuple[array[float], tuple[Any, ...]]:
    """Floats for ``count`` boxes (four each) and a pointer to each box, in order.

    Only the first ``count`` boxes are for this call; there may be more.
    """
    store = _charbox_store
    if len(store.boxes) >= count:
        return store.floats, store.boxes
    size = max(count, _KEPT_BOXES)
    floats = array("f", bytes(16 * size))
    rects = (ctypes.c_float * (4 * size)).from_buffer(floats)
    boxes = tuple(map(ctypes.byref, repeat(rects), range(0, 16 * size, 16)))
    if size <= _KEPT_BOXES:
        store.floats, store.boxes = floats, boxes
    return floats, boxes


@functools.cache
def _loose_charbox() -> Callable[..., int]:
    """The FPDFText_GetLooseCharBox of pdfium, called without ctypes' per-argument checks.

    Its arguments are given as what C receives: the text page as a ``c_void_p``, the
    character index as an int, the box as a ``byref`` into an array of floats. It runs
    holding the GIL (PYFUNCTYPE): a call takes well under a microsecond, less than
    releasing and taking back the GIL would add to it.
    """
    address = ctypes.cast(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_void_p).value
    if address is None:
        raise pdfium.PdfiumError("pdfium has no FPDFText_GetLooseCharBox")
    return ctypes.PYFUNCTYPE(ctypes.c_int)(address)


def _address(textpage: pdfium.PdfTextPage) -> ctypes.c_void_p:
    return ctypes.c_void_p(ctypes.cast(textpage.raw, ctypes.c_void_p).value)


def _lines(tops: list[float], lefts: list[float]) -> list[list[int]]:
    """Word indices a line, lines top to bottom, each line's words left to right.

    Words are taken in order of top, then left, then their index; a word whose top is
    within LINE_TOLERANCE of its line's first word's top joins that line. A line is then
    ordered by left, then top, then index.
    """
    indices = range(len(tops))
    # Which words share a line depends only on the sequence of tops, sorted: words with
    # equal tops fall in the same line whatever their lefts. Sorting by top alone (stably,
    # so index breaks ties) is therefore enough to group them, and each line is then sorted
    # stably by left, which leaves it in (left, top, index) order. This holds for numbers
    # only: a NaN is neither less than nor equal to anything, and tuples order it otherwise.
    # A page with a NaN or an infinity (their sum is not finite; a sum too large for a
    # float sends a page this way too) is sorted as (top, left, index) tuples.
    finite = math.isfinite(sum(tops)) and math.isfinite(sum(lefts))
    if finite:
        order = sorted(indices, key=tops.__getitem__)
    else:
        order = [i for _, _, i in sorted(zip(tops, lefts, indices, strict=True))]
    lines: list[list[int]] = []
    line: list[int] = []
    line_top = 0.0
    for i in order:
        top = tops[i]
        if line and abs(top - line_top) <= LINE_TOLERANCE:
            line.append(i)
        else:
            line = [i]
            line_top = top
            lines.append(line)
    if not finite:
        return [sorted(line, key=lambda i: (lefts[i], tops[i], i)) for line in lines]
    # Sorted stably by left alone, words with the same left stay in (top, index) order.
    for line in lines:
        line.sort(key=lefts.__getitem__)
    return lines


def _picker(indices: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """A function giving the items of a list at ``indices``, in their order, as a tuple.

    ``itemgetter`` picks them in one call, twice as fast as ``map``; it gives one item, not
    a tuple, for a single index, and nothing for none.
    """
    if len(indices) >= 2:
        return itemgetter(*indices)
    return lambda items: tuple(items[i] for i in indices)


def read_text_layer(page: pdfium.PdfPage, number: int) -> PageText:
    """The words and lines of one PDF page's text layer, in reading order (top to bottom)."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        words = _words(textpage, height)
    finally:
        textpage.close()
    lines = _lines(words.tops, words.lefts)
    pick = _picker(list(chain.from_iterable(lines)))
    texts, lefts, tops = pick(words.texts), pick(words.lefts), pick(words.tops)
    widths, heights = pick(words.widths), pick(words.heights)
    # Carried to the ingest process as the text and an array of boxes (see
    # TextLayerWords): left, top, width and height of every word, interleaved by slices.
    flat = [0.0] * (4 * len(lefts))
    flat[0::4], flat[1::4], flat[2::4], flat[3::4] = lefts, tops, widths, heights
    # Word named tuples made from C (tuple.__new__ is what Word._make calls, without a
    # Python call a word); a line's words share its number, counted from 1.
    numbers = chain.from_iterable(map(repeat, count(1), map(len, lines)))
    fixed = repeat(100.0, len(texts)), repeat(0, len(texts)), repeat(0, len(texts))
    made = tuple(
        map(
            tuple.__new__,
            repeat(Word),
            zip(texts, lefts, tops, widths, heights, *fixed, numbers, strict=True),
        )
    )
    text = "\n".join([" ".join(map(words.texts.__getitem__, line)) for line in lines])
    return PageText(
        number=number,
        text=text,
        # Identified here from the words already made; see TextLayerWords.
        words=TextLayerWords(text, array("d", flat), made),
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
