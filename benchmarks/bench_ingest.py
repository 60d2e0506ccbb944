"""Ingest speed, cost and accuracy, as ratios against bare tesseract on the same pages.

    .venv/bin/python benchmarks/bench_ingest.py --mix [--docs 30] [--repeats 2]
    .venv/bin/python benchmarks/bench_ingest.py [--pages 40] [--text-pages 200] [--memory-pages 200]
    .venv/bin/python benchmarks/bench_ingest.py --text-only [--text-repeats 3] [--text-against REV]
    .venv/bin/python benchmarks/bench_ingest.py --startup 7

1. ``--mix``: a realistic mix (``synthetic.mix``: a quarter of the documents damaged - fax,
   low-quality JPEG, 4 degree skew, upside down, crooked sticker -, one in seven bound for
   review, multi-page TIFFs and PDFs, a few text-layer PDFs) with ground truth. In one run,
   interleaved and repeated: ``chartclerk ingest`` of the files against bare
   ``tesseract PAGE -`` (OMP_THREAD_LIMIT=1, as many at a time as ingest has OCR workers)
   on the same page images. Reports the ratio's range (wall and CPU), tesseract passes per
   page by kind and by file kind (summed from ``documents show``'s per-page passes), where
   the CPU went (each pass's recorded CPU seconds by kind; the rest, with the ingest
   process's own share), start-up until the first page is in tesseract (a ``tesseract``
   program, or a worker that has loaded tesseract's library), and the accuracy figures:
   misfiles, review recall, auto-file rate.
2. Clean OCR pages: the same ratio on N clean single-page PNG scans.
3. Text layer: pages per second, start-up included, for light and dense (EHR printout,
   about 5,000 characters a page) text-layer PDFs: the median of ``--text-repeats`` runs,
   each on a fresh site (the machine's speed drifts from run to run), with every run's
   figure beside it; with ``--text-against REV`` each run is paired with one of the same
   files on that git revision's code (``git archive``, run by PYTHONPATH), in turn.
4. Memory: peak RSS of the ingest process and its OCR workers while ingesting a 200-page
   image-only PDF.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from text_stages import stage_costs  # noqa: E402

from synthetic import (  # noqa: E402
    DocumentSpec,
    generate_patients,
    render_pages,
    write_document,
    write_registry_csv,
)
from synthetic.files import KINDS, text_of, write_image_pdf, write_png, write_text_pdf  # noqa: E402
from synthetic.mix import MixItem, make_mix  # noqa: E402

CHARTCLERK = str(Path(sys.executable).with_name("chartclerk"))
LAYOUTS = ("labelled", "last_first", "table", "sticker")
TYPES = ("lab_report", "radiology_report", "progress_note", "discharge_summary", "consult_note")
# OCR workers of the ingest measured, and so tesseracts at a time in the reference: the
# reference does the same work with the same parallelism (STYLE.md 12).
WORKERS = 2


def specs(count: int) -> list[DocumentSpec]:
    patients = generate_patients(max(count, 10), seed=5)
    return [
        DocumentSpec(
            patient=patients[i % len(patients)],
            doc_type=TYPES[i % len(TYPES)],
            layout=LAYOUTS[i % len(LAYOUTS)],
            content_seed=i,
        )
        for i in range(count)
    ]


def make_config(folder: Path, pages: int = 10, registry: Path | None = None) -> Path:
    """A fresh site whose patient index holds the patients on the generated pages.

    With the registry loaded most pages are filed, as at a hospital; an empty one would send
    every page to review and measure the review path instead.
    """
    text = (ROOT / "config.yaml").read_text().replace("stable_seconds: 2 ", "stable_seconds: 0.2 ")
    text = text.replace("workers: 0 ", f"workers: {WORKERS} ")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text)
    if registry is None:
        registry = write_registry_csv(generate_patients(max(pages, 10), seed=5), folder / "reg.csv")
    subprocess.run(
        [CHARTCLERK, "--config", str(path), "patients", "import", str(registry)],
        check=True,
        capture_output=True,
    )
    return path


@dataclass
class IngestRun:
    """One `chartclerk ingest`: wall seconds, peak RSS, start-up, and its rows."""

    seconds: float
    peak_rss: int
    first_tesseract_s: float | None
    rows: list[dict[str, Any]]
    cpu_s: float = 0.0
    # CPU of the ingest process itself and of its OCR workers (their own, with tesseract's
    # library in them; not the tesseract programs they start), as last seen while they ran.
    main_cpu_s: float = 0.0
    workers_cpu_s: float = 0.0
    began_at: float = 0.0  # when the command was started (seconds since the epoch)


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far.

    It counts the whole tree of a finished `chartclerk ingest` (its workers and their
    tesseracts) or of the bare tesseracts: work done, whatever the machine's load.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ingest(
    config: Path, files: list[Path], watch: bool = True, code: Path | None = None
) -> IngestRun:
    """Run `chartclerk ingest --json` on ``files``, watching its process tree.

    ``code``: a tree of another revision to run instead of this one (see ``reference_tree``).
    """
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    cpu = children_cpu()
    with tempfile.TemporaryFile() as out:
        start, began_at = time.perf_counter(), time.time()
        proc = subprocess.Popen(
            [CHARTCLERK, "--config", str(config), "ingest", "--json", *map(str, files)],
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        peak = 0
        first: float | None = None
        watched = psutil.Process(proc.pid)
        own: dict[int, float] = {}  # pid -> CPU of the ingest process and its workers
        while proc.poll() is None:
            if watch:
                try:
                    tree = [watched, *watched.children(recursive=True)]
                    if first is None and any(p.name() == "tesseract" for p in tree):
                        first = time.perf_counter() - start  # the program engine
                    peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
                    for p in tree:
                        if p.name() != "tesseract":
                            times = p.cpu_times()
                            own[p.pid] = times.user + times.system
                except psutil.Error:
                    pass
            time.sleep(0.005 if first is None else 0.05)
        elapsed = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"chartclerk ingest exited {proc.returncode}")
    main = own.pop(proc.pid, 0.0)
    return IngestRun(
        elapsed,
        peak,
        first,
        json.loads(text),
        cpu_s=children_cpu() - cpu,
        main_cpu_s=main,
        workers_cpu_s=sum(own.values()),
        began_at=began_at,
    )


def bare_tesseract(files: list[Path]) -> tuple[float, float]:
    """Bare `tesseract FILE -` on every file, WORKERS at a time: (wall s, CPU s)."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise SystemExit("tesseract is not installed")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> None:
        subprocess.run([binary, str(path), "-"], check=True, capture_output=True, env=env)

    cpu = children_cpu()
    start = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - start, children_cpu() - cpu


