"""The console script's entry point, kept tiny on purpose.

OCR workers are started with ``spawn``, which re-imports the program's main script in every
worker; a script that imported the whole CLI would cost each worker a second of start-up.
"""

from __future__ import annotations


def main() -> None:
    """Run the chartclerk command line."""
    from clerk.cli import main as run

    run()
