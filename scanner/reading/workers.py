"""The OCR worker processes: started first, warmed up while the rest of the program loads.

Kept apart from :mod:`scanner.ocr` on purpose: ``chartclerk ingest`` starts its workers
before importing anything heavy, and a spawned worker unpickles its initializer by module,
so this module imports only the standard library. The reading code is imported in each
worker by :func:`_init_worker`, in parallel with the ingest process's own start.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

# How long after it starts a worker loads the identifying code (see _init_worker).
IMPORT_DELAY_SECONDS = 1.0


def _init_worker(turns: _Turns | None = None, warm: bool = True) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # Forked from a console script that keeps the collector off while it imports.
    gc.enable()
    # Registered first, so it runs last: once the worker's own exit handlers have run (a
    # PDF closed), it leaves without tearing down every module and object one by one,
    # which took a tenth of a second that every `chartclerk ingest` waited for at its end.
    atexit.register(_leave_now)
    # What a worker writes (a copy read ahead, a page image for the tesseract program) is
    # private whatever umask it was started under: the first workers are forked before the
    # command sets its own.
    os.umask(0o077)
    # A stop is the daemon's to handle: it finishes the files in hand, which needs these
    # workers. Their own process group keeps a terminal's Ctrl-C from reaching them (and
    # their tesseract children); SIGTERM sent to the whole group is ignored.
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # If the daemon is killed outright (SIGKILL, OOM), nothing tells its idle workers;
    # without this they would wait forever, two more after every crash.
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    # What every page needs, loaded now: the worker is otherwise idle while the ingest
    # process imports and opens its store. A failure here must not break the pool; the
    # first page's reading reports it. Tesseract's model first: a page read ahead
    # (scanner.reading.ahead) goes to tesseract as soon as it is loaded. The identifying
    # code, wanted only once a page is read, loads a moment later: loaded at once it would
    # hold the interpreter lock against that first page's way to tesseract. (A job that
    # needs it sooner imports it itself.)
    # Not for a batch of text-layer PDFs (``warm`` False): they never need it.
    if warm:
        if turns is not None:
            turns.wait_for_first()
        with contextlib.suppress(Exception):
            from scanner import ocr

            ocr.warm_up()
    if turns is not None:
        turns.warm()
    if "scanner.identifying.identifiers" not in sys.modules:  # not shared from the fork
        later = threading.Timer(IMPORT_DELAY_SECONDS, _import_the_rest)
        later.daemon = True
        later.start()


def _import_the_rest() -> None:
    with contextlib.suppress(Exception):
        from scanner.identifying import identifiers  # noqa: F401 - pages are identified here
        from scanner.reading import document  # noqa: F401 - the jobs' functions


class _Turns:
    """Which of the first workers warms up first, when they outnumber the free cores.

    The ingest process is busy importing on one core as the first workers start. Where
    they would share the others with it (two workers, two cores), the first warms up
    alone and the others wait for it (at most half a second): the first page reaches
    tesseract sooner, and the cores are no less busy meanwhile.
    """

    WAIT_SECONDS = 0.5

    def __init__(self, method: str, free_cores: int) -> None:
        """Turns for workers started with ``method``; ``free_cores`` may warm at once."""
        context = get_context(method)
        self._count = context.Value("i", 0)
        self._first_warm = context.Event()
        self._free_cores = free_cores

    def wait_for_first(self) -> None:
        """In a worker: take a turn; wait for the first to be warm if there is no free core."""
        with self._count.get_lock():
            turn = self._count.value
            self._count.value += 1
        if turn > 0 and turn >= self._free_cores:
            self._first_warm.wait(self.WAIT_SECONDS)

    def warm(self) -> None:
        """In a worker: say it is warm (the first's says so to those waiting)."""
        self._first_warm.set()


def _leave_now() -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def worker_count(workers: int) -> int:
    """How many OCR worker processes ``ocr.workers`` means (0: one per core)."""
    return workers or os.cpu_count() or 1


# Workers started by start_workers_early, waiting for the first make_pool to claim them.
_early: tuple[int, ProcessPoolExecutor] | None = None


def start_workers_early(workers: int = 0, warm: bool = True) -> None:
    """Start OCR workers now, to be claimed by the first :func:`make_pool` of that size.

    With ``warm`` False they do not load tesseract's model as they start (a batch of
    text-layer PDFs); a page that needs it loads it.

    ``chartclerk ingest`` and ``watch`` call this before importing the rest of the
    program: the workers' own start then overlaps the main process's imports and set-up
    instead of following them.

    These first workers are forked, not spawned, when nothing but this thread runs yet (as
    at the console script's start): a fork is ready at once, where a spawned Python took
    0.2-0.45 s to reach its first line. Forking is unsafe only once other threads may hold
    locks, so every later pool is spawned.
    """
    global _early
    count = worker_count(workers)
    alone = threading.active_count() == 1
    method = "fork" if alone else "spawn"
    free_cores = max((os.cpu_count() or 1) - 1, 1)
    pool = _new_pool(count, method, _Turns(method, free_cores), warm)
    for _ in range(count):
        pool.submit(os.getpid)  # each submit starts one worker
    _early = (count, pool)


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of OCR worker processes (``workers`` 0 means one per core)."""
    global _early
    count = worker_count(workers)
    if _early is not None:
        early, _early = _early, None
        if early[0] == count:
            return early[1]
        early[1].shutdown(wait=False, cancel_futures=True)
    return _new_pool(count)


def _new_pool(
    count: int, method: str = "spawn", turns: _Turns | None = None, warm: bool = True
) -> ProcessPoolExecutor:
    # spawn, not fork, but for the first workers of a process that has no other thread
    # yet: the daemon has observer and ingest threads, and forking a threaded process can
    # copy a held lock into the child.
    return ProcessPoolExecutor(
        count,
        mp_context=get_context(method),
        initializer=_init_worker,
        initargs=(turns, warm) if turns is not None else (),
    )
