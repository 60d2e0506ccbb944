"""The console script's entry point, kept tiny on purpose.

OCR workers are started with ``spawn``, which re-imports the program's main script in every
worker; a script that imported the whole CLI would cost each worker a second of start-up.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading

# Commands that read pages: their OCR workers start before the rest of the program imports.
READING_COMMANDS = frozenset({"ingest", "watch", "run"})


def main() -> None:
    """Run the chartclerk command line."""
    # Pydantic looks through every installed package for plugins as its first model is
    # made: 60-70 ms in this process and again in each OCR worker. chartclerk uses none;
    # a site that wants one sets PYDANTIC_DISABLE_PLUGINS itself (empty: all of them).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # The collector is off while the program imports (a tenth of its start went to passes
    # over objects that all live as long as the program), then what was imported is
    # frozen out of later passes.
    gc.disable()
    reading = bool(READING_COMMANDS.intersection(sys.argv[1:6]))
    if reading:
        from scanner.reading import ahead
        from scanner.reading.workers import start_workers_early

        # `ingest` names its files: the workers read the first ones while the rest loads.
        planned = ahead.plan(sys.argv[1:])
        warm = planned is None or planned.needs_tesseract
        if planned is not None and not warm:
            ahead.preload(planned)
        start_workers_early(warm=warm)
        ahead.start(planned)
    try:
        from clerk.cli import main as run

        gc.freeze()
        gc.enable()
        run()
    except SystemExit as done:
        code = done.code
    else:
        code = 0
    finally:
        if reading:
            # A command that ended before its pipeline took the reading ahead (a bad
            # setting, a refused role, Ctrl-C): its workers are stopped here, not left to
            # hold the exit.
            ahead.abandon()
    leave(code)


def leave(code: object) -> None:
    """Exit with ``code`` once every exit handler has run, without tearing down the heap.

    The command has closed its store, index and workers. What any exit does first is done
    here too, in the same order: waiting for the threads that are not daemons (and the
    pools' exit hooks), then the exit handlers (logging's flush, temporary folders). What
    is skipped is the interpreter freeing every module and object one by one: about 0.2 s
    that every command spent after its work was done.
    """
    threading._shutdown()  # type: ignore[attr-defined]  # what Python's own exit calls first
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: the descriptor was closed when Python started
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: the exit code still says what happened
            code = code or 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            print(code, file=sys.stderr, flush=True)
        code = 1
    os._exit(code)
