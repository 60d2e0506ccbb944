"""Invented clinical body text for each document type: sections, lab tables, impressions.

Nothing here identifies anyone. Bodies are lists of ``Line`` so that the renderer and the
text-layer writer carry exactly the same words.
"""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass
from datetime import date, timedelta

from synthetic import names
from synthetic.clinical_phrases import PHRASES, SECTIONS

WRAP_CHARS = 80  # fits the text column at 10.5 pt in DejaVu Sans or Serif


@dataclass(frozen=True)
class Line:
    """One drawn line: ``style`` is ``h`` (heading), ``p`` (prose), ``m`` (monospace) or ``b``."""

    style: str
    text: str


BLANK = Line("b", "")

# (test, units, low, high, decimals)
LAB_PANELS: dict[str, tuple[tuple[str, str, float, float, int], ...]] = {
    "COMPLETE BLOOD COUNT": (
        ("WBC", "10^3/uL", 4.0, 11.0, 1),
        ("RBC", "10^6/uL", 4.2, 5.9, 2),
        ("Hemoglobin", "g/dL", 12.0, 17.5, 1),
        ("Hematocrit", "%", 36.0, 52.0, 1),
        ("MCV", "fL", 80.0, 100.0, 0),
        ("Platelets", "10^3/uL", 150.0, 400.0, 0),
    ),
    "BASIC METABOLIC PANEL": (
        ("Sodium", "mmol/L", 135.0, 145.0, 0),
        ("Potassium", "mmol/L", 3.5, 5.1, 1),
        ("Chloride", "mmol/L", 98.0, 107.0, 0),
        ("Carbon dioxide", "mmol/L", 22.0, 29.0, 0),
        ("BUN", "mg/dL", 7.0, 20.0, 0),
        ("Creatinine", "mg/dL", 0.6, 1.3, 2),
        ("Glucose", "mg/dL", 70.0, 99.0, 0),
        ("Calcium", "mg/dL", 8.5, 10.5, 1),
    ),
    "LIPID PANEL": (
        ("Cholesterol, total", "mg/dL", 125.0, 200.0, 0),
        ("HDL cholesterol", "mg/dL", 40.0, 90.0, 0),
        ("LDL cholesterol", "mg/dL", 50.0, 130.0, 0),
        ("Triglycerides", "mg/dL", 40.0, 150.0, 0),
    ),
    "HEPATIC FUNCTION PANEL": (
        ("AST", "U/L", 10.0, 40.0, 0),
        ("ALT", "U/L", 7.0, 56.0, 0),
        ("Alkaline phosphatase", "U/L", 44.0, 147.0, 0),
        ("Bilirubin, total", "mg/dL", 0.1, 1.2, 1),
        ("Albumin", "g/dL", 3.5, 5.0, 1),
    ),
}


def service_date(rng: random.Random) -> date:
    """Return a plausible recent date of service."""
    return date(2023, 1, 2) + timedelta(days=rng.randrange(700))


def body_lines(doc_type: str, rng: random.Random, min_lines: int) -> list[Line]:
    """Return the body of a document of ``doc_type``, at least ``min_lines`` long.

    Args:
        doc_type: A document type key.
        rng: The content random generator.
        min_lines: Continue with addenda until the body is at least this long.

    Returns:
        The lines of the body, headings and prose wrapped to ``WRAP_CHARS``.
    """
    lines = _header_lines(doc_type, rng)
    if doc_type == "lab_report":
        lines += _lab_body(rng)
    else:
        lines += _sections(SECTIONS[doc_type], rng)
    while len(lines) < min_lines:
        lines += _sections(SECTIONS["addendum"], rng)
    lines += _signature(rng)
    return lines


def prose(text: str) -> list[Line]:
    """Wrap a paragraph into prose lines."""
    return [Line("p", t) for t in textwrap.wrap(text, WRAP_CHARS)]


def _header_lines(doc_type: str, rng: random.Random) -> list[Line]:
    when = service_date(rng).strftime("%m/%d/%Y")
    clinician = rng.choice(names.CLINICIANS)
    label = "Collected" if doc_type == "lab_report" else "Date of Service"
    role = "Ordering" if doc_type in ("lab_report", "radiology_report") else "Attending"
    return [Line("p", f"{label}: {when}    {role}: {clinician}"), BLANK]


def _sections(keys: tuple[str, ...], rng: random.Random) -> list[Line]:
    out: list[Line] = []
    for key in keys:
        sentences = PHRASES[key]
        count = min(len(sentences), rng.randint(2, 4))
        out.append(Line("h", key.upper().replace("_", " ") + ":"))
        out += prose(" ".join(rng.sample(sentences, count)))
        out.append(BLANK)
    return out


def _lab_body(rng: random.Random) -> list[Line]:
    panels = rng.sample(sorted(LAB_PANELS), rng.randint(2, 3))
    out: list[Line] = []
    for panel in panels:
        out.append(Line("h", panel))
        out.append(Line("m", f"{'TEST':<22}{'RESULT':>8}  {'FLAG':<5}{'UNITS':<10}REFERENCE"))
        out += [_lab_row(row, rng) for row in LAB_PANELS[panel]]
        out.append(BLANK)
    out.append(Line("h", "COMMENTS:"))
    out += prose(" ".join(rng.sample(PHRASES["lab_comment"], 2)))
    out.append(BLANK)
    return out


def _lab_row(row: tuple[str, str, float, float, int], rng: random.Random) -> Line:
    test, units, low, high, decimals = row
    span = high - low
    value = rng.uniform(low - 0.25 * span, high + 0.25 * span)
    if rng.random() < 0.6:  # most results are normal
        value = rng.uniform(low, high)
    value = max(value, 0.0)
    shown = f"{value:.{decimals}f}"
    value = float(shown)  # flag what is printed, not what was drawn
    flag = "H" if value > high else "L" if value < low else ""
    reference = f"{low:.{decimals}f}-{high:.{decimals}f}"
    return Line("m", f"{test:<22}{shown:>8}  {flag:<5}{units:<10}{reference}")


def _signature(rng: random.Random) -> list[Line]:
    who = rng.choice(names.CLINICIANS)
    signed = service_date(rng).strftime("%m/%d/%Y")
    return [Line("p", f"Electronically signed by {who} on {signed}")]
