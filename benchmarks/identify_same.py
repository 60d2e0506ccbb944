"""Whether this tree's ``find_on_page`` gives exactly what another revision's gives.

    .venv/bin/python benchmarks/identify_same.py --against main [--ocr 40] [--cache DIR]

A change made for speed in identification must not change a single finding: a different
value, role or order could file a document to another patient. This script builds one set of
pages, runs ``find_on_page`` on every one of them under several settings in a separate
process for each tree (``git archive`` of the revision, and this tree), and compares the
findings by value and by ``repr`` (so a ``date`` is no ``str``). This tree runs the pages
one settings after another in reading order, and again in reverse with every settings on a
page before the next, so no cache carries one page's or settings' findings to another.

The pages:

* the dense and light text-layer corpora of ``bench_ingest.py --text-only`` (written here;
  ``--corpus`` names other folders of PDFs instead), read as the workers read them;
* every page ``synthetic.content.text_of`` makes for every layout, document type, date
  format and name form, and the role corpus of ``bench_accuracy.py --layouts roles``: each
  as bare text (no words, as some readers give), with words in jittered boxes (OCR-like,
  tesseract's block/paragraph/line numbers on half of them, so stickers are looked for),
  and a share of them as text-layer PDFs read back;
* label soup as in ``tests/test_properties.py`` and names, titles and credentials as in
  ``tests/test_identify_shortcuts.py``, with words at random places;
* ``--ocr N`` generated scans read by tesseract (cached in ``--cache``: slow to make).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import random
import subprocess
import sys
import tarfile
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_VARIANTS = ("default", "config", "dmy", "custom", "default, no day")


def _settings(name: str) -> Any:
    from clerk.config import load_config
    from scanner.identifying.identifiers import IdentifierSettings

    if name.startswith("default"):
        return IdentifierSettings()
    if name == "config":
        return load_config(ROOT / "config.yaml").filing.identifiers
    if name == "dmy":
        return IdentifierSettings(date_order="dmy", two_digit_year_pivot=10)
    base = IdentifierSettings()
    roles = base.roles.model_copy(
        update={"titles": ["Dr.", "Prof."], "credentials": ["MD", "RN", "PhD", "D.O."]}
    )
    return IdentifierSettings.model_validate(
        base.model_dump()
        | {
            "mrn_labels": [*base.mrn_labels, "Patient Number", "ID"],
            "mrn_pattern": r"\d{8}",
            "mrn_check_digit": "mod10",
            "stop_labels": [*base.stop_labels, "Ward Clerk"],
            "roles": roles.model_dump(),
        }
    )


def _jittered(text: str, rng: random.Random, tesseract_lines: bool) -> tuple[Any, ...]:
    """Words of ``text`` in boxes as a scan would place them: uneven gaps, tilt and sizes."""
    from scanner.reading.pagetext import Word

    words = []
    height = rng.choice((8.0, 10.0, 24.0, 33.0))
    tilt = rng.uniform(-0.02, 0.02)
    for number, line in enumerate(text.splitlines(), 1):
        left = 40.0 + rng.uniform(-3, 3)
        top = 30.0 + number * height * rng.choice((1.1, 1.3, 1.6))
        for token in line.split(" "):
            if not token:
                left += height * 0.5  # runs of spaces: a cell gap
                continue
            width = len(token) * height * rng.uniform(0.45, 0.6)
            jitter = rng.uniform(-0.3, 0.3) * height + tilt * left
            block = (1 + number // 7) if tesseract_lines else 0
            words.append(
                Word(
                    token,
                    left,
                    top + jitter,
                    width,
                    height * rng.uniform(0.8, 1.2),
                    rng.uniform(30, 96),
                    block,
                    1 if tesseract_lines else 0,
                    number if tesseract_lines else 0,
                )  # fmt: skip
            )
            left += width + height * rng.choice((0.3, 0.35, 0.5, 1.2, 2.5))
    if rng.random() < 0.3:
        rng.shuffle(words)  # the order a reader gives need not be the reading order
    return tuple(words)


def _specs() -> list[Any]:
    from synthetic import DocumentSpec, generate_patients
    from synthetic.role_corpus import make_merges, make_role_corpus
    from synthetic.spec import DATE_FORMATS, DOC_TYPES, LAYOUTS, NAME_FORMS

    patients = generate_patients(60, seed=23)
    specs = []
    i = 0
    for layout in LAYOUTS:
        for doc_type in DOC_TYPES:
            for date_format in DATE_FORMATS:
                patient = patients[i % len(patients)]
                specs.append(
                    DocumentSpec(
                        patient,
                        doc_type,
                        layout=layout,
                        date_format=date_format,
                        name_form=NAME_FORMS[i % len(NAME_FORMS)],
                        pages=1 + i % 3,
                        content_seed=i,
                        accession_number=f"{40000000 + i}" if i % 4 else None,
                        account_number=f"A{700000 + i}" if i % 5 == 1 else None,
                        show_mrn=i % 7 != 3,
                        show_dob=i % 9 != 4,
                    )  # fmt: skip
                )
                i += 1
    merges = make_merges(patients, seed=3)
    specs += [spec for spec, _ in make_role_corpus(patients, 240, 5, merges)]
    return specs


def _soup(rng: random.Random) -> str:
    sys.path.insert(0, str(ROOT))
    from tests.test_identify_shortcuts import PEOPLE
    from tests.test_properties import FRAGMENTS, LABELS

    parts = []
    for _ in range(rng.randrange(60)):
        kind = rng.random()
        if kind < 0.3:
            parts.append(rng.choice(LABELS))
        elif kind < 0.6:
            parts.append(rng.choice(PEOPLE))
        elif kind < 0.9:
            parts.append(rng.choice(FRAGMENTS))
        else:
            parts.append("".join(rng.choice("Ab1 :,.\n-#|") for _ in range(rng.randrange(8))))
    return " ".join(parts)


def build_pages(corpora: list[Path], ocr: int, cache: Path) -> list[Any]:
    """The page set described in the module docstring."""
    from text_worker_costs import jobs_of

    from scanner.ocr import read_page
    from scanner.reading.pagetext import PageText, Word
    from synthetic.content import text_of
    from synthetic.files import write_text_pdf

    pages: list[Any] = []
    for folder in corpora:
        pages += [read_page(job) for job in jobs_of(sorted(folder.glob("*.pdf")))]
    rng = random.Random(7)
    texts = [t for spec in _specs() for t in text_of(spec)]
    with tempfile.TemporaryDirectory() as tmp:
        for n, text in enumerate(texts):
            pages.append(PageText(1, text))
            ocr_like = _jittered(text, rng, tesseract_lines=n % 2 == 0)
            pages.append(PageText(2, text, ocr_like, confidence=80.0))
            pages.append(PageText(3, text, ocr_like, source="text_layer"))
            if n % 6 == 0:
                path = write_text_pdf([text], Path(tmp) / f"t{n}.pdf")
                pages += [read_page(job) for job in jobs_of([path])]
    for n in range(1200):
        text = _soup(rng)
        boxes = tuple(
            Word(
                w,
                rng.uniform(-50, 900),
                rng.uniform(-50, 900),
                rng.uniform(0, 200),
                rng.choice((0.0, rng.uniform(0, 40))),
                line=i // 4,
                block=n % 2,
            )  # fmt: skip
            for i, w in enumerate(text.split())
        )
        pages.append(PageText(1, text, boxes if n % 3 else ()))
    if ocr:
        pages += _ocr_pages(ocr, cache)
    return [dataclasses.replace(p, findings=None) for p in pages]


def _ocr_pages(count: int, cache: Path) -> list[Any]:
    """Generated scans (every base and role layout, some degraded) read by tesseract."""
    saved = cache / f"ocr_pages_{count}.pkl"
    if saved.exists():
        return list(pickle.loads(saved.read_bytes()))
    from scanner.ocr import read_page
    from synthetic.files import write_document

    specs = _specs()
    rng = random.Random(11)
    chosen = [s for s in specs if s.layout in ("sticker", "table")][: count // 2]
    chosen += rng.sample(specs, count - len(chosen))
    pages = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, spec in enumerate(chosen):
            if n % 3 == 0:
                spec = dataclasses.replace(spec, degradations=("noise", "rotate_small"))
            spec = dataclasses.replace(spec, pages=1)
            path = write_document(spec, n, Path(tmp), "png", name=f"s{n}.png")
            pages += [read_page(job) for job in _image_jobs(path)]
    cache.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(pickle.dumps(pages))
    return pages


def _image_jobs(path: Path) -> list[Any]:
    from clerk.config import load_config
    from scanner.reading.pages import ReadOptions, plan_pages

    config = load_config(ROOT / "config.yaml")
    options = ReadOptions.from_settings(config.ocr, config.ingest)
    return plan_pages(path, "image/png", options, config.ocr.text_layer_min_chars)


def find_all(pages_file: Path, out: Path, reverse: bool) -> None:
    """Run this tree's ``find_on_page`` on every page under every settings variant."""
    from scanner.identifying.identifiers import find_on_page

    pages = pickle.loads(pages_file.read_bytes())
    results: dict[tuple[str, int], tuple[Any, ...]] = {}
    variants = [(v, _settings(v), None if "no day" in v else date(2025, 6, 30))
                for v in SETTINGS_VARIANTS]  # fmt: skip
    # In order, one settings after another; in reverse, every settings on a page before the
    # next page, so that nothing kept for one settings or day could serve another.
    runs = (
        [(v, i) for i in reversed(range(len(pages))) for v in variants]
        if reverse
        else [(v, i) for v in variants for i in range(len(pages))]
    )
    for (name, settings, today), i in runs:
        findings = find_on_page(pages[i], settings, today=today)
        results[name, i] = (findings.key, findings.values, findings.unlabelled)
    out.write_bytes(pickle.dumps(results))


