"""Unlabelled patient names next to the identifier lines: chart headers and stickers.

A chart header or an addressograph sticker prints ``DOE, JANE A`` without a label, right
above the ``MRN: ... DOB: ...`` line. A name that is printed must be read, or a name that
belongs to someone else would go unseen and the page could be filed on its MRN and DOB alone.
Pure: lines and word boxes in, names out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scanner.identifying.labels import LabelFinder, LabelHit, WordLines, word_lines
from scanner.identifying.names import PersonName, parse_bare_name, parse_name
from scanner.identifying.roles import PATIENT, line_roles, role_of, value_role
from scanner.reading.pagetext import Word

_ANCHOR_KINDS = frozenset({"mrn", "dob", "sex"})
# "DOE, JANE" or "VAN DER BERG, PIETER" at the start of a run of words.
_WORD = r"[^\W\d_][^\W\d_'’-]*"
_COMMA_NAME = re.compile(rf"^{_WORD}(?:\s+{_WORD}){{0,2}}[,;]\s*{_WORD}(?:\s|$)")


def header_names(
    lines: Sequence[str], finder: LabelFinder, sections: Sequence[str | None] | None = None
) -> list[tuple[PersonName, str]]:
    """Unlabelled ``DOE, JANE A`` lines right above or below a labelled MRN, DOB or sex line.

    The name takes the role of that line (the patient's, or a guarantor's under a
    ``GUARANTOR`` heading, see ``roles``). Lines that name someone else by a role label
    (``Guarantor: ...``) or carry only the document's numbers (``Acct #: ...``) are stepped
    over: printed between a patient's name and label, they do not part them.
    """
    rows = [
        (line, sections[i] if sections is not None else PATIENT)
        for i, line in enumerate(lines)
        if line.strip()
    ]
    texts = [text for text, _ in rows]
    hits = [finder.find(text) for text in texts]
    found: list[tuple[PersonName, str]] = []
    for index, line_hits in enumerate(hits):
        section = rows[index][1]
        if not line_hits or section is None:
            continue  # most lines of a dense page: no label, so no MRN, DOB or sex line
        anchors = [
            (hit, role)
            for hit, role in zip(line_hits, line_roles(line_hits, section or PATIENT), strict=True)
            if hit.kind in _ANCHOR_KINDS
        ]
        if not anchors:
            continue
        roles = [value_role(hit.kind, role) for hit, role in anchors]
        role = PATIENT if PATIENT in roles else roles[0]
        for step in (-1, 1):
            near = index + step
            while role == PATIENT and 0 <= near < len(texts) and _names_other(hits[near]):
                near += step
            if 0 <= near < len(texts) and not hits[near] and rows[near][1] is not None:
                name = parse_bare_name(texts[near])
                if name is not None:
                    found.append((name, role))
    return found


_DOCUMENT_KINDS = frozenset({"accession", "account", "encounter", "service_date", "stop"})


def _names_other(hits: Sequence[LabelHit]) -> bool:
    """A line of someone else's (``Guarantor: ...``) or of the document's (``Acct #: ...``)."""
    return bool(hits) and (
        any(role_of(hit) for hit in hits) or all(hit.kind in _DOCUMENT_KINDS for hit in hits)
    )


def sticker_names(
    words: Sequence[Word], finder: LabelFinder, lines: WordLines | None = None
) -> list[PersonName]:
    """``DOE, JANE`` words printed right above the first MRN/DOB label of a line.

    A sticker pasted over the letterhead shares OCR lines with the address, so its name line
    is not a line of its own: the words of the one or two lines above, starting in the
    label's column with a ``LAST, FIRST`` form, are the name. Those lines are taken from
    tesseract's own line numbers when the words carry them (they follow a tilted sticker),
    and from word boxes grouped by height otherwise. ``lines`` are ``word_lines(words)``
    when the caller has them already.
    """
    if lines is None:
        lines = word_lines(words)
    found: list[PersonName] = []
    for index, text in enumerate(lines.texts):
        hits = finder.find(text)
        anchors = [hit.start for hit in hits if hit.kind in _ANCHOR_KINDS]
        if not anchors or any(hit.kind == "name" for hit in hits):
            continue  # no identifier here, or a table header whose name column is below
        line = lines[index]
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
