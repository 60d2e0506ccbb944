"""Nothing stuck: a thousand broken files of every kind through `chartclerk ingest`, then `watch`.

    nice .venv/bin/python benchmarks/fuzz_ingest.py                 # 1,000 mutants + 60 via watch
    nice .venv/bin/python benchmarks/fuzz_ingest.py --mutants 200 --batch 50 --seed 3

Seeds are small real-looking files of every kind (tests/mutants.py): text-layer, image-only
and mixed PDFs, a multi-page Group 4 TIFF, PNG, JPEG, BMP, GIF. Each mutant is one to three
of: truncation, flipped bytes, junk before or after, a broken xref table, a lying page
count, zeroed or repeated blocks; one in five also gets a wrong extension. They are written
in batches into folders inside the inbox and run through `chartclerk ingest FOLDER --json`.

Checked per batch: exit 0; one row per file, each filed, review, quarantined or duplicate;
no file left in the folder or in the processing folder; peak memory of the command and its
OCR workers. Then a last batch is dropped into a running `chartclerk watch`, which must take
every file and stay alive. Exit status 0 when every check held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records.store import Store  # noqa: E402
from scanner.dropped.claim import PROCESSING  # noqa: E402
from synthetic import generate_patients, write_registry_csv  # noqa: E402
from tests.crashkit import (  # noqa: E402
    CATCH_UP,
    _log_count,
    inbox_files,
    make_workspace,
    running,
    wait_until,
)
from tests.mutants import SEED_KINDS, make_seeds, mutant_name, mutate  # noqa: E402

CLI = [sys.executable, "-c", "from clerk.cli import main; main()"]
TERMINAL = {"filed", "review", "quarantined", "duplicate"}
# OCR kept cheap: image PDFs rendered at 72 dpi, no orientation search, no second look.
CHEAP = (
    ("dpi: 300 ", "dpi: 72 "),
    ("orientation_min_confidence: 60 ", "orientation_min_confidence: 0 "),
    ("orientation_min_words: 8 ", "orientation_min_words: 0 "),
    ("workers: 1 ", "workers: 2 "),
    ("page_timeout_seconds: 120 ", "page_timeout_seconds: 30 "),
    ("    enabled: true ", "    enabled: false "),
)


def say(line: str) -> None:
    print(line, flush=True)


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its children, in bytes."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def run_measured(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run a command, sampling the memory of its process tree; returns it and the peak."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    return subprocess.CompletedProcess(args, proc.returncode, out, err), peak


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mutants", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--watch-mutants", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="chartclerk-fuzz-"))
    ws = make_workspace(root)
    text = ws.config.read_text(encoding="utf-8")
    for old, new in CHEAP:
        assert old in text, old
        text = text.replace(old, new)
    ws.config.write_text(text, encoding="utf-8")
    seeds = make_seeds(root / "seeds", args.seed)
    # The seeds' patient is registered, so mutants that still read well are filed.
    write_registry_csv(generate_patients(3, seed=args.seed), root / "registry.csv")
    subprocess.run(
        [*CLI, "--config", str(ws.config), "patients", "import", str(root / "registry.csv")],
        cwd=root,
        check=True,
        capture_output=True,
    )
    rng = random.Random(args.seed)
    problems: list[str] = []
    outcomes: Counter[str] = Counter()
    by_mutation: dict[str, Counter[str]] = {}
    peak_rss = 0
    start = time.monotonic()
    say(f"fuzzing {args.mutants} mutants in batches of {args.batch}; work folder {root}")
    made = 0
    batch_no = 0
    try:
        while made < args.mutants:
            batch_no += 1
            folder = ws.inbox / f"batch-{batch_no:03d}"
            folder.mkdir()
            names: dict[str, list[str]] = {}
            for _ in range(min(args.batch, args.mutants - made)):
                kind = rng.choice(SEED_KINDS)
                data, mutations = mutate(seeds[kind], rng)
                name, wrong = mutant_name(made, kind, rng)
                (folder / name).write_bytes(data)
                names[name] = [*mutations, *(["wrong_extension"] if wrong else [])]
                made += 1
            result, peak = run_measured(
                [*CLI, "--config", str(ws.config), "ingest", "--json", str(folder)], root
            )
            peak_rss = max(peak_rss, peak)
            problems += check_batch(batch_no, folder, names, result, outcomes, by_mutation)
            say(
                f"  batch {batch_no}: {len(names)} mutants, exit {result.returncode}, "
                f"peak {peak / 2**20:.0f} MiB, {made}/{args.mutants} done, "
                f"{time.monotonic() - start:.0f} s"
            )
        ingest_seconds = time.monotonic() - start
        problems += watch_batch(ws, seeds, rng, args.watch_mutants, made)
        misfiled = count_misfiled(ws, generate_patients(3, seed=args.seed)[0].mrn)
        say(f"filed to another patient than the seeds' own: {misfiled}")
        if misfiled:
            problems.append(f"{misfiled} mutant(s) filed to the wrong patient")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    say(
        f"mutants through ingest: {made} in {ingest_seconds:.0f} s "
        f"({ingest_seconds / max(made, 1):.2f} s each)"
    )
    say("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    for name, counts in sorted(by_mutation.items()):
        say(f"  {name:18s} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    say(f"peak memory of one ingest batch (command + OCR workers): {peak_rss / 2**20:.0f} MiB")
    for problem in problems:
        say(f"PROBLEM: {problem}")
    if not problems:
        say("no problem: every mutant filed, in review or quarantined; nothing left behind")
    return 1 if problems else 0


def check_batch(
    number: int,
    folder: Path,
    names: dict[str, list[str]],
    result: subprocess.CompletedProcess[str],
    outcomes: Counter[str],
    by_mutation: dict[str, Counter[str]],
) -> list[str]:
    """The checks of one ingest batch; returns the problems found."""
    problems = []
    if result.returncode != 0:
        problems.append(f"batch {number}: exit {result.returncode}: {result.stderr[-300:]}")
    try:
        rows = json.loads(result.stdout)
    except ValueError:
        return [*problems, f"batch {number}: no JSON output: {result.stderr[-300:]}"]
    if len(rows) != len(names):
        problems.append(f"batch {number}: {len(rows)} rows for {len(names)} files")
    for row in rows:
        outcome = str(row["outcome"])
        outcomes[outcome] += 1
        for mutation in names.get(Path(row["path"]).name, ["?"]):
            by_mutation.setdefault(mutation, Counter())[outcome] += 1
        if outcome not in TERMINAL:
            problems.append(f"batch {number}: {Path(row['path']).name}: {outcome} {row['reason']}")
    left = [p.name for p in folder.rglob("*") if p.is_file()]
    if left:
        problems.append(f"batch {number}: {len(left)} file(s) left behind: {left[:5]}")
    processing = folder.parent / PROCESSING
    if processing.is_dir() and any(processing.iterdir()):
        problems.append(f"batch {number}: files left in the processing folder")
    return problems


def count_misfiled(ws, mrn: str) -> int:  # noqa: ANN001 - ws is a crashkit Workspace
    """Filed documents whose patient is not the one every seed is about."""
    store = Store(ws.settings().store)
    try:
        return sum(1 for d in store.list_documents(status="filed") if d.patient_mrn != mrn)
    finally:
        store.close()


def watch_batch(
    ws, seeds: dict[str, bytes], rng: random.Random, count: int, first: int
) -> list[str]:  # noqa: ANN001
    """Drop ``count`` mutants into a running daemon; it must take them all and stay alive."""
    if count <= 0:
        return []
    problems = []
    with running(ws) as daemon:
        wait_until(lambda: _log_count(ws, CATCH_UP) > 0 or not daemon.alive(), 60)
        for i in range(count):
            kind = rng.choice(SEED_KINDS)
            data, _ = mutate(seeds[kind], rng)
            name, _ = mutant_name(first + i, kind, rng)
            temp = ws.inbox / f".{name}.tmp"
            temp.write_bytes(data)
            temp.rename(ws.inbox / name)
        ok = wait_until(lambda: not inbox_files(ws) or not daemon.alive(), 600, step=0.5)
        alive = daemon.alive()
        code = daemon.terminate() if alive else daemon.proc.returncode
    say(f"  watch: {count} mutants dropped; drained={ok and alive}, SIGTERM exit {code}")
    if not alive:
        problems.append("the daemon died on a mutant")
    elif not ok:
        problems.append(f"watch left {len(inbox_files(ws))} mutant(s) in the inbox")
    if code != 0:
        problems.append(f"watch exit code {code}")
    text = ws.log.read_text(encoding="utf-8", errors="replace") if ws.log.exists() else ""
    if "Traceback" in text:
        problems.append("a traceback in the daemon log")
    if "ingest failed unexpectedly" in text or "file waits" in text:
        problems.append("the daemon retried a mutant (a retry loop on content)")
    return problems


if __name__ == "__main__":
    sys.exit(main())
