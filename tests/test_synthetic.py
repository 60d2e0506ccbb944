"""The synthetic patients and documents: deterministic, well-formed, honest ground truth."""

from __future__ import annotations

import csv
import os
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

from synthetic import (
    DocumentSpec,
    generate_patients,
    ground_truth,
    make_corpus,
    render_pages,
    text_of,
    write_demo_set,
    write_document,
    write_registry_csv,
)
from synthetic.spec import REVIEW_REASONS

SEED = 7


@pytest.fixture(scope="module")
def patients():
    return generate_patients(40, SEED)


def _spec(patient, **kw) -> DocumentSpec:
    base = {"doc_type": "lab_report", "layout": "labelled", "content_seed": 11}
    return DocumentSpec(patient=patient, **{**base, **kw})


def test_patients_are_deterministic_per_seed():
    assert generate_patients(30, 1) == generate_patients(30, 1)
    assert generate_patients(30, 1) != generate_patients(30, 2)


def test_mrns_are_unique_eight_digit_strings(patients):
    mrns = [p.mrn for p in patients]
    assert len(set(mrns)) == len(mrns)
    assert all(len(m) == 8 and m.isdigit() for m in mrns)
    assert any(m.startswith("0") for m in mrns)


def test_hard_cases_are_present(patients):
    by_family = Counter((p.last_name, p.dob) for p in patients)
    twins = [k for k, n in by_family.items() if n > 1]
    assert any(
        len({p.first_name for p in patients if (p.last_name, p.dob) == k}) > 1 for k in twins
    )
    full = Counter((p.first_name, p.last_name) for p in patients)
    namesakes = [k for k, n in full.items() if n > 1]
    dobs = {k: {p.dob for p in patients if (p.first_name, p.last_name) == k} for k in namesakes}
    assert any(len(d) > 1 for d in dobs.values()), "namesakes with different DOB"
    same = Counter((p.first_name, p.last_name, p.dob) for p in patients)
    assert any(n > 1 for n in same.values()), "namesakes with the same DOB"
    lasts = {p.last_name for p in patients}
    assert any("-" in last for last in lasts)
    assert "O'Brien" in lasts and "D'Angelo" in lasts
    assert {"José", "Zoë"} <= {p.first_name for p in patients}
    assert any(p.nickname for p in patients)


