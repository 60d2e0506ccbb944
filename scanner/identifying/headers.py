"""Unlabelled patient names next to the identifier lines: chart headers and stickers.

A chart header or an addressograph sticker prints ``DOE, JANE A`` without a label, right
above the ``MRN: ... DOB: ...`` line. A name that is printed must be read, or a name that
belongs to someone else would go unseen and the page could be filed on its MRN and DOB alone.
Pure: lines and word boxes in, names out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scanner.identifying.labels import LabelFinder, word_lines
from scanner.identifying.names import PersonName, parse_bare_name, parse_name
from scanner.reading.pagetext import Word

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
    """``DOE, JANE`` words printed right above the first MRN/DOB label of a line.

    A sticker pasted over the letterhead shares OCR lines with the address, so its name line
    is not a line of its own: the words of the one or two lines above, starting in the
    label's column with a ``LAST, FIRST`` form, are the name. Those lines are taken from
    tesseract's own line numbers when the words carry them (they follow a tilted sticker),
    and from word boxes grouped by height otherwise.
    """
    lines = word_lines(words)
    found: list[PersonName] = []
    for index, line in enumerate(lines):
        hits = finder.find(line.text)
        anchors = [hit.start for hit in hits if hit.kind in _ANCHOR_KINDS]
        if not anchors or any(hit.kind == "name" for hit in hits):
            continue  # no identifier here, or a table header whose name column is below
        anchor = line.word_at(anchors[0])
        above: list[Sequence[Word]] = []
        if anchor.block:
            for back in (1, 2):
                key = (anchor.block, anchor.par, anchor.line - back)
                above.append(sorted((w for w in words if (w.block, w.par, w.line) == key),
                                    key=lambda w: w.left))  # fmt: skip
        height = max(1.0, line.bottom - line.top)
        above += [
            a.words for a in lines[max(0, index - 2) : index] if line.top - a.bottom < 3 * height
        ]
        for candidate in above:
            name = _name_from(candidate, anchor.left, max(1.0, anchor.height))
            if name is not None:
                found.append(name)
    return found


def _name_from(words: Sequence[Word], left: float, tolerance: float) -> PersonName | None:
    """The ``LAST, FIRST`` name whose first word starts in the column at ``left``, if any."""
    start = next((i for i, w in enumerate(words) if w.left >= left - tolerance), None)
    if start is None or words[start].left > left + tolerance:
        return None
    text = " ".join(w.text for w in words[start:])
    if not _COMMA_NAME.match(text) or not text[:1].isupper():
        return None
    return parse_name(text)
