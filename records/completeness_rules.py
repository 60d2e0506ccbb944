"""Chart completeness rules (the ``completeness:`` section of config.yaml), typed and checked.

A rule says which document an encounter of some classes must hold, inside which window,
who answers for it and when it is due. Times are written relative to the encounter:
``admit``, ``discharge``, ``procedure_start`` or ``procedure_end``, optionally ``+``/``-``
a number of days (``d``) or hours (``h``): ``admit - 30d``, ``procedure_end + 24h``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Anchor = Literal["admit", "discharge", "procedure_start", "procedure_end"]
DocumentCheck = Literal["missing_signature", "missing_datetime"]
_POINT = re.compile(
    r"\s*(admit|discharge|procedure_start|procedure_end)\s*(?:([+-])\s*(\d+(?:\.\d+)?)\s*([dh]))?\s*"
)


class TimePoint(BaseModel):
    """A moment relative to an encounter, parsed from ``anchor [+|- N d|h]``."""

    model_config = ConfigDict(frozen=True)

    anchor: Anchor
    offset: timedelta = timedelta(0)

    @classmethod
    def parse(cls, text: str) -> TimePoint:
        """Read ``admit - 30d`` and the like.

        Raises:
            ValueError: the text is not an anchor with an optional day/hour offset.
        """
        match = _POINT.fullmatch(text)
        if not match:
            raise ValueError(
                "expected admit, discharge, procedure_start or procedure_end, "
                "optionally + or - a number of days (d) or hours (h), e.g. 'admit - 30d'"
            )
        anchor, sign, amount, unit = match.groups()
        offset = timedelta(0)
        if amount:
            size = float(amount)
            offset = timedelta(days=size) if unit == "d" else timedelta(hours=size)
            offset = -offset if sign == "-" else offset
        return cls.model_validate({"anchor": anchor, "offset": offset})

    def at(self, times: dict[str, datetime | None]) -> datetime | None:
        """The moment for an encounter whose anchors are ``times``; None when unknown."""
        base = times.get(self.anchor)
        return None if base is None else base + self.offset


class DocumentRule(BaseModel):
    """One required document for encounters of some classes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    classes: list[str] = Field(min_length=1)
    doc_type: str
    accepts: list[str] = Field(default_factory=list)
    window_from: TimePoint
    window_to: TimePoint
    due: TimePoint
    responsible: Literal["attending", "surgeon", "author"] = "attending"
    min_stay_hours: float = Field(default=0.0, ge=0)
    delinquent_after_days: int | None = Field(default=None, ge=0)

    @field_validator("window_from", "window_to", "due", mode="before")
    @classmethod
    def _point(cls, value: object) -> object:
        return TimePoint.parse(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _accepts_own_type(self) -> DocumentRule:
        if not self.accepts:
            self.accepts = [self.doc_type]
        return self

    @property
    def anchors(self) -> set[str]:
        """The encounter times this rule needs to be known before it applies."""
        return {self.window_from.anchor, self.window_to.anchor, self.due.anchor}


class LetterSettings(BaseModel):
    """Levels of the request letters, by days since discharge."""

    model_config = ConfigDict(extra="forbid")

    warning_days: int = Field(default=15, ge=0)
    final_days: int = Field(default=22, ge=0)


def _default_rules() -> list[DocumentRule]:
    every_class = ["inpatient", "outpatient", "emergency", "obstetrics", "surgery", "day_surgery"]
    data = [
        {
            "name": "inpatient_history_physical",
            "classes": ["inpatient", "obstetrics"],
            "doc_type": "history_physical",
            "window_from": "admit - 30d",
            "window_to": "admit + 24h",
            "due": "admit + 24h",
        },
        {
            "name": "inpatient_discharge_summary",
            "classes": ["inpatient", "obstetrics"],
            "doc_type": "discharge_summary",
            "window_from": "admit",
            "window_to": "discharge + 30d",
            "due": "discharge + 14d",
            "min_stay_hours": 48,
        },
        {
            "name": "surgery_consent",
            "classes": every_class,
            "doc_type": "consent",
            "window_from": "admit - 30d",
            "window_to": "procedure_start",
            "due": "procedure_start",
            "responsible": "surgeon",
        },
        {
            "name": "surgery_operative_report",
            "classes": every_class,
            "doc_type": "operative_report",
            "window_from": "procedure_start",
            "window_to": "procedure_end + 24h",
            "due": "procedure_end + 24h",
            "responsible": "surgeon",
        },
    ]
    return [DocumentRule.model_validate(rule) for rule in data]


def _default_checks() -> list[DocumentCheck]:
    return ["missing_signature", "missing_datetime"]


class CompletenessSettings(BaseModel):
    """What a complete chart holds, per encounter class, and when it is late."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(default="2026.1", min_length=1, max_length=32)
    delinquent_after_days: int = Field(default=30, ge=0)
    analyze_every_hours: float = Field(default=24.0, gt=0)
    rate_months: int = Field(default=3, ge=1)
    document_checks: list[DocumentCheck] = Field(default_factory=_default_checks)
    letters: LetterSettings = Field(default_factory=LetterSettings)
    rules: list[DocumentRule] = Field(default_factory=_default_rules)

    @model_validator(mode="after")
    def _unique_names(self) -> CompletenessSettings:
        names = [rule.name for rule in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique")
        return self