def bench_ocr(work: Path, pages: int) -> dict[str, float]:
    folder = work / "ocr-pages"
    folder.mkdir()
    files = []
    for i, spec in enumerate(specs(pages)):
        files.append(write_png(render_pages(spec, seed=i)[0], folder / f"page{i:03d}.png"))
    reference, _ = bare_tesseract(files)
    ours = run_ingest(make_config(work / "ocr-run", pages), files).seconds
    return {
        "pages": pages,
        "bare_tesseract_s": reference,
        "ingest_s": ours,
        "ratio": ours / reference,
    }


# -- the realistic mix --------------------------------------------------------------


def write_mix(folder: Path, items: list[MixItem], seed: int) -> tuple[list[Path], list[Path]]:
    """Write the mix's files, and the page images bare tesseract reads for the same pages.

    PNG, JPEG and TIFF files are read by tesseract as they are (a TIFF's every page, in one
    run); an image PDF's pages are given to it as the PNGs the PDF was made of; a text-layer
    PDF needs no tesseract at all.
    """
    files_dir, ref_dir = folder / "files", folder / "reference"
    files_dir.mkdir(parents=True)
    ref_dir.mkdir()
    files: list[Path] = []
    reference: list[Path] = []
    for i, item in enumerate(items):
        name = f"doc{i:03d}{KINDS[item.kind]}"
        path = write_document(item.spec, seed + i, files_dir, item.kind, name)
        files.append(path)
        if item.kind in ("png", "jpeg", "tiff"):
            reference.append(path)
        elif item.kind == "pdf_image":
            for n, image in enumerate(render_pages(item.spec, seed + i)):
                reference.append(write_png(image, ref_dir / f"doc{i:03d}-{n}.png"))
    return files, reference


