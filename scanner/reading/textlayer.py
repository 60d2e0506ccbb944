"""Reading a PDF page's own text layer into words and lines, without OCR.

pdfplumber's ``page.chars`` builds a dictionary of some twenty attributes per character
(80 ms for a page of 1,200 characters here); the characters of ``page.layout`` carry all we
need, their text and box, at a tenth of that, which keeps text-layer PDFs well above
50 pages a second.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
from pdfminer.layout import LTChar, LTComponent, LTContainer
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSException
from pdfplumber.page import Page

from scanner.reading.pagetext import PageText, Word

# Characters whose tops are within this many points sit on one line.
LINE_TOLERANCE = 3.0
# A gap wider than this share of the font size separates two words.
WORD_GAP = 0.25


@dataclass(frozen=True)
class _Char:
    text: str
    left: float
    right: float
    top: float
    bottom: float

    @property
    def size(self) -> float:
        return max(self.bottom - self.top, 1.0)


def _chars(layout: LTComponent, height: float) -> Iterator[_Char]:
    stack: list[LTComponent] = [layout]
    while stack:
        item = stack.pop()
        if isinstance(item, LTChar):
            yield _Char(item.get_text(), item.x0, item.x1, height - item.y1, height - item.y0)
        elif isinstance(item, LTContainer):
            stack.extend(reversed(list(item)))


def _lines(chars: Iterable[_Char]) -> list[list[_Char]]:
    lines: list[list[_Char]] = []
    for char in sorted(chars, key=lambda c: (c.top, c.left)):
        if lines and abs(char.top - lines[-1][0].top) <= LINE_TOLERANCE:
            lines[-1].append(char)
        else:
            lines.append([char])
    return [sorted(line, key=lambda c: c.left) for line in lines]


def _words(line: list[_Char], line_number: int) -> list[Word]:
    words: list[Word] = []
    current: list[_Char] = []

    def flush() -> None:
        if current:
            left, right = current[0].left, max(c.right for c in current)
            top, bottom = min(c.top for c in current), max(c.bottom for c in current)
            text = "".join(c.text for c in current)
            words.append(Word(text, left, top, right - left, bottom - top, 100.0, line=line_number))
            current.clear()

    for char in line:
        if not char.text.strip():
            flush()
            continue
        if current and char.left - current[-1].right > WORD_GAP * char.size:
            flush()
        current.append(char)
    flush()
    return words


def read_text_layer(page: Page, number: int) -> PageText:
    """The words and lines of one PDF page's text layer, in reading order (top to bottom)."""
    height = float(page.height)
    words: list[Word] = []
    lines: list[str] = []
    for line_number, line in enumerate(_lines(_chars(page.layout, height)), 1):
        line_words = _words(line, line_number)
        if line_words:
            words.extend(line_words)
            lines.append(" ".join(w.text for w in line_words))
    return PageText(
        number=number,
        text="\n".join(lines),
        words=tuple(words),
        confidence=None,
        source="text_layer",
        width=float(page.width),
        height=height,
    )


# Each OCR worker keeps the PDF it is reading open: the pages of one document come to it
# one after another, and reopening costs a parse of the page tree every time.
_open: tuple[str, pdfplumber.PDF] | None = None
log = logging.getLogger("chartclerk.pages")


def _document(path: str) -> pdfplumber.PDF:
    global _open
    if _open is not None and _open[0] == path:
        return _open[1]
    if _open is not None:
        _open[1].close()
        _open = None
    pdf = pdfplumber.open(Path(path))
    _open = (path, pdf)
    return pdf


def read_pdf_text_layer(path: str, index: int) -> PageText | None:
    """The text layer of page ``index`` of a PDF, or None when pdfminer cannot read it.

    A page pdfminer chokes on is not lost: the caller renders it with pdfium and OCRs it.
    """
    try:
        with warnings.catch_warnings():
            # pdfminer warns about every slightly malformed object; the page still reads.
            warnings.simplefilter("ignore")
            page = _document(path).pages[index]
            try:
                return read_text_layer(page, index + 1)
            finally:
                page.close()
    except (
        PSException,
        PDFSyntaxError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        OSError,
    ) as exc:
        log.info(
            "page %d: text layer unreadable (%s); reading it by OCR", index + 1, type(exc).__name__
        )
        return None
