"""The inbox watcher: notices files, waits until they are whole, hands them to the pipeline.

The watchdog observer thread only notes paths; a catch-up scan at start and every few
minutes finds what events missed (files dropped while the daemon was down, network shares
that send no events). Files are processed on a small pool of threads, never on the
observer's thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from chartclerk_errors import ChartclerkError, ConfigError, NotReadyError, error_origin
from scanner.dropped.claim import FileInUseError
from scanner.dropped.stability import StabilityTracker, files_in, is_ignored
from scanner.settings import WatchSettings

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

log = logging.getLogger("chartclerk.watch")
TICK_SECONDS = 0.25
INBOX_CHECK_SECONDS = 2.0
# A file whose handling failed unexpectedly (database locked, disk full) is tried again after
# this long, doubling on each further failure up to RETRY_MAX_SECONDS.
RETRY_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0


def inbox_missing_message(root: Path) -> str:
    """One line for an inbox folder that is not there."""
    return f"inbox {root} does not exist (is the share mounted?); create it or fix inbox.path"


def inbox_problem(settings: WatchSettings) -> str | None:
    """Why the inbox cannot be watched (gone, or a share's mount point left unmounted); None: ok."""
    root = settings.path
    if not root.is_dir():
        return inbox_missing_message(root)
    if settings.require_mount and not os.path.ismount(root):
        return f"inbox {root} is not a mount point (the share is not mounted)"
    return None


class _Notifier(FileSystemEventHandler):
    def __init__(self, watcher: InboxWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            if event.event_type in ("created", "moved", "deleted"):
                # A whole folder dropped (or renamed into place) at once; or a folder gone,
                # perhaps the inbox itself (a share unmounted).
                self.watcher.request_scan()
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher.notice(Path(os.fsdecode(raw)))


class InboxWatcher:
    """Watches one inbox folder and runs ``handle`` on each file once it is stable."""

    def __init__(
        self,
        settings: WatchSettings,
        handle: Callable[[Path], object],
        workers: int,
        periodic: Sequence[tuple[float, Callable[[InboxWatcher], object]]] = (),
        on_missing: Callable[[str | None], object] | None = None,
    ) -> None:
        """Set up a watcher.

        Args:
            settings: the inbox section of the configuration.
            handle: runs one stable file through the pipeline (on an ingest thread).
            workers: how many files are handled at once.
            periodic: (interval in seconds, task) pairs run on the watcher's own thread,
                such as the heartbeat and the retry of deferred index writes.
            on_missing: told at each scan whether the inbox folder is gone (a message) or
                there (None).
        """
        self.on_missing = on_missing
        self._missing = False
        self._rewatch = threading.Event()
        self.settings = settings
        self.root = settings.path
        self.handle = handle
        self.tracker = StabilityTracker(settings.effective_stable_seconds)
        self.workers = workers
        self.periodic = list(periodic)
        self.in_flight: dict[Path, Future[object]] = {}
        self._scan_requested = threading.Event()
        self._failures: dict[Path, int] = {}

    def notice(self, path: Path) -> None:
        """Note a path that may be a new or changed file (called from the observer thread)."""
        if not is_ignored(path, self.root, self.settings.ignore_patterns):
            self.tracker.observe(path)

    def request_scan(self) -> None:
        """Ask for a catch-up scan at the next tick."""
        self._scan_requested.set()

    def scan(self) -> int:
        """Walk the inbox (links are listed, never followed); returns how many files it saw."""
        if not self.check_inbox():
            return 0
        seen = 0
        for path in files_in(self.root, self.settings.ignore_patterns):
            self.tracker.observe(path)
            seen += 1
        self.tracker.forget_gone()
        self._failures = {p: n for p, n in self._failures.items() if p.exists()}
        return seen

    def _observer(self) -> BaseObserver:
        # Imported here: every command imports this module, only the daemon watches.
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        if self.settings.polling:
            return PollingObserver(timeout=self.settings.poll_interval_seconds)
        return Observer()

    def check_inbox(self) -> bool:
        """True when the inbox folder is there; tells ``on_missing`` when that changes.

        A share that is not mounted leaves an empty mount point or nothing: either way the
        daemon must say so, not watch an empty local folder for months.
        """
        problem = inbox_problem(self.settings)
        present = problem is None
        if present and self._missing:
            # Back (the share remounted): its events come from a new watch on the folder.
            self._rewatch.set()
            self.request_scan()
        self._missing = not present
        if self.on_missing is not None:
            self.on_missing(problem)
        return present

    def run(self, stop: threading.Event) -> None:
        """Catch up, then watch until ``stop`` is set; finishes the files in hand before return.

        Raises:
            ConfigError: the inbox folder does not exist (it is never created here).
        """
        problem = inbox_problem(self.settings)
        if problem is not None:
            raise ConfigError(problem)
        observer = self._observer()
        observer.schedule(_Notifier(self), str(self.root), recursive=True)
        observer.start()
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ingest")
        try:
            self._loop(stop, pool, observer)
        finally:
            observer.stop()
            pool.shutdown(wait=True)
            observer.join()
            log.info("watcher stopped")

    def _watch_again(self, observer: BaseObserver) -> None:
        self._rewatch.clear()
        try:
            observer.unschedule_all()
            observer.schedule(_Notifier(self), str(self.root), recursive=True)
        except OSError as exc:
            log.error("could not watch the inbox again: %s", exc.strerror)

    def _loop(
        self, stop: threading.Event, pool: ThreadPoolExecutor, observer: BaseObserver
    ) -> None:
        log.info("catch-up scan found %d file(s) in the inbox", self.scan())
        next_scan = time.monotonic() + self.settings.catchup_interval_seconds
        next_runs = [time.monotonic() + interval for interval, _ in self.periodic]
        next_check = time.monotonic() + INBOX_CHECK_SECONDS
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_check:
                # A share can go away without an event; a stat now and then notices.
                self.check_inbox()
                next_check = now + INBOX_CHECK_SECONDS
            if now >= next_scan or self._scan_requested.is_set():
                self._scan_requested.clear()
                self.scan()
                # While the inbox is gone, look for its return often.
                interval = self.settings.catchup_interval_seconds
                next_scan = now + (min(interval, 5.0) if self._missing else interval)
            if self._rewatch.is_set():
                self._watch_again(observer)
            for i, (interval, task) in enumerate(self.periodic):
                if now >= next_runs[i]:
                    self._run_task(task)
                    next_runs[i] = now + interval
            self._dispatch(pool)
            stop.wait(TICK_SECONDS)

    def _run_task(self, task: Callable[[InboxWatcher], object]) -> None:
        try:
            task(self)
        except Exception as exc:  # noqa: BLE001 - a failed heartbeat must not stop the daemon
            log.error("periodic task failed: %s", error_origin(exc))

    def _retry(self, path: Path, error: BaseException) -> None:
        """Offer a file whose handling failed again later; it is back in the inbox.

        The pipeline raises only the world's failures (a file's own bytes end in review or
        quarantine), so this is a wait for the store, the disk or tesseract, not a loop on
        a file's content. A file its writer still holds is simply looked at again.
        """
        if isinstance(error, FileInUseError):
            self.tracker.retry_later(
                path, max(self.settings.effective_stable_seconds, RETRY_SECONDS)
            )
            return
        failures = self._failures.get(path, 0) + 1
        self._failures[path] = failures
        delay = min(RETRY_SECONDS * 2 ** (failures - 1), RETRY_MAX_SECONDS)
        if isinstance(error, NotReadyError):
            log.warning("file waits: %s (%s); retrying in %.0f s", error.kind, error, delay)
        else:
            log.error(
                "ingest failed unexpectedly (%s: %s); retrying in %.0f s",
                error_origin(error),
                error if isinstance(error, ChartclerkError) else "no message: may hold PHI",
                delay,
            )
        self.tracker.retry_later(path, delay)

    def _dispatch(self, pool: ThreadPoolExecutor) -> None:
        for path, future in list(self.in_flight.items()):
            if future.done():
                del self.in_flight[path]
                error = future.exception()
                if error is None:
                    self._failures.pop(path, None)
                    continue
                self._retry(path, error)
        # Hand out only as many files as there are threads, so a stop leaves the rest
        # untouched in the inbox.
        room = self.workers - len(self.in_flight)
        if room <= 0:
            return
        for path in self.tracker.take_ready():
            if path in self.in_flight or room <= 0:
                self.tracker.give_back(path)
                continue
            self.in_flight[path] = pool.submit(self.handle, path)
            room -= 1
