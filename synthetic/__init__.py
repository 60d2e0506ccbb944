"""Seeded generator of synthetic patients and scanned documents with ground truth.

Everything here is invented: the names come from built-in lists of common names, the
hospitals and clinicians do not exist, and no real patient data is ever used.
"""

from synthetic.demo import write_demo_set
from synthetic.documents import (
    DocumentSpec,
    GroundTruth,
    ground_truth,
    make_corpus,
    render_pages,
)
from synthetic.files import text_of, write_document
from synthetic.patients import SyntheticPatient, generate_patients, write_registry_csv

__all__ = [
    "DocumentSpec",
    "GroundTruth",
    "SyntheticPatient",
    "generate_patients",
    "ground_truth",
    "make_corpus",
    "render_pages",
    "text_of",
    "write_demo_set",
    "write_document",
    "write_registry_csv",
]