def mix_costs(
    config: Path, rows: list[dict[str, Any]], items: list[MixItem], files: list[Path]
) -> dict[str, Any]:
    """Accuracy and tesseract passes of one ingest of the mix, read from the store."""
    from clerk.app import App
    from clerk.config import load_config

    by_path = {row["path"]: row for row in rows}
    app = App(load_config(config), actor="bench")
    try:
        passes: Counter[str] = Counter()
        seconds: defaultdict[str, float] = defaultdict(float)
        cpu: defaultdict[str, float] = defaultdict(float)
        by_kind: defaultdict[str, Counter[str]] = defaultdict(Counter)
        whys: Counter[str] = Counter()
        pages = ocr_pages = 0
        first_pass = float("inf")  # when the first tesseract pass began (its own record)
        misfiles = fileable = auto = must_review = reviewed = 0
        for item, path in zip(items, files, strict=True):
            row = by_path[str(path)]
            detail = app.store.get_document(int(row["id"]))
            for page in detail.pages:
                pages += 1
                ocr_pages += page.source == "ocr"
                for one in page.passes:
                    first_pass = min(first_pass, float(one.get("started_at") or "inf"))
                    passes[one["kind"]] += 1
                    seconds[one["kind"]] += float(one["seconds"])
                    cpu[one["kind"]] += float(one.get("cpu_seconds", 0.0))
                    by_kind[f"{item.kind}/{item.damage}"][one["kind"]] += 1
                    whys[one["why"].split(" (")[0].split(";")[0]] += 1
            status, mrn = detail.summary.status, detail.summary.patient_mrn
            truth = item.truth
            if status == "filed" and (truth.expected_action != "file" or mrn != truth.expected_mrn):
                misfiles += 1
            if truth.expected_action == "file":
                fileable += 1
                auto += status == "filed" and mrn == truth.expected_mrn
            else:
                must_review += 1
                reviewed += status == "review"
    finally:
        app.close()
    return {
        "first_pass_at": first_pass,
        "pages": pages,
        "ocr_pages": ocr_pages,
        "passes": dict(passes),
        "pass_seconds": {k: round(v, 2) for k, v in seconds.items()},
        "pass_cpu_s": {k: round(v, 2) for k, v in cpu.items()},
        "passes_by_file": {k: dict(v) for k, v in sorted(by_kind.items())},
        "whys": dict(whys),
        "passes_per_page": round(sum(passes.values()) / max(pages, 1), 3),
        "read_passes_per_ocr_page": round(passes["read"] / max(ocr_pages, 1), 3),
        "tesseract_s": round(sum(seconds.values()), 2),
        "tesseract_cpu_s": round(sum(cpu.values()), 2),
        "misfiles": misfiles,
        "auto_file_pct": round(100 * auto / max(fileable, 1), 1),
        "review_recall_pct": round(100 * reviewed / max(must_review, 1), 1),
        "fileable": fileable,
        "must_review": must_review,
    }


