"""The text of one page as the rest of the scanner sees it, whatever read it."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

if TYPE_CHECKING:
    from scanner.identifying.identifiers import PageFindings
    from scanner.reading.pages import PageJob


class Word(NamedTuple):
    """One word with its box in page pixels (or PDF points for a text layer).

    ``block``, ``par`` and ``line`` are tesseract's layout numbers; for a PDF text layer they
    are derived from the word's vertical position so that words on one baseline share a line.
    A named tuple, not a dataclass: a dense page has ~800 words, and a frozen dataclass
    costs four times as much to make (about 1 ms a page more).
    """

    text: str
    left: float
    top: float
    width: float
    height: float
    conf: float = -1.0
    block: int = 0
    par: int = 0
    line: int = 0

    @property
    def right(self) -> float:
        """The x coordinate of the word's right edge."""
        return self.left + self.width

    @property
    def bottom(self) -> float:
        """The y coordinate of the word's bottom edge."""
        return self.top + self.height


class TextLayerWords(Sequence[Word]):
    """A text layer's words, kept as the page's text and one array of boxes until looked at.

    A text-layer page's text is its words joined by single spaces, its lines by newlines
    (see ``scanner.reading.textlayer``), so only the boxes need carrying: four floats a
    word. A dense page (an EHR printout, ~800 words) as Word objects costs about 3 ms to
    pickle in the OCR worker and unpickle in the ingest process, which takes the page's
    identifiers from the worker (``PageText.findings``) and so seldom looks at its words.
    They are made again, exactly, on first use (``len`` needs none).
    """

    __slots__ = ("_boxes", "_text", "_words")

    def __init__(self, text: str, boxes: array[float], words: tuple[Word, ...] | None = None):
        """Words of ``text`` (tokens split on spaces, lines on newlines) with their boxes.

        Args:
            text: the page's text as the text layer reader joined it.
            boxes: left, top, width and height of every word in reading order.
            words: the same words already made (by the reader), or None to make on use.

        Raises:
            ValueError: ``boxes`` does not hold four numbers for every word of ``text``.
        """
        count = text.count(" ") + text.count("\n") + 1 if text else 0
        if boxes.typecode != "d" or len(boxes) != 4 * count:
            raise ValueError(f"{len(boxes)} box values for {count} words")
        self._text = text
        self._boxes = boxes
        self._words = words

    def _made(self) -> tuple[Word, ...]:
        words = self._words
        if words is None:
            words = self._words = _words_of(self._text, self._boxes)
        return words

    def __len__(self) -> int:
        return len(self._boxes) // 4

    @overload
    def __getitem__(self, index: int) -> Word: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Word, ...]: ...

    def __getitem__(self, index: int | slice) -> Word | tuple[Word, ...]:
        return self._made()[index]

    def __iter__(self) -> Iterator[Word]:
        return iter(self._made())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TextLayerWords):
            return self._text == other._text and self._boxes == other._boxes
        if isinstance(other, tuple):
            return self._made() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._made())

    def __repr__(self) -> str:
        return repr(self._made())

    def __reduce__(self) -> tuple[Any, ...]:
        # Only the text (which pickle sends once, shared with the page's own) and the boxes.
        return (TextLayerWords, (self._text, self._boxes))


def _words_of(text: str, boxes: array[float]) -> tuple[Word, ...]:
    if not text:
        return ()
    words: list[Word] = []
    at = 0
    for number, line in enumerate(text.split("\n"), 1):
        for token in line.split(" "):
            words.append(
                Word(
                    token,
                    boxes[at],
                    boxes[at + 1],
                    boxes[at + 2],
                    boxes[at + 3],
                    100.0,
                    line=number,
                )
            )
            at += 4
    return tuple(words)


PassKind = Literal["read", "orientation", "second_look"]


@dataclass(frozen=True)
class OcrPass:
    """One run of tesseract on a page (or part of it): what it was, what it cost, and why.

    ``kind`` is ``read`` (a full-page reading), ``orientation`` (an OSD look at which way
    up the page is) or ``second_look`` (the label region read again by the filing stage).
    ``seconds`` is the pass's wall time in its worker; ``cpu_seconds`` is the CPU time of
    the tesseract it ran (user + system), which a busy machine does not inflate as much.
    ``started_at`` is when it began (seconds since the epoch, UTC).
    """

    kind: PassKind
    seconds: float
    why: str
    cpu_seconds: float = 0.0
    started_at: float | None = None

    def to_json(self) -> dict[str, object]:
        """The pass as stored with its page and shown by ``documents show``."""
        return {
            "kind": self.kind,
            "seconds": round(self.seconds, 3),
            "why": self.why,
            "cpu_seconds": round(self.cpu_seconds, 3),
            "started_at": round(self.started_at, 3) if self.started_at is not None else None,
        }


@dataclass(frozen=True)
class PageText:
    """What was read from one page.

    Attributes:
        number: 1-based page number within the document.
        text: the page's text, lines separated by newlines, in reading order.
        words: the words with their boxes (empty when the reader gave none); a tuple, or
            for a text layer :class:`TextLayerWords`.
        confidence: mean word confidence 0-100 for OCR; None for a text layer.
        source: ``"text_layer"`` (read from the PDF) or ``"ocr"`` (tesseract).
        rotation: degrees the page was turned before it read well (0, 90, 180, 270).
        width: page width in the same unit as the word boxes.
        height: page height in the same unit as the word boxes.
        error: why the page could not be read, or None.
        job: how the page was read by OCR, so that part of it can be read again; None for
            a text layer or a page made up elsewhere.
        passes: the tesseract runs this page cost, in order (none for a text layer).
        findings: the identifiers found on the page where it was read (an OCR worker), for
            ``extract_identifiers`` to take instead of finding them again; None when not
            looked for there.
    """

    number: int
    text: str
    words: Sequence[Word] = field(default=())
    confidence: float | None = None
    source: Literal["text_layer", "ocr"] = "ocr"
    rotation: int = 0
    width: float = 0.0
    height: float = 0.0
    error: str | None = None
    job: PageJob | None = field(default=None, compare=False, repr=False)
    passes: tuple[OcrPass, ...] = field(default=(), compare=False)
    findings: PageFindings | None = field(default=None, compare=False, repr=False)
