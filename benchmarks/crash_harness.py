"""Nothing lost: `chartclerk watch` SIGKILLed at random moments while scans arrive.

    .venv/bin/python benchmarks/crash_harness.py                   # 50 kills, 60 docs
    .venv/bin/python benchmarks/crash_harness.py --kills 60 --docs 120 --seed 7
    .venv/bin/python benchmarks/crash_harness.py --quick           # under two minutes
    .venv/bin/python benchmarks/crash_harness.py --scenario disk-full
    .venv/bin/python benchmarks/crash_harness.py --scenario db-locked
    .venv/bin/python benchmarks/crash_harness.py --scenario paused-writer    # SMB scanner pausing
    .venv/bin/python benchmarks/crash_harness.py --scenario reindex-watching # reindex mid-ingest

Each scenario ends by letting the daemon drain, stopping it with SIGTERM, and checking the
invariants of DESIGN.md: every input is still in the inbox or exactly one document (by the
sha256 of its bytes), every archived original matches its hash, the database passes its
integrity check, and the search index agrees with the store (before and after `reindex`).
Exit status 0 when nothing is broken, 1 otherwise, 77 when a scenario cannot run here.

The logic lives in tests/crashkit.py, which tests/test_crash.py runs in a short form.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.crashkit import (  # noqa: E402
    Drop,
    Report,
    drain_and_stop,
    drop_file,
    inbox_files,
    kill_storm,
    log_problems,
    make_workspace,
    paused_writer,
    reindex_while_watching,
    running,
    setup,
    sha256_file,
    verify,
    wait_until,
)

SKIP = 77


def say(line: str) -> None:
    print(line, flush=True)


def drop_all(sources: list[Path], inbox: Path, drops: list[Drop], gap: float = 0.2) -> None:
    for source in sources:
        drops.append(Drop(source.name, sha256_file(source), "rename"))
        drop_file(source, inbox, source.name, "rename")
        time.sleep(gap)


def finish(ws_report: Report, drops: list[Drop], ws, code_ok: tuple[bool, int, float]) -> Report:  # noqa: ANN001
    ok, code, took = code_ok
    ws_report.notes.append(f"final drain took {took:.1f} s")
    if not ok:
        ws_report.problems.append("daemon did not drain in time")
    if code != 0:
        ws_report.problems.append(f"SIGTERM exit code {code} (expected 0)")
    verify(ws, drops, ws_report)
    log_problems(ws, ws_report)
    return ws_report


# -- disk full ---------------------------------------------------------------------------------


def mount_small(folder: Path, size: str = "8m") -> str | None:
    """Mount a small tmpfs (or, failing that, a loop-mounted ext4 file); None if neither."""
    folder.mkdir(parents=True, exist_ok=True)
    tmpfs = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if tmpfs.returncode == 0:
        return "tmpfs"
    image = folder.with_suffix(".img")
    try:
        subprocess.run(["truncate", "-s", size.upper(), str(image)], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
        subprocess.run(
            ["mount", "-o", "loop", str(image), str(folder)], check=True, capture_output=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        say(f"cannot mount a small file system here: tmpfs: {tmpfs.stderr.strip()}; loop: {exc}")
        return None
    return "loop"


def fill(folder: Path, leave_bytes: int) -> Path:
    """A ballast file that leaves about ``leave_bytes`` free on ``folder``'s file system."""
    free = shutil.disk_usage(folder).free
    ballast = folder / "ballast"
    with ballast.open("wb") as out:
        remaining = max(0, free - leave_bytes)
        block = b"\0" * (1 << 16)
        try:
            while remaining > 0:
                remaining -= out.write(block[: min(len(block), remaining)])
        except OSError:
            pass
    return ballast


