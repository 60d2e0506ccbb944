"""A function's results kept by argument, for the identifying code's repeated looks."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Results kept before they are all let go (OCR text makes up new lines without end).
KEPT = 4096


class Kept(dict[K, V]):
    """``make(key)`` for each key looked up, worked out on first sight, up to KEPT of them.

    One look-up a hit, safe across threads under the interpreter lock: another thread
    emptying the dict costs a result worked out again, never a wrong one. ``make`` must
    depend on its argument alone, and its results must not be changed by callers.
    """

    def __init__(self, make: Callable[[K], V]) -> None:
        """Results of ``make``."""
        super().__init__()
        self._make = make

    def __missing__(self, key: K) -> V:
        if len(self) > KEPT:
            self.clear()
        value = self[key] = self._make(key)
        return value