def _run(tree: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_THREAD_LIMIT": "1"}
    subprocess.run(
        [sys.executable, str(tree / "benchmarks" / "identify_same.py"), *args],
        cwd=tree, env=env, check=True,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--ocr", type=int, default=0, help="generated scans read by tesseract")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/identify_same"))
    parser.add_argument("--corpus", type=Path, action="append", help="folders of PDFs")
    parser.add_argument("--rebuild", action="store_true", help="make the pages again")
    parser.add_argument("--find", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reverse", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    if args.find:
        pages_file, out = args.find
        find_all(pages_file, out, reverse=args.reverse)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        saved = args.cache / f"pages_{args.ocr}.pkl"
        if saved.exists() and not args.rebuild:
            pages = pickle.loads(saved.read_bytes())
        else:
            from bench_ingest import write_text_corpus

            corpora = args.corpus or [
                write_text_corpus(work / kind, 200, kind == "dense")[0].parent
                for kind in ("dense", "light")
            ]
            pages = build_pages(corpora, args.ocr, args.cache)
            args.cache.mkdir(parents=True, exist_ok=True)
            saved.write_bytes(pickle.dumps(pages))
        (work / "pages.pkl").write_bytes(pickle.dumps(pages))
        reference = work / "reference"
        reference.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", args.against],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        (work / "ref.tar").write_bytes(archive)
        with tarfile.open(work / "ref.tar") as tar:
            tar.extractall(reference, filter="data")
        script = Path(__file__).resolve()
        (reference / "benchmarks" / "identify_same.py").write_bytes(script.read_bytes())
        _run(reference, "--find", str(work / "pages.pkl"), str(work / "ref.pkl"))
        _run(ROOT, "--find", str(work / "pages.pkl"), str(work / "new.pkl"))
        _run(ROOT, "--find", str(work / "pages.pkl"), str(work / "rev.pkl"), "--reverse")
        ref = pickle.loads((work / "ref.pkl").read_bytes())
        differ = 0
        for name in ("new.pkl", "rev.pkl"):
            new = pickle.loads((work / name).read_bytes())
            assert new.keys() == ref.keys()
            for key, expected in ref.items():
                if new[key] != expected or repr(new[key]) != repr(expected):
                    differ += 1
                    if differ <= 5:
                        print(f"DIFFERENT {name} {key}:\n  {expected!r}\n  {new[key]!r}")
        values = sum(len(v[1]) for v in ref.values())
        kinds = {"text_layer": 0, "ocr words": 0, "no words": 0}
        for p in pages:
            kinds[
                "text_layer" if p.source == "text_layer" else "ocr words" if p.words else "no words"
            ] += 1
        print(
            f"{len(pages)} pages ({kinds}) x {len(SETTINGS_VARIANTS)} settings, {values} values "
            f"from {args.against}: {'SAME' if not differ else f'{differ} DIFFERENT'}"
        )
        return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
