"""Unlabelled patient names next to the identifier lines: chart headers and stickers.

A chart header or an addressograph sticker prints ``DOE, JANE A`` without a label, right
above the ``MRN: ... DOB: ...`` line. A name that is printed must be read, or a name that
belongs to someone else would go unseen and the page could be filed on its MRN and DOB alone.
Pure: lines and word boxes in, names out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scanner.labels import LabelFinder, WordLine, word_lines
from scanner.names import PersonName, parse_bare_name, parse_name
from scanner.pagetext import Word

_ANCHOR_KINDS = frozenset({"mrn", "dob", "sex"})
# "DOE, JANE" or "VAN DER BERG, PIETER" at the start of a run of words.
_WORD = r"[^\W\d_][^\W\d_'’-]*"
_COMMA_NAME = re.compile(rf"^{_WORD}(?:\s+{_WORD}){{0,2}}[,;]\s*{_WORD}(?:\s|$)")


def _anchors(finder: LabelFinder, text: str) -> list[int]:
    """Where the MRN, DOB and sex labels of a line start."""
    return [hit.start for hit in finder.find(text) if hit.kind in _ANCHOR_KINDS]


def header_names(lines: Sequence[str], finder: LabelFinder) -> list[PersonName]:
    """Unlabelled ``DOE, JANE A`` lines right above or below a labelled MRN, DOB or sex line."""
    texts = [line for line in lines if line.strip()]
    found: list[PersonName] = []
    for index, line in enumerate(texts):
        if not _anchors(finder, line):
            continue
        for near in (index - 1, index + 1):
            if 0 <= near < len(texts) and not finder.find(texts[near]):
                name = parse_bare_name(texts[near])
                if name is not None:
                    found.append(name)
    return found


def sticker_names(words: Sequence[Word], finder: LabelFinder) -> list[PersonName]:
    """``DOE, JANE`` words printed over the first MRN/DOB label of a line, by word boxes.

    A sticker pasted over the letterhead shares OCR lines with the address, so its name line
    is not a line of its own: the words above the label's column, within two lines, that
    begin with a ``LAST, FIRST`` form are the name.
    """
    lines = word_lines(words)
    found: list[PersonName] = []
    for index, line in enumerate(lines):
        anchors = _anchors(finder, line.text)
        if not anchors:
            continue
        left = line.word_at(anchors[0]).left
        height = max(1.0, line.bottom - line.top)
        for above in lines[max(0, index - 2) : index]:
            if line.top - above.bottom > 3 * height:
                continue
            name = _name_from(above, left - height)
            if name is not None:
                found.append(name)
    return found


def _name_from(line: WordLine, left: float) -> PersonName | None:
    """The name that starts a cell of ``line`` at or right of ``left``, if any.

    The run must start a cell (a gap wider than a space before it): ``Drive, Larkspur`` in
    the middle of an address is no name.
    """
    words = line.words
    start = next((i for i, w in enumerate(words) if w.left >= left), None)
    if start is None:
        return None
    if start > 0 and words[start].left - words[start - 1].right <= 0.8 * line_height(line):
        return None
    text = " ".join(w.text for w in words[start:])
    if not _COMMA_NAME.match(text):
        return None
    return parse_name(text)


def line_height(line: WordLine) -> float:
    """The height of a word line, at least one unit."""
    return max(1.0, line.bottom - line.top)