def bench_mix(work: Path, docs: int, repeats: int, seed: int) -> dict[str, Any]:
    patients = generate_patients(300, seed)
    items = make_mix(patients, docs, seed)
    files, reference = write_mix(work / "mix", items, seed)
    registry = write_registry_csv(patients, work / "mix" / "registry.csv")
    runs = []
    for r in range(repeats):
        config = make_config(work / f"mix-site{r}", registry=registry)
        # Interleaved, and in turn first: the machine is shared and its load drifts.
        if r % 2 == 0:
            bare_s, bare_sum = bare_tesseract(reference)
            ingest = run_ingest(config, files)
        else:
            ingest = run_ingest(config, files)
            bare_s, bare_sum = bare_tesseract(reference)
        costs = mix_costs(config, ingest.rows, items, files)
        # Start-up: until the first page was in tesseract, as its first pass recorded it
        # (a worker keeps tesseract's library loaded, so no new process shows it).
        if costs["first_pass_at"] != float("inf"):
            ingest.first_tesseract_s = costs["first_pass_at"] - ingest.began_at
        runs.append({
            "bare_s": round(bare_s, 2),
            "bare_cpu_s": round(bare_sum, 2),
            "ingest_s": round(ingest.seconds, 2),
            "ingest_cpu_s": round(ingest.cpu_s, 2),
            "ratio": round(ingest.seconds / bare_s, 3),
            "cpu_ratio": round(ingest.cpu_s / bare_sum, 3),
            "main_cpu_s": round(ingest.main_cpu_s, 2),
            "workers_cpu_s": round(ingest.workers_cpu_s, 2),
            "load_avg": round(os.getloadavg()[0], 1),
            "first_tesseract_s": round(ingest.first_tesseract_s or -1, 3),
            **costs,
        })  # fmt: skip
        print(
            f"  run {r + 1}: ingest {ingest.seconds:.1f} s, bare {bare_s:.1f} s, "
            f"ratio {ingest.seconds / bare_s:.2f} (CPU {ingest.cpu_s:.0f} s / {bare_sum:.0f} s = "
            f"{ingest.cpu_s / bare_sum:.2f}; load {os.getloadavg()[0]:.1f}); first page in "
            f"tesseract after {ingest.first_tesseract_s or -1:.2f} s; passes {costs['passes']}",
            flush=True,
        )
        print(
            f"    CPU: tesseract passes {costs['tesseract_cpu_s']:.1f} s {costs['pass_cpu_s']}; "
            f"the rest {ingest.cpu_s - costs['tesseract_cpu_s']:.1f} s (ingest process "
            f"{ingest.main_cpu_s:.1f} s, workers' own {ingest.workers_cpu_s:.1f} s)",
            flush=True,
        )
    return {
        "documents": len(items),
        "damage": dict(Counter(i.damage for i in items)),
        "kinds": dict(Counter(i.kind for i in items)),
        "runs": runs,
    }


