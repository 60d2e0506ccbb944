"""Helpers for the desk's tests: synthetic records in a store, users, signed-in clients.

Synthetic patients only. Documents are stored the way the pipeline stores them (archive
copy by sha256, then the row) but without OCR, so these tests run in seconds.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from clerk.app import App
from records import users
from records.audit import Actor
from records.patients import import_patients
from records.store import NewDocument, NewPage, now

PATIENTS = [
    ("10000001", "Quill", "Ada", "1961-03-04", "F"),
    ("10000002", "Quill", "Adam", "1962-04-03", "M"),
    ("10000003", "Marsh", "Bertram", "1975-11-30", "M"),
    ("10000004", "Fenwick", "Cora", "1990-01-15", "F"),
]
ROLES = ("clerk", "supervisor", "viewer", "auditor")
PASSWORD = "correct horse battery staple"
ADMIN = Actor("test-setup", "cli")


def pdf_bytes(lines_per_page: list[list[str]]) -> bytes:
    """A text-layer PDF with these lines on its pages."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=letter)
    for lines in lines_per_page:
        y = 720
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def scan_bytes(dpi: int = 300, lines: tuple[str, ...] = ("LABORATORY REPORT",)) -> bytes:
    """A one-page letter-size grey scan (PNG) at ``dpi``."""
    image = Image.new("L", (int(8.5 * dpi), 11 * dpi), 250)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((dpi, dpi + i * dpi // 4), line, fill=10)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass
class DeskData:
    """What :func:`seed` put in the store."""

    review_ids: list[int] = field(default_factory=list)
    filed_id: int = 0
    quarantined_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)


def archive(app: App, data: bytes, folder: Path) -> str:
    """Put bytes in the archive; returns their sha256."""
    sha = hashlib.sha256(data).hexdigest()
    source = folder / f"{sha[:12]}.bin"
    source.write_bytes(data)
    app.store.archive.store(source, sha)
    source.unlink()
    return sha


def add_review_document(
    app: App, folder: Path, n: int, *, pages: int = 2, age_minutes: int = 0
) -> int:
    """A document waiting in review, with two ranked candidates (Ada and Adam Quill)."""
    texts = [
        [f"LABORATORY REPORT {n}", "Patient: QUILL, ADA  DOB 03/04/1961", "Hemoglobin 13.2 g/dL"]
    ] + [[f"Page {p} of report {n}", "Platelets 250"] for p in range(2, pages + 1)]
    sha = archive(app, pdf_bytes(texts), folder)
    decision = {
        "mrn": None,
        "reason": "ambiguous candidates",
        "candidates": [
            {"mrn": "10000001", "score": 12.5, "reasons": ["last name exact", "dob exact"]},
            {"mrn": "10000002", "score": 9.0, "reasons": ["last name exact", "dob day/month"]},
        ],
    }
    return app.store.add_document(
        NewDocument(
            sha256=sha,
            source_name=f"scan-{n:04d}.pdf",
            source_path=f"/inbox/scan-{n:04d}.pdf",
            status="review",
            media_type="application/pdf",
            size_bytes=1000,
            doc_type="lab_report",
            review_reason="ambiguous candidates",
            ocr_confidence=None,
            decision=decision,
            pages=[NewPage(i + 1, "\n".join(t), None, "text") for i, t in enumerate(texts)],
            identifiers=[("name", "QUILL, ADA", 1), ("dob", "1961-03-04", 1)],
            events=[("received", None)],
            received_at=now() - timedelta(minutes=age_minutes),
        )
    )


def seed(app: App, folder: Path, *, review_items: int = 3) -> DeskData:
    """Patients, review items (oldest first), one filed and one quarantined document, users."""
    registry = folder / "registry.csv"
    registry.write_text(
        "mrn,last_name,first_name,dob,sex\n" + "".join(",".join(p) + "\n" for p in PATIENTS),
        encoding="utf-8",
    )
    import_patients(app.store, registry, actor=ADMIN)
    data = DeskData()
    for n in range(review_items):
        data.review_ids.append(add_review_document(app, folder, n, age_minutes=100 - n))
    filed_sha = archive(app, pdf_bytes([["DISCHARGE SUMMARY", "Marsh Bertram zebrafish"]]), folder)
    data.filed_id = app.store.add_document(
        NewDocument(
            sha256=filed_sha,
            source_name="discharge.pdf",
            source_path="/inbox/discharge.pdf",
            status="filed",
            patient_mrn="10000003",
            doc_type="discharge_summary",
            pages=[NewPage(1, "DISCHARGE SUMMARY\nMarsh Bertram zebrafish", None, "text")],
        )
    )
    data.quarantined_id = app.store.add_document(
        NewDocument(
            sha256=None,
            source_name="broken.pdf",
            source_path="/inbox/broken.pdf",
            status="quarantined",
            review_reason="not a readable PDF",
        )
    )
    app.indexer.index_documents([*data.review_ids, data.filed_id])
    for role in ROLES:
        users.add_user(app.store, role, role, PASSWORD, actor=ADMIN)
        data.tokens[role] = users.new_token(app.store, role, actor=ADMIN)
    users.add_user(app.store, "clerk2", "clerk", PASSWORD, actor=ADMIN)
    return data


LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
CSRF = re.compile(r'name="csrf-token" content="([^"]*)"')


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    """Sign ``client`` in through the form; returns the POST response."""
    page = client.get("/login")
    token = LOGIN_TOKEN.search(page.text)
    assert token, "the sign-in form carries a token"
    return client.post(
        "/login",
        data={"username": name, "password": password, "login_token": token.group(1)},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its meta tag."""
    found = CSRF.search(html)
    assert found and found.group(1), "the page carries a CSRF token"
    return found.group(1)


def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the smallest parameters: the desk's tests are not about hashing cost.

    records.users hashes with argon2-cffi's recommended parameters (~0.1-0.7 s a hash on
    this machine); these tests sign in dozens of times.
    """
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