def test_registry_csv(tmp_path, patients):
    path = write_registry_csv(patients, tmp_path / "registry.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["mrn", "last_name", "first_name", "dob", "sex"]
    assert len(rows) == len(patients) + 1
    first = patients[0]
    assert rows[1] == [
        first.mrn,
        first.last_name,
        first.first_name,
        first.dob.isoformat(),
        first.sex,
    ]


def test_corpus_is_deterministic_and_mixed(patients):
    corpus = make_corpus(patients, 40, SEED)
    assert corpus == make_corpus(patients, 40, SEED)
    actions = Counter(t.expected_action for _, t in corpus)
    assert actions["file"] > actions["review"] > 0
    reasons = {t.expected_review_reason for _, t in corpus} - {None}
    assert reasons == set(REVIEW_REASONS)
    for spec, truth in corpus:
        assert (truth.expected_mrn is not None) == (truth.expected_action == "file")
        assert truth.doc_type == spec.doc_type
        page_one = text_of(spec)[0]
        assert all(snippet in page_one for snippet in truth.text_snippets)


def test_render_is_deterministic_and_letter_sized(patients):
    spec = _spec(patients[0], degradations=("rotate_small", "noise"), pages=2)
    pages = render_pages(spec, 3)
    assert len(pages) == 2
    assert pages[0].size == (2550, 3300)
    assert pages[0].tobytes() == render_pages(spec, 3)[0].tobytes()
    fax = render_pages(replace(spec, layout="fax", degradations=()), 3)[0]
    assert fax.mode == "1" and fax.size == (1700, 2200)


@pytest.mark.parametrize("layout", ["labelled", "last_first", "table", "sticker", "fax"])
def test_every_layout_shows_its_identifiers(patients, layout):
    patient = patients[0]
    text = text_of(_spec(patient, layout=layout, date_format="iso"))[0]
    assert patient.mrn in text
    assert patient.dob.isoformat() in text
    assert patient.last_name in text
    assert "LABORATORY REPORT" in text


def test_conflict_goes_to_review(patients):
    a, b = patients[0], patients[1]
    for field in ("name", "dob"):
        spec = _spec(a, conflict_with=b, conflict_field=field)
        truth = ground_truth(spec, patients)
        assert truth.expected_action == "review"
        assert truth.expected_review_reason == "identifier conflict"


def test_ground_truth_rules(patients):
    p = patients[0]
    assert ground_truth(_spec(p), patients).expected_mrn == p.mrn
    assert ground_truth(_spec(p, show_name=False), patients).expected_mrn == p.mrn
    name_only = _spec(p, show_mrn=False, show_dob=False)
    assert ground_truth(name_only, patients).expected_review_reason == "name only"
    nothing = _spec(None)
    assert ground_truth(nothing, patients).expected_review_reason == "no identifiers"
    assert ground_truth(_spec(p), patients[1:]).expected_review_reason == "unknown patient"
    decoy = _spec(p, accession_number=patients[1].mrn)
    assert ground_truth(decoy, patients).expected_mrn == p.mrn
    same = Counter((q.first_name, q.last_name, q.dob) for q in patients)
    namesake = next(q for q in patients if same[(q.first_name, q.last_name, q.dob)] > 1)
    ambiguous = ground_truth(_spec(namesake, show_mrn=False), patients)
    assert ambiguous.expected_review_reason == "ambiguous candidates"
    assert ground_truth(_spec(namesake), patients).expected_mrn == namesake.mrn


def test_spec_rejects_unknown_values(patients):
    with pytest.raises(ValueError, match="layout"):
        _spec(patients[0], layout="poster")
    with pytest.raises(ValueError, match="pages"):
        _spec(patients[0], pages=4)


@pytest.mark.parametrize(
    ("kind", "pages"),
    [("png", 1), ("jpeg", 1), ("tiff", 3), ("pdf_image", 2), ("pdf_text", 2), ("pdf_mixed", 3)],
)
def test_writers_produce_readable_files(tmp_path, patients, kind, pages):
    spec = _spec(patients[2], pages=pages, layout="fax" if kind == "tiff" else "table")
    path = write_document(spec, 1, tmp_path, kind)
    assert path.exists() and path.stat().st_size > 0
    if kind.startswith("pdf"):
        with pdfplumber.open(path) as pdf:
            assert len(pdf.pages) == pages
            width, height = pdf.pages[0].width, pdf.pages[0].height
            assert (round(width), round(height)) == (612, 792)
            text = pdf.pages[0].extract_text() or ""
        assert (patients[2].mrn in text) == (kind != "pdf_image")
    else:
        with Image.open(path) as image:
            assert getattr(image, "n_frames", 1) == pages
            if kind == "tiff":
                assert image.mode == "1" and image.info.get("compression") == "group4"


def test_single_page_formats_refuse_multipage_specs(tmp_path, patients):
    with pytest.raises(ValueError, match="one page"):
        write_document(_spec(patients[0], pages=2), 1, tmp_path, "png")


def test_demo_set(tmp_path):
    dropped = write_demo_set(tmp_path / "registry.csv", tmp_path / "inbox", 20, 6, seed=3)
    assert len(dropped) == 6
    names = sorted(p.name for p in (tmp_path / "inbox").iterdir())
    assert names == sorted(p.name for p, _ in dropped)  # no temp files left behind
    actions = Counter(t.expected_action for _, t in dropped)
    assert actions == {"file": 4, "review": 2}
    assert sum(p.suffix == ".pdf" for p, _ in dropped) >= 1


@pytest.mark.needs_tesseract
def test_tesseract_reads_a_clean_labelled_page(patients, monkeypatch):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    import pytesseract

    monkeypatch.setitem(os.environ, "OMP_THREAD_LIMIT", "1")
    spec = _spec(patients[3], doc_type="radiology_report")
    text = pytesseract.image_to_string(render_pages(spec, 0)[0])
    assert patients[3].mrn in text.replace(" ", "")
    assert "RADIOLOGY REPORT" in text


def test_registry_csv_path_type(tmp_path, patients):
    assert isinstance(write_registry_csv(patients[:2], tmp_path / "r.csv"), Path)
