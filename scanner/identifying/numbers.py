"""Reading numbers that OCR has mangled, and the check-digit schemes MRNs may carry.

Pure functions: strings in, strings out. Letter-for-digit fixes are applied only to tokens that
are mostly digits already, so a word such as ``BOB`` never turns into ``808``.
"""

from __future__ import annotations

import re
from typing import Literal

# Shapes tesseract confuses with digits on scanned labels and stickers.
_CONFUSABLE = str.maketrans(
    {"O": "0", "o": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8", "Z": "2"}
    | {"G": "6", "i": "1", "s": "5", "z": "2"}
)
_CONFUSABLE_CHARS = frozenset("OoQIl|SBZGisz")
_EDGE_PUNCT = "#:;,()[]{}<>\"'*"
_SEPARATORS = "-."

CheckDigitScheme = Literal["none", "mod10", "mod11"]


def fix_digit_token(token: str, separators: str = _SEPARATORS) -> str | None:
    """Repair one whitespace-free token that should be a number.

    Args:
        token: the token as OCR read it, e.g. ``"O0482913"`` or ``"0048-29l3"``.
        separators: characters allowed between digit groups (kept in the result).

    Returns:
        The token with confusable letters replaced by digits, or None when the token is not
        mostly digits (so it was probably a word, not a number).
    """
    core = token.strip(_EDGE_PUNCT)
    core = core.rstrip(".")
    if not core:
        return None
    digits = sum(ch.isdigit() for ch in core)
    confusables = sum(ch in _CONFUSABLE_CHARS for ch in core)
    others = len(core) - digits - confusables
    allowed_others = sum(ch in separators for ch in core)
    if digits == 0 or others != allowed_others or confusables >= digits:
        return None
    if core[0] in separators or core[-1] in separators:
        return None
    return core.translate(_CONFUSABLE)


def strip_separators(value: str) -> str:
    """Remove dashes, dots and spaces that scanners and forms put inside numbers."""
    return re.sub(r"[\s.\-]", "", value)


def read_number(segment: str, pattern: re.Pattern[str], max_tokens: int = 4) -> str | None:
    """Read the number at the start of ``segment`` that fully matches ``pattern``.

    A number may be split over several tokens (``0048 2913``); a single token that already
    matches is preferred so that a following, unrelated number is not glued on.

    Args:
        segment: the text right after a label.
        pattern: what a valid value looks like once separators are removed.
        max_tokens: how many space-separated groups may form one number.

    Returns:
        The normalised number, or None when nothing at the start of the segment fits.
    """
    tokens = segment.split()
    if not tokens:
        return None
    first_raw = strip_separators(tokens[0].strip(_EDGE_PUNCT))
    if first_raw and pattern.fullmatch(first_raw):
        return first_raw
    run: list[str] = []
    for token in tokens[:max_tokens]:
        fixed = fix_digit_token(token)
        if fixed is None:
            break
        run.append(strip_separators(fixed))
        joined = "".join(run)
        if pattern.fullmatch(joined):
            return joined
    return None


def read_code(segment: str) -> str | None:
    """Read an accession, account or encounter number at the start of ``segment``.

    These may carry letters (``S24-01234``), so the value is kept upper-cased with its inner
    dashes; a purely numeric token is repaired like an MRN.

    Args:
        segment: the text right after a label.

    Returns:
        The code, or None when the segment does not start with something code-like.
    """
    tokens = segment.split()
    if not tokens:
        return None
    core = tokens[0].strip(_EDGE_PUNCT).rstrip(".").upper()
    if re.fullmatch(r"[A-Z]{1,5}-?[0-9][0-9\-]{2,24}", core):
        # A letter prefix (S24-01234) is part of many accession numbers: keep it as is.
        return core
    fixed = fix_digit_token(tokens[0])
    if fixed is not None and sum(ch.isdigit() for ch in fixed) >= 3:
        joined = strip_separators(fixed)
        for token in tokens[1:3]:
            more = fix_digit_token(token)
            if more is None or len(joined) >= 6:
                break
            joined += strip_separators(more)
        return joined
    if (
        re.fullmatch(r"[A-Z]{0,5}-?[0-9][0-9A-Z\-]{2,24}", core)
        and sum(ch.isdigit() for ch in core) >= 3
    ):
        return core
    return None


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` passes the Luhn (mod 10) check, its last digit being the check."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mod11_valid(digits: str) -> bool:
    """Whether ``digits`` passes a mod 11 check (weights 2..7 from the right, cycling).

    The check digit is ``(11 - sum % 11) % 11``; a payload whose check would be 10 cannot be
    written with a digit, so such numbers are invalid.
    """
    if not digits.isdigit() or len(digits) < 2:
        return False
    payload, check = digits[:-1], int(digits[-1])
    total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(payload)))
    expected = (11 - total % 11) % 11
    return expected != 10 and expected == check


def check_digit_ok(digits: str, scheme: CheckDigitScheme) -> bool:
    """Whether ``digits`` is acceptable under ``scheme`` (always True for ``"none"``)."""
    if scheme == "mod10":
        return luhn_valid(digits)
    if scheme == "mod11":
        return mod11_valid(digits)
    return True
