"""The OCR workers' one queue: every document's pages, most expensive first, one per worker.

Documents in flight share the workers. Their pages wait here, not in the process pool: the
pool is only ever handed as many jobs as it has workers, so

- a page's time counts from when a worker starts it, never while it waits behind a
  300-page scan;
- the queue is ordered by expected cost (jobs a document waits on alone first, then the
  biggest pages of those queued together), so a batch does not end with one core reading
  a big page alone;
- a page that hangs a worker (stuck in a decoder, where tesseract's own time limit cannot
  reach) ends only itself: its worker is ended, the page is given up, and the page that
  was running beside it is started again on a fresh worker;
- a page that kills its worker is run once more on its own, so that the page to blame is
  known; only it is given up.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("chartclerk.ocr")

# How often a waiting document (or a closing scheduler) looks for a worker stuck past its
# job's time limit.
CHECK_SECONDS = 1.0
# Beyond a page's own time limit (which the worker enforces on every tesseract pass),
# what rendering and decoding may take before its worker is taken for stuck.
GRACE_SECONDS = 60.0

URGENT = 0
"""Priority class of jobs a document waits on alone (planning its pages, a second look)."""
PAGE = 1
"""Priority class of page readings."""


class JobStuckError(Exception):
    """A job ran past its time limit in a worker and the worker was ended."""


class JobCrashedError(Exception):
    """A job killed its worker process, twice (the second time running alone)."""


@dataclass(order=True)
class _Task:
    order: tuple[int, float, int]  # (class, queued at less expected seconds, sequence)
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    limit: float = field(compare=False)
    result: Future[Any] = field(compare=False, default_factory=Future)
    started: float = field(compare=False, default=0.0)
    suspect: bool = field(compare=False, default=False)
    orphan: bool = field(compare=False, default=False)  # nobody waits for it (see drop)


class PageScheduler:
    """Runs jobs on a pool of worker processes, at most one per worker, by priority.

    Args:
        make_pool: starts a process pool of ``workers`` processes.
        workers: how many worker processes.
    """

    def __init__(self, make_pool: Callable[[int], ProcessPoolExecutor], workers: int) -> None:
        self._make_pool = make_pool
        self._workers = workers
        # Re-entrant: a job that is already done runs its callback at once, in submit.
        self._lock = threading.RLock()
        self._queue: list[_Task] = []
        self._running: dict[Future[Any], _Task] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._count = itertools.count()
        self._closed = False
        self._retired: list[ProcessPoolExecutor] = []
        self._refused = False  # the last pool refused a job (shut down, not broken)

    @property
    def workers(self) -> int:
        """How many jobs run at once."""
        return self._workers

    def pool(self) -> ProcessPoolExecutor:
        """The current process pool (started on first use)."""
        with self._lock:
            return self._current_pool()

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        priority: int = PAGE,
        cost: float = 0.0,
        limit: float = 600.0,
    ) -> Future[Any]:
        """Queue ``fn(*args)`` to run in a worker, by priority class, then expected end.

        Within a class, jobs go by when they were queued less their expected ``cost`` in
        seconds: of the pages of documents queued together the biggest go first (so a
        batch does not end on one big page), while a page queued long after others does
        not overtake them by more than it is expected to cost (none starves).

        ``limit`` is how long the job may run once a worker has started it; past that its
        future fails with :class:`JobStuckError` and its worker is ended.
        """
        task = _Task((priority, time.monotonic() - cost, next(self._count)), fn, args, limit)
        with self._lock:
            if self._closed:
                raise RuntimeError("the OCR workers are stopped")
            heapq.heappush(self._queue, task)
            self._dispatch()
        return task.result

    def cancel(self, futures: list[Future[Any]]) -> None:
        """Drop these jobs if they have not started (a document that gave up waiting)."""
        wanted = {id(f) for f in futures}
        with self._lock:
            kept = [t for t in self._queue if id(t.result) not in wanted]
            if len(kept) != len(self._queue):
                for task in self._queue:
                    if id(task.result) in wanted:
                        task.result.cancel()
                self._queue = kept
                heapq.heapify(self._queue)

    def check_overdue(self) -> None:
        """End the workers of jobs running past their limit; called by waiting documents."""
        now = time.monotonic()
        with self._lock:
            overdue = [t for t in self._running.values() if now - t.started > t.limit]
            if not overdue:
                return
            for task in overdue:
                log.warning("a page ran %.0f s past its time limit; ending its worker", task.limit)
                task.result.set_exception(JobStuckError("the page did not finish in time"))
            self._recycle(blamed=overdue)
            self._dispatch()

    def drop(self, futures: list[Future[Any]]) -> None:
        """Say nobody will wait for these jobs (a file read ahead, never taken).

        Those queued are cancelled; those running are ended at :meth:`close` rather than
        waited for.
        """
        wanted = {id(f) for f in futures}
        with self._lock:
            self.cancel(futures)
            for task in self._running.values():
                if id(task.result) in wanted:
                    task.orphan = True

    def close(self) -> None:
        """Stop the workers; queued jobs are cancelled.

        Jobs running that somebody waits for are waited for, their time limits enforced; a
        dropped job's worker is ended rather than waited for, as a decoder stuck in it
        would hold the stop for good.
        """
        with self._lock:
            self._closed = True
        while True:
            with self._lock:
                for task in self._queue:
                    task.result.cancel()
                self._queue.clear()
                waited = [t.result for t in self._running.values() if not t.orphan]
            if not waited:
                break
            wait(waited, timeout=CHECK_SECONDS)
            self.check_overdue()
        with self._lock:
            pool, self._pool = self._pool, None
            orphans = list(self._running.values())
            self._running.clear()
            for task in orphans:
                if not task.result.done():
                    task.result.set_exception(JobStuckError("the OCR workers were stopped"))
        if pool is not None:
            if orphans:
                _end(pool, wait_gone=True)
            pool.shutdown(wait=True, cancel_futures=True)
        for old in self._retired:
            old.shutdown(wait=True)

    # -- under the lock -------------------------------------------------------------

    def _current_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = self._make_pool(self._workers)
        return self._pool

    def _dispatch(self) -> None:
        while self._queue and not self._closed:
            alone = any(t.suspect for t in self._running.values())
            if alone or len(self._running) >= self._workers:
                return
            if self._queue[0].suspect and self._running:
                return  # a suspect runs alone, so that a second crash names it
            task = heapq.heappop(self._queue)
            if task.result.cancelled():
                continue
            try:
                future = self._current_pool().submit(task.fn, *task.args)
            except (BrokenProcessPool, RuntimeError) as exc:
                heapq.heappush(self._queue, task)
                if isinstance(exc, RuntimeError) and self._refused:
                    # A new pool refuses too: the interpreter is shutting down. Nothing
                    # queued can run any more; retrying would loop for good.
                    self._give_up_queue()
                    return
                # The pool broke while idle (a worker killed from outside): start anew.
                self._refused = isinstance(exc, RuntimeError)
                self._recycle(blamed=[])
                continue
            self._refused = False
            task.started = time.monotonic()
            self._running[future] = task
            future.add_done_callback(self._finished)

    def _give_up_queue(self) -> None:
        self._closed = True
        for queued in self._queue:
            queued.result.cancel()
        self._queue.clear()

    def _recycle(self, blamed: list[_Task]) -> None:
        """Replace the pool; jobs that were running beside the blamed ones start again."""
        pool, self._pool = self._pool, None
        for future, task in list(self._running.items()):
            del self._running[future]
            if task not in blamed and not task.result.done():
                heapq.heappush(self._queue, task)
        if pool is not None:
            _end(pool)
            # Kept to be joined at close; only the last few, however long the daemon runs.
            self._retired = [*self._retired[-3:], pool]

    def _finished(self, future: Future[Any]) -> None:
        with self._lock:
            task = self._running.pop(future, None)
            if task is None:
                return  # from a pool already retired; its job was queued again
            exc = future.exception() if not future.cancelled() else None
            if isinstance(exc, BrokenProcessPool):
                self._crashed(task)
            elif not task.result.done():
                if exc is not None:
                    task.result.set_exception(exc)
                else:
                    task.result.set_result(future.result())
            self._dispatch()

    def _crashed(self, task: _Task) -> None:
        # Every job running on the broken pool is a suspect; each runs again alone, and one
        # that kills its worker running alone is the one to blame.
        if task.suspect:
            log.warning("a page killed its OCR worker twice; giving it up")
            task.result.set_exception(JobCrashedError("the page crashed the reader"))
            self._recycle(blamed=[task])
            return
        suspects = [task, *self._running.values()]
        for suspect in suspects:
            suspect.suspect = True
        self._recycle(blamed=[])
        task.suspect = True
        heapq.heappush(self._queue, task)


def _end(pool: ProcessPoolExecutor, *, wait_gone: bool = False) -> None:
    # Workers ignore SIGTERM (a stop is the daemon's to handle) and a stuck one ignores
    # shutdown; kill each with its process group (its tesseract too), or it holds a core
    # for good. The executor keeps its processes in a private map; there is no public way.
    processes = list((pool._processes or {}).values())  # noqa: SLF001
    for process in processes:
        if process.pid is None:
            continue
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    if wait_gone:
        # Until each is reaped its pid is taken, and what it left (scanner.reading.ahead's
        # copies, by pid) cannot be told from a live worker's.
        for process in processes:
            process.join(timeout=10)
