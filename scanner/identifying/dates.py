"""Finding calendar dates in OCR text: US numeric, ISO, long and dd-Mon-yyyy forms.

Pure: the caller passes "today" when it knows it, so two-digit years and future dates can be
judged without this module reading a clock.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from scanner.identifying.numbers import fix_digit_token

DateOrder = Literal["mdy", "dmy"]

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "sept": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_MONTHS.update({name[:3]: number for name, number in list(_MONTHS.items())})
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))

_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_NUMERIC = re.compile(r"(?<![\d/.\-])(\d{1,2})\s?([-/.])\s?(\d{1,2})\s?\2\s?(\d{4}|\d{2})(?![\d/])")
_MONTH_FIRST = re.compile(
    rf"(?<![a-z])({_MONTH_ALT})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})(?!\d)", re.I
)
_DAY_FIRST = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?[\s\-/.]*({_MONTH_ALT})\.?[\s\-/.,]*(\d{{4}}|\d{{2}})(?!\d)",
    re.I,
)
_EARLIEST_YEAR = 1880
_SPACES_KEPT = re.compile(r"(\s+)")


def _fix_numeric_tokens(text: str) -> str:
    """Repair OCR letter-for-digit slips in tokens that look like numeric dates."""
    parts = _SPACES_KEPT.split(text)
    fixed_parts = []
    for part in parts:
        fixed = fix_digit_token(part, separators="-./") if part.strip() else None
        fixed_parts.append(fixed if fixed is not None and ("/" in part or "-" in part) else part)
    return "".join(fixed_parts)


def _full_year(year: int, month: int, day: int, today: dt.date | None, pivot: int) -> int:
    """Pick a century for a two-digit year: up to ``pivot`` this century, above it the last.

    A date that would then lie after ``today`` is taken a century earlier: a two-digit year
    on a page is never a date still to come (``28`` read in 2026 is 1928, whatever the pivot).
    """
    if year >= 100:
        return year
    century = (today.year // 100 * 100) if today is not None else 2000
    chosen = century + year if year <= pivot else century - 100 + year
    if today is not None:
        try:
            if dt.date(chosen, month, day) > today:
                chosen -= 100
        except ValueError:
            pass
    return chosen


def _make_date(
    year: int, month: int, day: int, today: dt.date | None, pivot: int
) -> dt.date | None:
    year = _full_year(year, month, day, today, pivot)
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None
    if value.year < _EARLIEST_YEAR or (today is not None and value > today):
        return None
    return value


def _numeric(match: re.Match[str], order: DateOrder) -> tuple[int, int, int]:
    first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    month, day = (first, second) if order == "mdy" else (second, first)
    if month > 12 >= day:
        # Only one reading is a real date, so the writer used the other convention.
        month, day = day, month
    return year, month, day


def find_dates(
    text: str, *, order: DateOrder = "mdy", today: dt.date | None = None, pivot: int = 30
) -> list[tuple[int, dt.date]]:
    """Find every date in ``text``.

    Args:
        text: OCR text, possibly with letters in place of digits (``O3/l4/1962``).
        order: how to read ambiguous numeric dates such as ``03/04/1962``.
        today: dates after this are discarded and two-digit years resolved against it.
        pivot: without ``today``, two-digit years up to this are 20xx, the rest 19xx.

    Returns:
        ``(position, date)`` pairs sorted by position in the text.
    """
    text = _fix_numeric_tokens(text)
    found: dict[int, dt.date] = {}
    taken: list[range] = []

    def add(match: re.Match[str], ymd: tuple[int, int, int]) -> None:
        if any(match.start() in span for span in taken):
            return
        value = _make_date(*ymd, today, pivot)
        if value is not None:
            found[match.start()] = value
            taken.append(range(match.start(), match.end()))

    for match in _ISO.finditer(text):
        add(match, (int(match.group(1)), int(match.group(2)), int(match.group(3))))
    for match in _NUMERIC.finditer(text):
        add(match, _numeric(match, order))
    for match in _MONTH_FIRST.finditer(text):
        month = _MONTHS[match.group(1).lower()]
        add(match, (int(match.group(3)), month, int(match.group(2))))
    for match in _DAY_FIRST.finditer(text):
        month = _MONTHS[match.group(2).lower()]
        add(match, (int(match.group(3)), month, int(match.group(1))))
    return sorted(found.items())


def parse_first_date(
    text: str, *, order: DateOrder = "mdy", today: dt.date | None = None, pivot: int = 30
) -> dt.date | None:
    """Return the first date in ``text`` (see :func:`find_dates`), or None."""
    dates = find_dates(text, order=order, today=today, pivot=pivot)
    return dates[0][1] if dates else None


def swapped_day_month(value: dt.date) -> dt.date | None:
    """The date with day and month exchanged, or None when that is not a different date."""
    if value.day > 12 or value.day == value.month:
        return None
    return dt.date(value.year, value.day, value.month)
