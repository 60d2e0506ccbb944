"""The ingest pipeline end to end, with real tesseract on generated scans."""

from __future__ import annotations

from pathlib import Path

import pytest

from clerk.app import App
from records.audit import Actor
from records.patients import import_patients
from synthetic import write_registry_csv
from tests.scans import encrypted_pdf, patients, scan, truncated_pdf

pytestmark = pytest.mark.needs_tesseract


@pytest.fixture
def registry_app(app: App, tmp_path: Path) -> App:
    csv = write_registry_csv(patients(), tmp_path / "registry.csv")
    import_patients(app.store, csv, actor=Actor("test", "cli"))
    return app


def inbox(app: App) -> Path:
    folder = app.settings.inbox.path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize(
    ("kind", "pages", "sources"),
    [
        ("png", 1, {"ocr"}),
        ("jpeg", 1, {"ocr"}),
        ("tiff", 2, {"ocr"}),
        ("pdf_text", 2, {"text_layer"}),
        ("pdf_image", 1, {"ocr"}),
        ("pdf_mixed", 2, {"ocr", "text_layer"}),
    ],
)
def test_each_kind_of_file_becomes_one_readable_document(
    registry_app: App, kind: str, pages: int, sources: set[str]
) -> None:
    patient = patients()[3]
    path = scan(inbox(registry_app), patient, kind, f"drop.{kind}", pages=pages)
    outcome = registry_app.ingestor.ingest(path)
    assert outcome.kind in ("filed", "review")
    assert outcome.document_id is not None
    assert not path.exists(), "a stored file leaves the inbox"
    detail = registry_app.store.get_document(outcome.document_id)
    assert detail.summary.pages == pages
    assert {p.source for p in detail.pages} == sources
    assert "LABORATORY REPORT" in detail.text.upper()
    assert patient.mrn in detail.text.replace(" ", "")
    for page in detail.pages:
        if page.source == "ocr":
            assert page.confidence is not None and page.confidence > 60
    # The original bytes are in the archive, under their hash.
    assert registry_app.store.archive.contains(detail.summary.sha256 or "")


def test_a_clean_labelled_scan_is_filed_to_its_patient(registry_app: App) -> None:
    patient = patients()[5]
    path = scan(inbox(registry_app), patient, "png", "lab.png")
    outcome = registry_app.ingestor.ingest(path)
    assert (
        outcome.kind,
        registry_app.store.get_document(outcome.document_id or 0).summary.patient_mrn,
    ) == (
        "filed",
        patient.mrn,
    )


@pytest.mark.parametrize(
    ("degradation", "rotation"),
    [("rotate_180", 180), ("rotate_90", 270), ("rotate_270", 90), ("blur", 0), ("noise", 0)],
)
def test_turned_and_degraded_pages_read_right(
    registry_app: App, degradation: str, rotation: int
) -> None:
    patient = patients()[7]
    path = scan(inbox(registry_app), patient, "png", "turned.png", degradations=(degradation,))
    outcome = registry_app.ingestor.ingest(path)
    detail = registry_app.store.get_document(outcome.document_id or 0)
    # Tesseract's own layout analysis reads some quarter-turned pages as they are; what
    # matters is that the page reads, and that an upside-down page is turned.
    assert detail.pages[0].rotation in (rotation, 0)
    if rotation == 180:
        assert detail.pages[0].rotation == 180
    assert "LABORATORY REPORT" in detail.text.upper()
    assert patient.mrn in detail.text.replace(" ", "")


def test_an_exact_duplicate_is_recorded_not_stored_twice(registry_app: App) -> None:
    patient = patients()[2]
    first = scan(inbox(registry_app), patient, "pdf_text", "a.pdf")
    copy = inbox(registry_app) / "a-again.pdf"
    copy.write_bytes(first.read_bytes())
    one = registry_app.ingestor.ingest(first)
    two = registry_app.ingestor.ingest(copy)
    assert two.kind == "duplicate"
    assert two.document_id == one.document_id
    assert registry_app.store.count_documents() == 1
    assert not copy.exists()
    history = [e.kind for e in registry_app.store.get_document(one.document_id or 0).events]
    assert "duplicate received" in history


def _bad_inputs(folder: Path, good_pdf: Path) -> dict[str, tuple[Path, str]]:
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "notes.txt").write_text("Patient called about results.\n")
    (folder / "program.pdf").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(200))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00\xff" * 300)
    return {
        "empty": (folder / "empty.pdf", "empty file"),
        "text": (folder / "notes.txt", "not a PDF or an image"),
        "exe": (folder / "program.pdf", "not a PDF or an image"),
        "png": (folder / "broken.png", "unreadable image"),
        "corrupt": (folder / "corrupt.pdf", "unreadable PDF"),
        "truncated": (truncated_pdf(good_pdf, folder / "truncated.pdf"), "PDF"),
        "encrypted": (encrypted_pdf(folder / "locked.pdf"), "password-protected PDF"),
    }


def test_each_bad_file_is_quarantined_with_a_reason(registry_app: App, tmp_path: Path) -> None:
    good = scan(tmp_path / "src", patients()[1], "pdf_image", "good.pdf")
    cases = _bad_inputs(inbox(registry_app), good)
    for name, (path, reason) in cases.items():
        outcome = registry_app.ingestor.ingest(path)
        assert outcome.kind == "quarantined", name
        summary = registry_app.store.get_document(outcome.document_id or 0).summary
        assert summary.status == "quarantined"
        assert reason in (summary.review_reason or ""), (name, summary.review_reason)
        assert "\n" not in (summary.review_reason or "")
        assert not path.exists(), f"{name} left the inbox"
    kept = list(registry_app.settings.store.quarantine_dir.iterdir())
    assert len(kept) == len(cases)


def test_a_symlink_and_a_fifo_are_quarantined_never_followed(
    registry_app: App, tmp_path: Path
) -> None:
    import os

    secret = tmp_path / "outside.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    link = inbox(registry_app) / "link.png"
    link.symlink_to(secret)
    fifo = inbox(registry_app) / "pipe.pdf"
    os.mkfifo(fifo)
    for path, reason in ((link, "symbolic link"), (fifo, "not a regular file")):
        outcome = registry_app.ingestor.ingest(path)
        assert outcome.kind == "quarantined"
        assert reason in (outcome.reason or "")
        assert not path.exists() and not path.is_symlink()
    assert secret.exists(), "the link's target is never touched"


def test_ingest_outside_the_inbox_keeps_the_source(registry_app: App, tmp_path: Path) -> None:
    path = scan(tmp_path / "elsewhere", patients()[4], "pdf_text", "keep.pdf")
    outcome = registry_app.ingestor.ingest(path, release_source=False)
    assert outcome.kind in ("filed", "review")
    assert path.exists()
