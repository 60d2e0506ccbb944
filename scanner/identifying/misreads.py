"""How OCR misreads a printed name: ``Peña`` read as ``Pefia``, ``Kim`` as ``Kirn``.

Tesseract confuses a few glyph shapes on printed text, the same ones on every scanner and
every hospital's forms: ``m`` and ``rn``, ``d`` and ``cl``, ``w`` and ``vv``, ``l`` and ``i``
(or a capital ``I``), ``e`` and ``c``, and the tilde of ``ñ`` read as ``fi``. A page spelling
that one such confusion turns into the record's spelling is the record's name read badly, not
another person's name.

Only these confusions count, never an arbitrary letter: ``Erin`` and ``Eric`` or ``Dana``
and ``Dona`` are different people (twins are given such names). Pure: strings in, bool out.
"""

from __future__ import annotations

import functools

from records.patient_records import letters_key

# (as printed, as OCR may read it), lower case; each pair is tried both ways except where the
# printed side is a letter a page can only carry when the record does (ñ, whose tilde OCR
# reads as an i-dot or drops).
_BOTH_WAYS: tuple[tuple[str, str], ...] = (
    ("m", "rn"),
    ("d", "cl"),
    ("w", "vv"),
    ("n", "ri"),
    ("h", "li"),
    ("u", "ii"),
    ("l", "i"),
    ("e", "c"),
)
_ONE_WAY: tuple[tuple[str, str], ...] = (("ñ", "fi"), ("ñ", "f"), ("ñ", "ii"), ("ñ", "fl"))
_CONFUSIONS: tuple[tuple[str, str], ...] = (
    *_BOTH_WAYS,
    *((read, printed) for printed, read in _BOTH_WAYS),
    *_ONE_WAY,
)
# One misread glyph per name part: two would let too many real names reach each other.
MAX_MISREADS = 1
# A short name has too few letters for a misread of one to leave it recognisable.
MIN_LETTERS = 3


def _letters(name: str) -> str:
    """Lower-case letters, accents kept only on ñ (the one accent OCR turns into letters)."""
    kept = "".join(ch for ch in name.lower() if ch == "ñ" or ch.isalpha())
    return "".join(ch if ch == "ñ" else letters_key(ch).lower() for ch in kept)


def ocr_misread(page: str, record: str) -> bool:
    """Whether ``page`` is ``record`` as OCR may have read it, with one glyph confused.

    Args:
        page: a name part as read from the page (``Pefia``).
        record: the same part of the patient record's name (``Peña``).

    Returns:
        True when one confusion of :data:`_CONFUSIONS` (and nothing else) turns the record's
        spelling into the page's; False for the same spelling, or any other difference.
    """
    return _misreads(_letters(page), _letters(record)) == MAX_MISREADS


@functools.lru_cache(maxsize=4096)
def _misreads(page: str, record: str) -> int | None:
    """The fewest confusions that turn ``record`` into ``page`` (None: more than allowed)."""
    if len(record) < MIN_LETTERS or len(page) < MIN_LETTERS:
        return None
    best: dict[tuple[int, int], int] = {(0, 0): 0}
    # A walk over positions in both strings; each step is one equal letter
    # (ñ on the record equals n on the page: folded printing) or one confusion.
    frontier = [(0, 0)]
    while frontier:
        i, j = frontier.pop()
        cost = best[(i, j)]
        steps: list[tuple[int, int, int]] = []
        if i < len(record) and j < len(page):
            r, p = record[i], page[j]
            if r == p or (r == "ñ" and p == "n"):
                steps.append((i + 1, j + 1, cost))
        for printed, read in _CONFUSIONS:
            if record.startswith(printed, i) and page.startswith(read, j):
                steps.append((i + len(printed), j + len(read), cost + 1))
        for ni, nj, ncost in steps:
            if ncost <= MAX_MISREADS and ncost < best.get((ni, nj), MAX_MISREADS + 1):
                best[(ni, nj)] = ncost
                frontier.append((ni, nj))
    return best.get((len(record), len(page)))


def misread_keys(name: str) -> frozenset[str]:
    """The index keys (``letters_key``) of every spelling ``name`` may be a misread of.

    For the candidate lookup, which probes the index by key: a record whose name
    :func:`ocr_misread` calls misread must be fetched, and the index keeps only folded
    keys (``Peña`` as PENA), which :func:`ocr_misread` cannot tell from ``Pena``. Each
    confusion is undone once at each place it fits; some keys found belong to no such
    record (harmless: the rule weighs whoever is fetched), none is missed.
    """
    page = _letters(name)
    if len(page) < MIN_LETTERS:
        return frozenset()
    keys = set()
    for printed, read in _CONFUSIONS:
        at = page.find(read)
        while at != -1:
            keys.add(letters_key(page[:at] + printed + page[at + len(read) :]))
            at = page.find(read, at + 1)
    return frozenset(keys)