def disk_full(root: Path, docs: int, seed: int) -> Report | None:
    data = root / "data"
    kind = mount_small(data)
    if kind is None:
        return None
    say(f"data folder on a small {kind} file system at {data}")
    report = Report()
    drops: list[Drop] = []
    try:
        ws = make_workspace(root, data=data)
        sources = setup(ws, docs, seed, image_every=0)
        first, rest = sources[: docs // 3], sources[docs // 3 :]
        with running(ws) as daemon:
            drop_all(first, ws.inbox, drops)
            wait_until(lambda: not inbox_files(ws), 60)
            say(f"  {len(first)} stored; filling the disk to ~48 KiB free")
            ballast = fill(data, 48 * 1024)
            drop_all(rest, ws.inbox, drops)
            time.sleep(20)
            waiting = len(inbox_files(ws))
            say(f"  disk full for 20 s: daemon alive={daemon.alive()}, {waiting} file(s) waiting")
            report.notes.append(f"{waiting} file(s) waited in the inbox while the disk was full")
            if not daemon.alive():
                report.problems.append("daemon died while the disk was full")
            ballast.unlink()
            say("  disk space freed; letting it catch up")
            wait_until(lambda: not inbox_files(ws), 120)
            code = daemon.terminate()
        result = drain_and_stop(ws, 120)
        if code != 0:
            report.problems.append(f"first daemon's SIGTERM exit code {code}")
        return finish(report, drops, ws, result)
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


# -- locked database ---------------------------------------------------------------------------

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def db_locked(root: Path, docs: int, seed: int, hold: float) -> Report:
    ws = make_workspace(root)
    sources = setup(ws, docs, seed, image_every=0)
    report = Report()
    drops: list[Drop] = []
    database = ws.data / "chartclerk.db"
    first, rest = sources[: docs // 3], sources[docs // 3 :]
    with running(ws) as daemon:
        drop_all(first, ws.inbox, drops)
        wait_until(lambda: not inbox_files(ws), 60)
        locker = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(database), str(hold)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert locker.stdout is not None
            locker.stdout.readline()
            say(f"  database locked (BEGIN EXCLUSIVE) for {hold:.0f} s; dropping {len(rest)} files")
            drop_all(rest, ws.inbox, drops)
            time.sleep(min(10.0, hold / 2))
            waiting = len(inbox_files(ws))
            say(f"  while locked: daemon alive={daemon.alive()}, {waiting} file(s) waiting")
            report.notes.append(
                f"{waiting} file(s) waited in the inbox while the database was locked"
            )
            locker.wait(hold + 30)
        finally:
            if locker.poll() is None:
                locker.kill()
                locker.wait()
        sqlite3.connect(database).close()
        if not daemon.alive():
            report.problems.append("daemon died while the database was locked")
        say("  lock released; letting it catch up")
        wait_until(lambda: not inbox_files(ws), 180)
        code = daemon.terminate()
    if code != 0:
        report.problems.append(f"SIGTERM exit code {code} while catching up")
    return finish(report, drops, ws, drain_and_stop(ws, 120))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a short run (under two minutes)")
    parser.add_argument(
        "--scenario",
        choices=["kills", "disk-full", "db-locked", "paused-writer", "reindex-watching"],
        default="kills",
    )
    parser.add_argument(
        "--hold", type=float, default=40.0, help="db-locked: seconds the lock is held"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if args.quick:
        args.kills, args.docs, args.hold = min(args.kills, 12), min(args.docs, 16), 35.0
    root = Path(tempfile.mkdtemp(prefix="chartclerk-crash-"))
    start = time.monotonic()
    say(f"scenario {args.scenario}, seed {args.seed}, work folder {root}")
    try:
        if args.scenario == "kills":
            say(f"{args.docs} scans, {args.kills} kills")
            report: Report | None = kill_storm(
                root, kills=args.kills, docs=args.docs, seed=args.seed, say=say
            )
        elif args.scenario == "paused-writer":
            report = paused_writer(root, files=max(2, args.docs // 20), say=say)
        elif args.scenario == "reindex-watching":
            report = reindex_while_watching(root, docs=max(args.docs // 2, 12), say=say)
        elif args.scenario == "disk-full":
            report = disk_full(root, max(args.docs // 3, 9), args.seed)
        else:
            report = db_locked(root, max(args.docs // 3, 9), args.seed, args.hold)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if report is None:
        say("SKIPPED: this machine does not allow mounting a small file system")
        return SKIP
    for line in report.lines():
        say(line)
    say(f"took {time.monotonic() - start:.0f} s")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
