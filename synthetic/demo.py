"""A small, ready-to-ingest demo: a registry CSV and an inbox of mixed scans."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from chartclerk_files import atomic_path
from synthetic.corpus import make_corpus
from synthetic.files import write_document
from synthetic.patients import generate_patients, write_registry_csv
from synthetic.spec import DocumentSpec, GroundTruth

_IMAGE_KINDS_ONE_PAGE = ("png", "jpeg", "tiff", "pdf_image")
_IMAGE_KINDS_MULTI = ("tiff", "pdf_image", "pdf_mixed")


def write_demo_set(
    registry_csv: Path,
    inbox_folder: Path,
    n_patients: int = 40,
    n_docs: int = 12,
    seed: int = 0,
) -> list[tuple[Path, GroundTruth]]:
    """Write a registry CSV and drop a mix of scans into an inbox.

    Most documents are fileable, two go to review (an identifier conflict and an unknown
    patient or a name-only page), and one is a PDF with a text layer. Each file is written
    under a dot-name in the inbox and then renamed, so a watcher never sees half a file.

    Args:
        registry_csv: Where to write the registry (its folder is created).
        inbox_folder: The watched folder (created when missing).
        n_patients: Patients in the registry.
        n_docs: Documents to drop (at least 3).
        seed: Seed for everything.

    Returns:
        Each dropped file with its ground truth, in the order written.
    """
    if n_docs < 3:
        raise ValueError("a demo set needs at least 3 documents")
    patients = generate_patients(n_patients, seed)
    Path(registry_csv).parent.mkdir(parents=True, exist_ok=True)
    _atomic(Path(registry_csv), lambda tmp: write_registry_csv(patients, tmp))
    inbox = Path(inbox_folder)
    inbox.mkdir(parents=True, exist_ok=True)
    out = []
    for index, (spec, truth) in enumerate(_choose(make_corpus(patients, n_docs * 4, seed), n_docs)):
        kind = _kind(spec, index)
        final = inbox / f"demo_{index + 1:03d}{'.pdf' if kind.startswith('pdf') else _ext(kind)}"
        _atomic(final, partial(_write, spec, seed, kind))
        out.append((final, truth))
    return out


def _choose(
    corpus: list[tuple[DocumentSpec, GroundTruth]], n_docs: int
) -> list[tuple[DocumentSpec, GroundTruth]]:
    fileable = [c for c in corpus if c[1].expected_action == "file"]
    conflict = [c for c in corpus if c[1].expected_review_reason == "identifier conflict"]
    other = [c for c in corpus if c[1].expected_review_reason in ("unknown patient", "name only")]
    review = conflict[:1] + other[:1]
    chosen = fileable[: n_docs - len(review)] + review
    return chosen[:n_docs]


def _write(spec: DocumentSpec, seed: int, kind: str, tmp: Path) -> Path:
    return write_document(spec, seed, tmp.parent, kind, tmp.name)


def _kind(spec: DocumentSpec, index: int) -> str:
    if index == 0:
        return "pdf_text"
    kinds = _IMAGE_KINDS_ONE_PAGE if spec.pages == 1 else _IMAGE_KINDS_MULTI
    return kinds[index % len(kinds)]


def _ext(kind: str) -> str:
    return {"png": ".png", "jpeg": ".jpg", "tiff": ".tif"}[kind]


def _atomic(final: Path, write: Callable[[Path], object]) -> None:
    """Write through ``write(tmp_path)`` to a hidden file beside ``final``, then rename."""
    with atomic_path(final) as tmp:
        write(tmp)