def bench_startup(
    work: Path, runs: int, seed: int, files_per_run: int = 8, against: Path | None = None
) -> dict[str, Any]:
    """Start-up alone, ``runs`` times: `chartclerk ingest` of the mix's first files.

    Each run ingests the first ``files_per_run`` files of the mix into a fresh data folder;
    start-up is from the command's start until its first tesseract pass began (as the pass
    recorded it). One sample is at the mercy of the machine's load; the median of several
    is the figure. ``against``: another revision's tree (see ``reference_tree``), run in
    turn with this code, the same number of times.
    """
    patients = generate_patients(300, seed)
    items = make_mix(patients, files_per_run, seed)
    files, _ = write_mix(work / "startup", items, seed)
    registry = write_registry_csv(patients, work / "startup" / "registry.csv")
    ours: list[float] = []
    theirs: list[float] = []
    for r in range(runs):
        # Turn about, as bench_text does: this code first, then the other's; the other way next.
        order = [None, against] if r % 2 == 0 else [against, None]
        for code in order if against is not None else [None]:
            config = make_config(work / f"startup-site{r}-{code is None}", registry=registry)
            ingest = run_ingest(config, files, watch=False, code=code)
            costs = mix_costs(config, ingest.rows, items, files)
            (ours if code is None else theirs).append(costs["first_pass_at"] - ingest.began_at)
    ours.sort()
    theirs.sort()
    return {
        "runs": runs,
        "files": len(files),
        "seconds": [round(s, 3) for s in ours],
        "median_s": round(ours[len(ours) // 2], 3),
        "against_seconds": [round(s, 3) for s in theirs],
        "against_median_s": round(theirs[len(theirs) // 2], 3) if theirs else None,
        "load_avg": round(os.getloadavg()[0], 1),
    }


def print_mix(mix: dict[str, Any]) -> None:
    runs = mix["runs"]
    ratios = [r["ratio"] for r in runs]
    first = [r["first_tesseract_s"] for r in runs]
    last = runs[-1]
    print(
        f"mix: {mix['documents']} documents, {last['pages']} pages ({last['ocr_pages']} OCR); "
        f"damage {mix['damage']}; kinds {mix['kinds']}"
    )
    print(
        f"  ingest / bare tesseract ({WORKERS} at a time): {min(ratios):.2f}-{max(ratios):.2f} "
        f"over {len(runs)} runs (target <= 1.2)"
    )
    cpu = [r["cpu_ratio"] for r in runs]
    print(
        f"  CPU of the whole ingest tree / CPU of bare tesseract: {min(cpu):.2f}-{max(cpu):.2f} "
        f"(load average {min(r['load_avg'] for r in runs)}-{max(r['load_avg'] for r in runs)})"
    )
    print(
        f"  tesseract passes per page {last['passes_per_page']:.2f} by kind {last['passes']}; "
        f"wall seconds {last['pass_seconds']}"
    )
    print(
        "  CPU seconds: bare tesseract "
        + ", ".join(f"{r['bare_cpu_s']:.1f}" for r in runs)
        + "; ingest's tesseract passes "
        + ", ".join(f"{r['tesseract_cpu_s']:.1f} {r['pass_cpu_s']}" for r in runs)
        + "; the rest "
        + ", ".join(f"{r['ingest_cpu_s'] - r['tesseract_cpu_s']:.1f}" for r in runs)
        + " (ingest process "
        + ", ".join(f"{r['main_cpu_s']:.1f}" for r in runs)
        + ")"
    )
    print(f"  passes by file kind/damage: {last['passes_by_file']}")
    print(f"  why: {last['whys']}")
    print(f"  start-up until the first page is in tesseract: {min(first):.2f}-{max(first):.2f} s")
    print(
        f"  accuracy: misfiles {max(r['misfiles'] for r in runs)} (target 0), review recall "
        f"{last['review_recall_pct']}% of {last['must_review']}, auto-filed "
        f"{last['auto_file_pct']}% of {last['fileable']}"
    )


# -- text layer and memory ----------------------------------------------------------


def dense_pages(all_specs: list[DocumentSpec], chars: int = 5000) -> list[str]:
    """Pages of an EHR printout: about ``chars`` characters each, in lines of <= 90."""
    words = " ".join(" ".join(text_of(spec)) for spec in all_specs).split()
    pages: list[str] = []
    lines: list[str] = []
    line = ""
    size = 0
    for word in words * 8:
        if len(line) + len(word) + 1 > 90:
            lines.append(line)
            size += len(line)
            line = ""
            if size >= chars:
                pages.append("\n".join(lines))
                lines, size = [], 0
                if len(pages) == len(all_specs):
                    break
        line = f"{line} {word}" if line else word
    return pages


def reference_tree(work: Path, revision: str) -> Path:
    """Another revision's code (``git archive``), to run in this venv by PYTHONPATH.

    Its database schema must be this one's: the benchmark's sites are made by this code.
    """
    tree = work / f"code-{revision.replace('/', '_')}"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def write_text_corpus(folder: Path, pages: int, dense: bool) -> list[Path]:
    """Text-layer PDFs of ten pages each, one patient's printout a file, as an EHR prints.

    Light pages are the generator's documents (about 1,100 characters); dense ones are
    printouts of about 5,500 characters under the first document's header. The patients
    are those ``make_config`` registers.
    """
    folder.mkdir(parents=True)
    files = []
    per_file = 10
    # One patient's printout a file, as an EHR prints a chart: pages of several documents of
    # that patient. (Until 2026-12 every file mixed ten patients, so every one went to
    # review as "multiple patients" and matching weighed ten times the candidates.)
    patients = generate_patients(max(pages, 10), seed=5)
    all_specs = [
        DocumentSpec(
            patient=patients[i // per_file],
            doc_type=TYPES[i % len(TYPES)],
            layout=LAYOUTS[i % len(LAYOUTS)],
            content_seed=i,
        )
        for i in range(pages)
    ]
    for start in range(0, pages, per_file):
        chunk = all_specs[start : start + per_file]
        texts: list[str] = []
        if dense:
            head = text_of(chunk[0])[0].splitlines()[:12]
            texts = ["\n".join([*head, body]) for body in dense_pages(chunk)]
        else:
            for spec in chunk:
                texts.extend(text_of(spec))
        files.append(write_text_pdf(texts, folder / f"doc{start:04d}.pdf"))
    return files


def bench_text(
    work: Path, pages: int, dense: bool, repeats: int = 3, against: Path | None = None
) -> dict[str, Any]:
    label = "dense" if dense else "light"
    files = write_text_corpus(work / f"text-pdfs-{label}", pages, dense)
    count = sum(_pdf_pages(f) for f in files)
    chars = sum(len(t) for f in files for t in _pdf_texts(f))
    runs = []
    reference: list[float] = []  # wall seconds of the other revision, interleaved
    for attempt in range(repeats):
        # Turn about: this code first, then the other revision's; the other way next time.
        order = [None, against] if attempt % 2 == 0 else [against, None]
        for code in order if against is not None else [None]:
            # A fresh site each run (the same files would be duplicates the second time).
            config = make_config(work / f"text-run-{label}-{attempt}-{code is None}", pages)
            if code is not None:
                reference.append(run_ingest(config, files, watch=False, code=code).seconds)
                continue
            # Start-up (imports, database, index) is paid once per run; measured on its own.
            begin = time.perf_counter()
            subprocess.run(
                [CHARTCLERK, "--config", str(config), "status"], check=True, capture_output=True
            )
            empty = time.perf_counter() - begin
            runs.append((run_ingest(config, files, watch=False), empty))
    ratios = [round(r.seconds / ref, 2) for (r, _), ref in zip(runs, reference, strict=False)]
    # The median run by wall time: this 2-core machine's speed drifts from run to run.
    runs.sort(key=lambda pair: pair[0].seconds)
    run, empty = runs[len(runs) // 2]
    elapsed = run.seconds
    outcomes = Counter(str(row["outcome"]) for row in run.rows)
    return {
        "stages_cpu_ms_per_page": stage_costs(files, config),
        "outcomes": dict(outcomes),
        "cpu_s": run.cpu_s,
        "pages_per_cpu_s": count / max(run.cpu_s, 1e-9),
        "pages": count,
        "chars_per_page": chars // max(count, 1),
        "ingest_s": elapsed,
        "runs_pages_per_s": [round(count / r.seconds) for r, _ in runs],
        "against_pages_per_s": sorted(round(count / ref) for ref in reference),
        "against_wall_ratios": ratios,
        "startup_s": empty,
        "pages_per_s": count / elapsed,
        "pages_per_s_after_startup": count / max(elapsed - empty, 1e-9),
    }


def _pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def _pdf_texts(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def bench_memory(work: Path, pages: int) -> dict[str, float]:
    folder = work / "memory"
    folder.mkdir()
    images = []
    for i, spec in enumerate(specs(pages)):
        images.append(render_pages(spec, seed=i)[0])
    pdf = write_image_pdf(images, folder / "big.pdf")
    del images
    config = make_config(work / "memory-run", pages)
    text = config.read_text().replace("max_pages: 500 ", f"max_pages: {max(pages, 500)} ")
    config.write_text(text)
    run = run_ingest(config, [pdf])
    return {"pages": pages, "ingest_s": run.seconds, "peak_rss_mib": run.peak_rss / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mix", action="store_true", help="only the realistic mix")
    parser.add_argument("--docs", type=int, default=30, help="documents in the mix")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved runs of the mix")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--text-pages", type=int, default=200)
    parser.add_argument(
        "--text-repeats", type=int, default=3, help="runs of each text-layer batch (median)"
    )
    parser.add_argument(
        "--against",
        "--text-against",
        dest="text_against",
        metavar="REV",
        help="also run each text-layer batch (or --startup run) on this git revision's code, "
        "interleaved",
    )
    parser.add_argument("--memory-pages", type=int, default=200)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-ocr", action="store_true", help="skip the clean-page ratio")
    parser.add_argument("--text-only", action="store_true", help="only the text-layer figures")
    parser.add_argument(
        "--startup", type=int, default=0, metavar="N", help="only start-up, measured N times"
    )
    parser.add_argument("--out", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="chartclerk-bench-") as tmp:
        work = Path(tmp)
        if args.startup:
            against = reference_tree(work, args.text_against) if args.text_against else None
            start = figures["startup"] = bench_startup(
                work, args.startup, args.seed, against=against
            )
            print(
                f"start-up until the first page is in tesseract ({start['files']} files of the "
                f"mix, {start['runs']} runs, load {start['load_avg']}): median "
                f"{start['median_s']:.2f} s, all {start['seconds']} (target <= 0.5)"
            )
            if against is not None:
                print(
                    f"  {args.text_against}'s code, interleaved: median "
                    f"{start['against_median_s']:.2f} s, all {start['against_seconds']}"
                )
            args.mix = args.text_only = True  # nothing else
            args.skip_memory = True
        if args.mix and not args.startup:
            figures["mix"] = bench_mix(work, args.docs, args.repeats, args.seed)
            print_mix(figures["mix"])
        if not args.mix and not args.text_only and not args.skip_ocr:
            ocr = bench_ocr(work, args.pages)
            figures["ocr"] = ocr
            print(
                f"OCR ingest: {ocr['pages']} clean pages in {ocr['ingest_s']:.1f} s; bare "
                f"tesseract ({WORKERS} at a time) {ocr['bare_tesseract_s']:.1f} s; "
                f"ratio {ocr['ratio']:.2f} (target <= 1.2)"
            )
        if not args.mix:
            against = reference_tree(work, args.text_against) if args.text_against else None
            for dense in (False, True):
                text = bench_text(work, args.text_pages, dense, args.text_repeats, against)
                figures[f"text_{'dense' if dense else 'light'}"] = text
                print(
                    f"text-layer PDFs ({'dense' if dense else 'light'}, "
                    f"{text['chars_per_page']} chars/page): {text['pages']} pages in "
                    f"{text['ingest_s']:.2f} s = {text['pages_per_s']:.0f} pages/s with start-up, "
                    f"the median of {text['runs_pages_per_s']} "
                    f"({text['pages_per_s_after_startup']:.0f} after {text['startup_s']:.2f} s "
                    f"for `status`; target >= 100); {text['pages_per_cpu_s']:.0f} pages per CPU "
                    f"second of the ingest tree; files {text['outcomes']}"
                )
                stages = ", ".join(
                    f"{name.removesuffix('_ms')} {ms:.1f}"
                    for name, ms in text["stages_cpu_ms_per_page"].items()
                )
                print(f"  CPU ms a page, each stage alone: {stages}")
                if against is not None:
                    print(
                        f"  the same files on {args.text_against}'s code, interleaved: "
                        f"{text['against_pages_per_s']} pages/s; wall of this code / that "
                        f"code, run by run: {text['against_wall_ratios']}"
                    )
        if not args.mix and not args.text_only and not args.skip_memory:
            mem = bench_memory(work, args.memory_pages)
            figures["memory"] = mem
            print(
                f"memory: {mem['pages']}-page image PDF in {mem['ingest_s']:.0f} s, peak RSS "
                f"{mem['peak_rss_mib']:.0f} MiB with workers (target < 1024)"
            )
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
