"""The crash harness: `chartclerk watch` fed a stream of scans and SIGKILLed at random moments.

One implementation, used by ``benchmarks/crash_harness.py`` (the long soak and the disk-full
and locked-database scenarios) and by ``tests/test_crash.py`` (a short form in ``make test``).

After the storm the daemon is let drain and stopped with SIGTERM, and the invariants of
DESIGN.md are checked: every input is still in the inbox or exactly one document (matched by
the sha256 of its bytes), every archived original matches its hash, the database passes
``PRAGMA integrity_check``, and the search index holds exactly the store's documents.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from clerk.config import Settings, load_config
from index import SearchIndex
from records.store import Store
from scanner.dropped.claim import PROCESSING
from scanner.dropped.stability import is_ignored
from synthetic import DocumentSpec, generate_patients, write_document, write_registry_csv
from synthetic.spec import DOC_TYPES

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from clerk.cli import main; main()"]
STABLE_SECONDS = 0.5
KINDS_EXT = {"pdf_text": ".pdf", "pdf_image": ".pdf", "png": ".png"}


@dataclass(frozen=True)
class Workspace:
    """A folder with its own config, inbox, data folder, staged inputs and daemon log."""

    root: Path
    config: Path
    inbox: Path
    data: Path
    stage: Path
    log: Path

    def settings(self) -> Settings:
        """The configuration the daemon runs with."""
        return load_config(self.config)


def make_workspace(root: Path, data: Path | None = None, extra: str = "") -> Workspace:
    """A config for a fast daemon: short stability wait, one OCR worker, frequent retries."""
    root.mkdir(parents=True, exist_ok=True)
    data = data or root / "var"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    for old, new in (
        ("data_dir: var ", f"data_dir: {data} "),
        ("stable_seconds: 2 ", f"stable_seconds: {STABLE_SECONDS} "),
        ("workers: 0 ", "workers: 1 "),
        ("catchup_interval_seconds: 300 ", "catchup_interval_seconds: 5 "),
        ("heartbeat_seconds: 300 ", "heartbeat_seconds: 10 "),
        ("index_retry_seconds: 60 ", "index_retry_seconds: 2 "),
    ):
        assert old in text, old
        text = text.replace(old, new)
    config = root / "config.yaml"
    config.write_text(text + extra, encoding="utf-8")
    ws = Workspace(root, config, root / "inbox", data, root / "stage", root / "daemon.log")
    ws.inbox.mkdir(exist_ok=True)
    ws.stage.mkdir(exist_ok=True)
    return ws


def cli(ws: Workspace, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one ``chartclerk`` command on the workspace's config."""
    return subprocess.run(
        [*CLI, "--config", str(ws.config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ws.root,
        env=_env(),
    )


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(ROOT)}


# -- inputs ------------------------------------------------------------------------------------


def generate_inputs(ws: Workspace, n: int, seed: int, image_every: int = 8) -> list[Path]:
    """Write ``n`` distinct small scans into the stage folder and register their patients.

    Mostly text PDFs (fast); every ``image_every``-th is a PNG or an image-only PDF, and every
    13th is junk that must be quarantined. Returns the staged files in drop order.
    """
    people = generate_patients(max(30, n), seed=seed)
    write_registry_csv(people, ws.root / "registry.csv")
    rng = random.Random(seed)
    files: list[Path] = []
    for i in range(n):
        if i % 13 == 12:
            junk = ws.stage / f"junk-{i:04d}.pdf"
            junk.write_bytes(b"not a scan " + rng.randbytes(2000))
            files.append(junk)
            continue
        kind = "pdf_text"
        if image_every and i % image_every == image_every - 1:
            kind = "png" if (i // image_every) % 2 == 0 else "pdf_image"
        spec = DocumentSpec(
            patient=people[i % len(people)],
            doc_type=DOC_TYPES[i % len(DOC_TYPES)],
            content_seed=seed * 1000 + i,
        )
        files.append(
            write_document(spec, seed + i, ws.stage, kind, name=f"scan-{i:04d}{KINDS_EXT[kind]}")
        )
    return files


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Drop:
    """One file put into the inbox: its name there, its hash, and how it was written."""

    name: str
    sha256: str
    method: str


def drop_file(source: Path, inbox: Path, name: str, method: str) -> None:
    """Put ``source`` into the inbox as ``name``: via a dot-temp and rename, or written slowly."""
    data = source.read_bytes()
    target = inbox / name
    if method == "slow":
        # A scanner writing over the network: several writes, each well inside the
        # stability wait, so the file is never still long enough to be taken half-done.
        with target.open("wb") as out:
            step = max(1, len(data) // 4)
            for start in range(0, len(data), step):
                out.write(data[start : start + step])
                out.flush()
                time.sleep(STABLE_SECONDS / 5)
        return
    temp = inbox / f".{name}.tmp"
    with temp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    temp.rename(target)


class Feeder(threading.Thread):
    """Drops the staged files into the inbox over time, some twice under another name."""

    def __init__(self, ws: Workspace, sources: list[Path], seed: int, gap: float) -> None:
        super().__init__(name="feeder", daemon=True)
        self.ws = ws
        self.sources = sources
        self.rng = random.Random(seed)
        self.gap = gap
        self.drops: list[Drop] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for i, source in enumerate(self.sources):
                method = self.rng.choices(["rename", "slow"], weights=[2, 1])[0]
                self._drop(source, source.name, method)
                if i % 7 == 3:
                    # The same bytes again under another name: one document and a duplicate.
                    self._drop(source, f"again-{source.name}", "rename")
                # Bursts of a few files, then a pause: kills land on a busy daemon too.
                if self.rng.random() < 0.3:
                    time.sleep(self.rng.uniform(0, 4 * self.gap))
        except BaseException as exc:  # noqa: BLE001 - reported by the harness
            self.error = exc

    def _drop(self, source: Path, name: str, method: str) -> None:
        self.drops.append(Drop(name, sha256_file(source), method))
        drop_file(source, self.ws.inbox, name, method)


# -- the daemon --------------------------------------------------------------------------------


class Daemon:
    """``chartclerk watch`` in its own process group (so a kill takes its OCR workers too)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        with ws.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*CLI, "--config", str(ws.config), "watch"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=ws.root,
                env=_env(),
                start_new_session=True,
            )

    def alive(self) -> bool:
        """True while the daemon has not exited."""
        return self.proc.poll() is None

    def kill(self) -> int | None:
        """SIGKILL the daemon and everything it started; returns its code if it had exited."""
        code = self.proc.poll()
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return code

    def terminate(self, timeout: float = 120) -> int:
        """SIGTERM: the daemon finishes the files in hand and exits; returns its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return -999
        # Its OCR workers leave with it; anything left in the group is reaped now.
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return code


@contextmanager
def running(ws: Workspace) -> Iterator[Daemon]:
    """A daemon that is always gone when the block is left (SIGKILL if still running)."""
    daemon = Daemon(ws)
    try:
        yield daemon
    finally:
        # Also reaps the OCR workers of a daemon that exited on its own.
        daemon.kill()


def inbox_files(ws: Workspace) -> list[Path]:
    """Files in the inbox that the daemon would take (not hidden or temporary)."""
    patterns = ws.settings().inbox.ignore_patterns
    found = []
    for folder, dirs, files in os.walk(ws.inbox):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [
            Path(folder) / f for f in files if not is_ignored(Path(folder) / f, ws.inbox, patterns)
        ]
    return found


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.25) -> bool:
    """Poll ``check`` until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


def drained(ws: Workspace) -> bool:
    """Nothing waiting in the inbox and nothing waiting for the search index."""
    if inbox_files(ws):
        return False
    store = Store(ws.settings().store)
    try:
        return not store.pending_index_ids()
    finally:
        store.close()


CATCH_UP = "catch-up scan found"


def _log_count(ws: Workspace, text: str) -> int:
    return (
        ws.log.read_text(encoding="utf-8", errors="replace").count(text) if ws.log.exists() else 0
    )


def drain_and_stop(ws: Workspace, timeout: float) -> tuple[bool, int, float]:
    """Run the daemon until the inbox is empty and the index caught up, then SIGTERM it.

    Returns whether it drained in time, its exit code, and how long the drain took.
    """
    start = time.monotonic()
    starts = _log_count(ws, CATCH_UP)
    with running(ws) as daemon:
        # SIGTERM only once it is watching: before its handler is installed (the first
        # second of start-up) the signal's default action ends it with -15.
        wait_until(lambda: _log_count(ws, CATCH_UP) > starts or not daemon.alive(), 60)
        ok = wait_until(lambda: drained(ws) or not daemon.alive(), timeout, step=0.5)
        ok = ok and daemon.alive()
        code = daemon.terminate() if daemon.alive() else (daemon.proc.returncode or -1)
    return ok, code, time.monotonic() - start


# -- checking ----------------------------------------------------------------------------------


@dataclass
class Report:
    """What the harness found: the accounting and every broken invariant."""

    inputs: int = 0
    distinct: int = 0
    filed: int = 0
    review: int = 0
    quarantined: int = 0
    duplicates: int = 0
    waiting: int = 0
    missing: int = 0
    kills: int = 0
    retaken_after_kill: int = 0
    archive_temp_leftovers: int = 0
    index_lag_before_reindex: int = 0
    daemon_exits: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def accounting(self) -> str:
        """inputs = filed + review + quarantined + duplicates + still waiting."""
        total = self.filed + self.review + self.quarantined + self.duplicates + self.waiting
        mark = "=" if total == self.inputs and not self.missing else "!="
        return (
            f"inputs {self.inputs} {mark} filed {self.filed} + review {self.review}"
            f" + quarantined {self.quarantined} + duplicates {self.duplicates}"
            f" + still waiting {self.waiting}"
            + (f"  (MISSING {self.missing})" if self.missing else "")
        )

    def lines(self) -> list[str]:
        """The report as printed."""
        out = [
            self.accounting(),
            f"distinct inputs (by sha256): {self.distinct}",
            f"kills survived: {self.kills}; files re-taken after a kill (released as"
            f" duplicates of their own document): {self.retaken_after_kill}",
            f"archive temp files left by kills: {self.archive_temp_leftovers}",
            f"index lag before reindex: {self.index_lag_before_reindex}",
        ]
        out += [f"note: {n}" for n in self.notes]
        out += [f"PROBLEM: {p}" for p in self.problems] or ["no broken invariant"]
        return out


def verify(ws: Workspace, drops: list[Drop], report: Report, *, reindex: bool = True) -> Report:
    """Check every invariant after the daemon has stopped; fills and returns ``report``."""
    settings = ws.settings()
    store = Store(settings.store)
    try:
        _check_documents(ws, store, drops, report)
        _check_archive(store, report)
        integrity = store.integrity_check()
        if integrity != "ok":
            report.problems.append(f"database integrity check: {integrity}")
        store_ids = {d.id for d in store.list_documents()}
    finally:
        store.close()
    _check_index(ws, settings, store_ids, report, reindex=reindex)
    return report


def _check_documents(ws: Workspace, store: Store, drops: list[Drop], report: Report) -> None:
    docs = store.list_documents()
    by_sha = Counter(d.sha256 for d in docs)
    status = {d.sha256: d.status for d in docs}
    waiting = {p.name: p for p in inbox_files(ws)}
    waiting_shas = {sha256_file(p) for p in waiting.values()}
    input_shas = {d.sha256 for d in drops}
    report.inputs, report.distinct = len(drops), len(input_shas)
    seen: set[str] = set()
    for drop in drops:
        first = drop.sha256 not in seen
        seen.add(drop.sha256)
        if drop.name in waiting:
            report.waiting += 1
        elif not first:
            report.duplicates += 1
        elif by_sha[drop.sha256] == 0:
            report.missing += 1
            report.problems.append(
                f"lost: {drop.name} ({drop.sha256[:12]}) neither stored nor waiting"
            )
        else:
            setattr(report, status[drop.sha256], getattr(report, status[drop.sha256]) + 1)
    for sha, count in by_sha.items():
        if count > 1:
            report.problems.append(f"{count} documents for one input ({str(sha)[:12]})")
        if sha not in input_shas:
            report.problems.append(f"a document for no input (sha {str(sha)[:12]})")
        if sha in waiting_shas:
            report.problems.append(
                f"stored and still in the inbox after the drain ({str(sha)[:12]})"
            )
    processing = ws.inbox / PROCESSING
    left = [p for p in processing.iterdir()] if processing.is_dir() else []
    if left:
        report.problems.append(f"{len(left)} file(s) left in the processing folder")
    retaken = 0
    for doc in docs:
        detail = store.get_document(doc.id)
        # Same name and bytes: the file stored just before a kill, taken again at restart.
        retaken += sum(1 for e in detail.events if e.kind == "received again")
        # A torn document: pages missing, or a read document with none at all.
        if len(detail.pages) != doc.pages or (doc.status != "quarantined" and not doc.pages):
            report.problems.append(f"document {doc.id} is incomplete ({len(detail.pages)} pages)")
    report.retaken_after_kill = retaken


def _check_archive(store: Store, report: Report) -> None:
    bad = store.archive.verify_all()
    if bad:
        report.problems.append(f"archived files not matching their hash: {len(bad)}")
    for doc in store.list_documents():
        if doc.sha256 and not store.archive.contains(doc.sha256):
            report.problems.append(f"document {doc.id} has no verified archive copy")
    report.archive_temp_leftovers = len(list(store.archive.root.glob("??/??/.tmp-*")))


def _check_index(
    ws: Workspace, settings: Settings, store_ids: set[int], report: Report, *, reindex: bool
) -> None:
    index = SearchIndex(settings.index)
    try:
        indexed = index.ids()
    finally:
        index.close()
    report.index_lag_before_reindex = len(store_ids ^ indexed)
    if indexed != store_ids:
        report.notes.append(
            f"index disagrees with the store before reindex: {len(store_ids - indexed)}"
            f" missing, {len(indexed - store_ids)} extra"
        )
    if not reindex:
        return
    result = cli(ws, "reindex")
    if result.returncode != 0:
        report.problems.append(f"reindex failed: {result.stderr.strip()[-300:]}")
        return
    index = SearchIndex(settings.index)
    try:
        after = index.ids()
    finally:
        index.close()
    if after != store_ids:
        report.problems.append(
            f"index disagrees with the store after reindex ({len(after ^ store_ids)})"
        )


def log_problems(ws: Workspace, report: Report) -> None:
    """Tracebacks in the daemon's log mean it crashed on its own: a problem."""
    text = ws.log.read_text(encoding="utf-8", errors="replace") if ws.log.exists() else ""
    tracebacks = text.count("Traceback (most recent call last)")
    if tracebacks:
        report.problems.append(f"{tracebacks} traceback(s) in the daemon log ({ws.log})")
    failures = text.count("ingest failed unexpectedly")
    if failures:
        report.notes.append(f"{failures} ingest attempt(s) failed and were retried")


# -- the kill storm ----------------------------------------------------------------------------


def setup(ws: Workspace, docs: int, seed: int, image_every: int = 8) -> list[Path]:
    """Stage the inputs and import their patients."""
    sources = generate_inputs(ws, docs, seed, image_every)
    result = cli(ws, "patients", "import", str(ws.root / "registry.csv"))
    if result.returncode != 0:
        raise RuntimeError(f"patients import failed: {result.stderr.strip()[-300:]}")
    return sources


def kill_storm(
    root: Path,
    *,
    kills: int = 50,
    docs: int = 60,
    seed: int = 1,
    uptime: tuple[float, float] = (0.3, 5.0),
    image_every: int = 8,
    drain_timeout: float = 300,
    say: Callable[[str], None] = lambda _line: None,
) -> Report:
    """Feed ``docs`` scans to a daemon killed ``kills`` times at random moments; then verify."""
    ws = make_workspace(root)
    rng = random.Random(seed)
    sources = setup(ws, docs, seed, image_every)
    report = Report()
    uptimes = [rng.uniform(*uptime) for _ in range(kills)]
    # Spread the drops over most of the storm (a run also spends ~1.5 s starting up).
    storm = sum(uptimes) + 1.5 * kills
    feeder = Feeder(ws, sources, seed, gap=0.7 * storm / max(1, len(sources)))
    feeder.start()
    try:
        for n, up in enumerate(uptimes, 1):
            with running(ws) as daemon:
                time.sleep(up)
                code = daemon.kill()
            if code is not None:
                report.daemon_exits.append(f"run {n}: exited on its own with code {code}")
            report.kills += 1
            if n % 10 == 0:
                say(f"  {n}/{kills} kills; {len(inbox_files(ws))} file(s) in the inbox")
    finally:
        feeder.join()
    if feeder.error is not None:
        raise RuntimeError(f"feeder failed: {feeder.error!r}")
    say(f"  kills done; {len(feeder.drops)} files dropped; draining")
    ok, code, took = drain_and_stop(ws, drain_timeout)
    report.notes.append(f"drain took {took:.1f} s")
    if not ok:
        report.problems.append(f"daemon did not drain within {drain_timeout:.0f} s")
    if code != 0:
        report.problems.append(f"SIGTERM exit code {code} (expected 0)")
    report.problems += report.daemon_exits
    verify(ws, feeder.drops, report)
    log_problems(ws, report)
    return report


# -- a network share: a writer that pauses mid-file --------------------------------------------


def share_workspace(root: Path, stable: float) -> Workspace:
    """A workspace whose daemon polls the inbox as it would a network share."""
    ws = make_workspace(root)
    text = ws.config.read_text(encoding="utf-8")
    for old, new in (
        ("polling: false ", "polling: true "),
        ("poll_interval_seconds: 2 ", "poll_interval_seconds: 0.5 "),
        ("polling_stable_seconds: 15 ", f"polling_stable_seconds: {stable} "),
    ):
        assert old in text, old
        text = text.replace(old, new)
    ws.config.write_text(text, encoding="utf-8")
    return ws


def paused_writer(
    root: Path,
    *,
    pause: float = 5.0,
    stable: float = 8.0,
    files: int = 2,
    seed: int = 3,
    say: Callable[[str], None] = lambda _line: None,
) -> Report:
    """A scanner on an SMB share: writes half of each file, pauses ``pause`` s, writes the rest.

    The daemon polls (``polling: true``, ``polling_stable_seconds: stable``). Checked: every
    stored document has every page (its bytes are the whole file), and the file was never
    moved or removed from under the writer while it held it open.
    """
    ws = share_workspace(root, stable)
    people = generate_patients(30, seed=seed)
    write_registry_csv(people, ws.root / "registry.csv")
    cli(ws, "patients", "import", str(ws.root / "registry.csv"))
    sources = []
    for i in range(files):
        spec = DocumentSpec(
            patient=people[i], doc_type=DOC_TYPES[i % len(DOC_TYPES)], pages=3, content_seed=i
        )
        sources.append(write_document(spec, seed + i, ws.stage, "pdf_text", name=f"share-{i}.pdf"))
    report = Report()
    drops: list[Drop] = []
    with running(ws) as daemon:
        wait_until(lambda: _log_count(ws, CATCH_UP) > 0 or not daemon.alive(), 60)
        for source in sources:
            data = source.read_bytes()
            target = ws.inbox / source.name
            drops.append(Drop(source.name, hashlib.sha256(data).hexdigest(), "paused"))
            with target.open("wb") as out:
                out.write(data[: len(data) // 2])
                out.flush()
                say(f"  {source.name}: half written, pausing {pause:.0f} s")
                time.sleep(pause)
                held = os.fstat(out.fileno())
                there = target.exists() and target.stat().st_ino == held.st_ino
                if held.st_nlink == 0 or not there:
                    report.problems.append(f"{source.name} was taken from under its writer")
                out.write(data[len(data) // 2 :])
        ok = wait_until(lambda: not inbox_files(ws), stable * 4 + 60)
        if not ok:
            report.problems.append("the paused files were not taken after they were finished")
        code = daemon.terminate()
    if code != 0:
        report.problems.append(f"SIGTERM exit code {code}")
    verify(ws, drops, report, reindex=False)
    store = Store(ws.settings().store)
    try:
        for doc in store.list_documents():
            if doc.pages != 3:
                report.problems.append(f"document {doc.id} has {doc.pages} of 3 pages")
    finally:
        store.close()
    log_problems(ws, report)
    return report


# -- reindex while the daemon indexes ----------------------------------------------------------


def reindex_while_watching(
    root: Path,
    *,
    docs: int = 24,
    rebuilds: int = 3,
    seed: int = 4,
    say: Callable[[str], None] = lambda _line: None,
) -> Report:
    """``chartclerk reindex`` run again and again while the daemon stores and indexes files.

    Checked without a final reindex: the index holds exactly the store's documents (a
    rebuild must not drop what the daemon indexed while it read the store).
    """
    ws = make_workspace(root)
    sources = setup(ws, docs, seed, image_every=0)
    report = Report()
    with running(ws) as daemon:
        wait_until(lambda: _log_count(ws, CATCH_UP) > 0 or not daemon.alive(), 60)
        feeder = Feeder(ws, sources, seed, gap=0.15)
        feeder.start()
        try:
            for n in range(rebuilds):
                result = cli(ws, "reindex")
                say(f"  reindex {n + 1}/{rebuilds}: exit {result.returncode}")
                if result.returncode != 0:
                    report.problems.append(f"reindex failed: {result.stderr.strip()[-300:]}")
        finally:
            feeder.join()
        ok = wait_until(lambda: drained(ws) or not daemon.alive(), 180, step=0.5)
        if not ok:
            report.problems.append("daemon did not drain")
        code = daemon.terminate()
    if code != 0:
        report.problems.append(f"SIGTERM exit code {code}")
    verify(ws, feeder.drops, report, reindex=False)
    if report.index_lag_before_reindex:
        report.problems.append(
            f"{report.index_lag_before_reindex} document(s) missing from the index after "
            "reindex ran while the daemon indexed"
        )
    log_problems(ws, report)
    return report
