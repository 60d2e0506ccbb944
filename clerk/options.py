"""Checked values of command-line options shared by several commands.

A status or document type that is not one of the known values is a usage error naming the
allowed ones: a typo must not look like an empty result.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import typer

from clerk.app import App
from records.store import STATUSES


def check_choice(value: str | None, allowed: Iterable[str], option: str) -> str | None:
    """``value`` when it is one of ``allowed`` (or None); a usage error naming them if not."""
    choices = sorted(allowed)
    if value is not None and value not in choices:
        raise typer.BadParameter(
            f"{value!r} is not one of: {', '.join(choices)}", param_hint=option
        )
    return value


def document_types(app: App) -> set[str]:
    """The document types the configured classifier can give, ``other`` included."""
    return {*app.settings.filing.classify.keywords, "other"}


def check_status(value: str | None) -> str | None:
    """A ``--status`` value checked against the document statuses."""
    return check_choice(value, STATUSES, "--status")


def parse_since(value: str | None) -> datetime | None:
    """``--since``: ``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 time (no offset = UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            "expected YYYY-MM-DD or an ISO 8601 time such as 2026-11-29T08:00+01:00",
            param_hint="--since",
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_day(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option value, or None; a bad one is a usage error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{option}: expected YYYY-MM-DD, got {value!r}") from exc
