"""Ingest speed and memory, as ratios against bare tesseract on the same pages.

    .venv/bin/python benchmarks/bench_ingest.py [--pages 40] [--text-pages 200] [--memory-pages 200]

1. OCR: ``chartclerk ingest`` wall time on N generated 300-dpi single-page PNG scans,
   divided by bare ``tesseract PAGE -`` (OMP_THREAD_LIMIT=1) on the same files in the same
   run, with the same parallelism: as many at a time as the ingest has OCR workers
   (``--workers``, default one per core; the ingest's ``ocr.workers`` is set to it).
   Orientation checking is included (it is part of ingest).
2. Text layer: pages per second for PDFs with a text layer (no OCR).
3. Memory: peak RSS of the ingest process and its OCR workers while ingesting a 200-page
   image-only PDF.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synthetic import (  # noqa: E402
    DocumentSpec,
    generate_patients,
    render_pages,
    write_registry_csv,
)
from synthetic.files import text_of, write_image_pdf, write_png, write_text_pdf  # noqa: E402

CHARTCLERK = str(Path(sys.executable).with_name("chartclerk"))
LAYOUTS = ("labelled", "last_first", "table", "sticker")
TYPES = ("lab_report", "radiology_report", "progress_note", "discharge_summary", "consult_note")


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


def make_config(folder: Path, pages: int = 10, workers: int = 0) -> Path:
    """A fresh site whose patient index holds the patients on the generated pages.

    With the registry loaded most pages are filed, as at a hospital; an empty one would send
    every page to review and measure the review path instead.
    """
    text = (ROOT / "config.yaml").read_text().replace("stable_seconds: 2 ", "stable_seconds: 0.2 ")
    if workers:
        text = text.replace("workers: 0 ", f"workers: {workers} ")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text)
    registry = write_registry_csv(generate_patients(max(pages, 10), seed=5), folder / "reg.csv")
    subprocess.run(
        [CHARTCLERK, "--config", str(path), "patients", "import", str(registry)],
        check=True,
        capture_output=True,
    )
    return path


def run_ingest(config: Path, files: list[Path]) -> tuple[float, int]:
    """Wall seconds of `chartclerk ingest`, and the peak RSS (bytes) of it and its children."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [CHARTCLERK, "--config", str(config), "ingest", "--json", *map(str, files)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"chartclerk ingest exited {proc.returncode}")
    return elapsed, peak


def bare_tesseract(files: list[Path], workers: int) -> float:
    binary = shutil.which("tesseract")
    if binary is None:
        raise SystemExit("tesseract is not installed")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> None:
        subprocess.run([binary, str(path), "-"], check=True, capture_output=True, env=env)

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - start


def bench_ocr(work: Path, pages: int, workers: int) -> dict[str, float]:
    folder = work / "ocr-pages"
    folder.mkdir()
    files = []
    for i, spec in enumerate(specs(pages)):
        files.append(write_png(render_pages(spec, seed=i)[0], folder / f"page{i:03d}.png"))
    # The same parallelism on both sides: `workers` tesseracts at a time, `workers` OCR workers.
    reference = bare_tesseract(files, workers)
    ours, _ = run_ingest(make_config(work / "ocr-run", pages, workers), files)
    return {
        "pages": pages,
        "bare_tesseract_s": reference,
        "ingest_s": ours,
        "ratio": ours / reference,
    }


def bench_text(work: Path, pages: int) -> dict[str, float]:
    folder = work / "text-pdfs"
    folder.mkdir()
    files = []
    per_file = 10
    all_specs = specs(pages)
    for start in range(0, pages, per_file):
        texts: list[str] = []
        for spec in all_specs[start : start + per_file]:
            texts.extend(text_of(spec))
        files.append(write_text_pdf(texts, folder / f"doc{start:04d}.pdf"))
    config = make_config(work / "text-run", pages)
    # Start-up (imports, database, index) is paid once per run; measure it on its own.
    begin = time.perf_counter()
    subprocess.run([CHARTCLERK, "--config", str(config), "status"], check=True, capture_output=True)
    empty = time.perf_counter() - begin
    elapsed, _ = run_ingest(config, files)
    return {
        "pages": pages,
        "ingest_s": elapsed,
        "startup_s": empty,
        "pages_per_s": pages / elapsed,
        "pages_per_s_after_startup": pages / max(elapsed - empty, 1e-9),
    }


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
    elapsed, peak = run_ingest(config, [pdf])
    return {"pages": pages, "ingest_s": elapsed, "peak_rss_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="OCR at a time, both sides"
    )
    parser.add_argument("--text-pages", type=int, default=200)
    parser.add_argument("--memory-pages", type=int, default=200)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chartclerk-bench-") as tmp:
        work = Path(tmp)
        ocr = bench_ocr(work, args.pages, args.workers)
        print(
            f"OCR ingest: {ocr['pages']} pages in {ocr['ingest_s']:.1f} s; bare tesseract "
            f"({args.workers} at a time) {ocr['bare_tesseract_s']:.1f} s; "
            f"ratio {ocr['ratio']:.2f} (target <= 1.2)"
        )
        text = bench_text(work, args.text_pages)
        print(
            f"text-layer PDFs: {text['pages']} pages in {text['ingest_s']:.1f} s = "
            f"{text['pages_per_s']:.0f} pages/s ({text['pages_per_s_after_startup']:.0f} pages/s "
            f"after {text['startup_s']:.1f} s start-up; target >= 50)"
        )
        if not args.skip_memory:
            mem = bench_memory(work, args.memory_pages)
            print(
                f"memory: {mem['pages']}-page image PDF in {mem['ingest_s']:.0f} s, peak RSS "
                f"{mem['peak_rss_mib']:.0f} MiB with workers (target < 1024)"
            )


if __name__ == "__main__":
    main()
