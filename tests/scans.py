"""Making input files for pipeline tests: generated scans, and broken files of every kind."""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfgen import canvas

from synthetic import DocumentSpec, SyntheticPatient, generate_patients, write_document


def patients() -> list[SyntheticPatient]:
    """The same small synthetic registry in every test."""
    return generate_patients(30, seed=11)


def spec_for(patient: SyntheticPatient, **changes: object) -> DocumentSpec:
    """A clean one-page labelled lab report for ``patient``, with any field changed."""
    fields: dict[str, object] = {"patient": patient, "doc_type": "lab_report", "layout": "labelled"}
    fields.update(changes)
    return DocumentSpec(**fields)  # type: ignore[arg-type]


def scan(folder: Path, patient: SyntheticPatient, kind: str, name: str, **changes: object) -> Path:
    """Write one generated document as ``kind`` (png, jpeg, tiff, pdf_text, ...) under ``name``."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_document(spec_for(patient, **changes), 7, folder, kind, name=name)


def encrypted_pdf(path: Path) -> Path:
    """A password-protected PDF (reportlab's standard encryption)."""
    pdf = canvas.Canvas(str(path), encrypt="secret")
    pdf.drawString(72, 720, "Confidential")
    pdf.save()
    return path


def truncated_pdf(source: Path, path: Path) -> Path:
    """The first third of a real PDF."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path
