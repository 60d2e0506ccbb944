"""Printing results: JSON for scripts, rich tables for people."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


@functools.cache
def console() -> Console:
    """The terminal's console; rich is loaded only by commands that print for people.

    (A tenth of a second at start: ``chartclerk ingest --json`` and scripts never need it.)
    """
    from rich.console import Console

    return Console()


def print_json(data: Any) -> None:
    """Print JSON on stdout, nothing else, so scripts can parse it."""
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table for a person at a terminal."""
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(table)
