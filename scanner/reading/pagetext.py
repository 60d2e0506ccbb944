"""The text of one page as the rest of the scanner sees it, whatever read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from scanner.identifying.identifiers import PageFindings
    from scanner.reading.pages import PageJob


@dataclass(frozen=True)
class Word:
    """One word with its box in page pixels (or PDF points for a text layer).

    ``block``, ``par`` and ``line`` are tesseract's layout numbers; for a PDF text layer they
    are derived from the word's vertical position so that words on one baseline share a line.
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
        words: the words with their boxes (empty when the reader gave none).
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
    words: tuple[Word, ...] = field(default=())
    confidence: float | None = None
    source: Literal["text_layer", "ocr"] = "ocr"
    rotation: int = 0
    width: float = 0.0
    height: float = 0.0
    error: str | None = None
    job: PageJob | None = field(default=None, compare=False, repr=False)
    passes: tuple[OcrPass, ...] = field(default=(), compare=False)
    findings: PageFindings | None = field(default=None, compare=False, repr=False)
