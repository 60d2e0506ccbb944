"""The console script's entry point, kept tiny on purpose.

OCR workers are started with ``spawn``, which re-imports the program's main script in every
worker; a script that imported the whole CLI would cost each worker a second of start-up.
"""

from __future__ import annotations

import sys

# Commands that read pages: their OCR workers start before the rest of the program imports.
READING_COMMANDS = frozenset({"ingest", "watch", "run"})


def main() -> None:
    """Run the chartclerk command line."""
    reading = bool(READING_COMMANDS.intersection(sys.argv[1:6]))
    if reading:
        from scanner.reading import ahead
        from scanner.reading.workers import start_workers_early

        start_workers_early()
        # `ingest` names its files: the workers read the first ones while the rest loads.
        ahead.start(sys.argv[1:])
    try:
        from clerk.cli import main as run

        run()
    finally:
        if reading:
            # A command that ended before its pipeline took the reading ahead (a bad
            # setting, a refused role, Ctrl-C): its workers are stopped here, not left to
            # hold the exit.
            ahead.abandon()
