"""What a synthetic document shows (DocumentSpec) and what a careful clerk does with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from synthetic.patients import SyntheticPatient

DOC_TYPES: tuple[str, ...] = (
    "lab_report",
    "radiology_report",
    "progress_note",
    "discharge_summary",
    "history_physical",
    "operative_report",
    "consent",
    "consult_note",
)
TITLES: dict[str, str] = {
    "lab_report": "LABORATORY REPORT",
    "radiology_report": "RADIOLOGY REPORT",
    "progress_note": "PROGRESS NOTE",
    "discharge_summary": "DISCHARGE SUMMARY",
    "history_physical": "HISTORY AND PHYSICAL",
    "operative_report": "OPERATIVE REPORT",
    "consent": "CONSENT FOR TREATMENT/PROCEDURE",
    "consult_note": "CONSULTATION NOTE",
}
BASE_LAYOUTS: tuple[str, ...] = ("labelled", "last_first", "table", "sticker", "fax")
# Pages that name people besides the patient (see synthetic.role_pages).
ROLE_LAYOUTS: tuple[str, ...] = ("face_sheet", "letter", "fax_cover", "orders", "outside_record")
LAYOUTS: tuple[str, ...] = BASE_LAYOUTS + ROLE_LAYOUTS
# Roles of other people a page may name, and how a letter names its patient.
OTHER_ROLES: tuple[str, ...] = ("guarantor", "subscriber", "emergency_contact", "ordering",
                                "attending")  # fmt: skip
LETTER_STYLES: tuple[str, ...] = ("re", "your_patient", "honorific")
DATE_FORMATS: tuple[str, ...] = ("us", "iso", "long", "dmy_mon")
NAME_FORMS: tuple[str, ...] = ("registered", "nickname", "caps")
DEGRADATIONS: tuple[str, ...] = (
    "blur",
    "noise",
    "rotate_small",
    "skew_4",
    "rotate_90",
    "rotate_180",
    "rotate_270",
    "low_contrast",
    "jpeg",
)
CONFLICT_FIELDS: tuple[str, ...] = ("name", "dob")

REASON_CONFLICT = "identifier conflict"
REASON_UNKNOWN = "unknown patient"
REASON_NONE = "no identifiers"
REASON_AMBIGUOUS = "ambiguous candidates"
REASON_NAME_ONLY = "name only"
REVIEW_REASONS: tuple[str, ...] = (
    REASON_CONFLICT,
    REASON_UNKNOWN,
    REASON_NONE,
    REASON_AMBIGUOUS,
    REASON_NAME_ONLY,
)


@dataclass(frozen=True)
class DocumentSpec:
    """Everything that decides how a synthetic document looks.

    Attributes:
        patient: The patient whose MRN (and, unless in conflict, name and DOB) the page
            shows; None for a page without any patient.
        doc_type: One of ``DOC_TYPES``.
        layout: One of ``LAYOUTS``: ``labelled`` (Name:/MRN:/DOB: lines), ``last_first``
            (a ``DOE, JANE`` header line), ``table`` (column labels with values beneath),
            ``sticker`` (a label pasted slightly rotated over the letterhead rule) or
            ``fax`` (200 dpi bilevel page with a fax header line).
        date_format: How the DOB is printed: ``us`` 03/14/1962, ``iso`` 1962-03-14,
            ``long`` March 14, 1962, ``dmy_mon`` 14-Mar-1962.
        show_mrn: Whether the MRN appears.
        show_name: Whether the name appears.
        show_dob: Whether the DOB appears.
        name_form: ``registered`` (as in the registry), ``nickname`` (the nickname in place
            of the given name, when there is one) or ``caps`` (all capitals).
        accession_number: A labelled accession number, or None. It may deliberately equal
            another patient's MRN (a decoy).
        account_number: A labelled account number, or None.
        encounter_number: A labelled encounter number, or None.
        conflict_with: Another patient whose name or DOB is shown next to ``patient``'s MRN.
        conflict_field: ``name`` or ``dob``: which of ``conflict_with``'s identifiers shows.
        pages: Number of pages, 1 to 3.
        degradations: Applied in order, from ``DEGRADATIONS``; empty for a clean scan.
        dpi: Resolution; None means 300, or 200 for the fax layout.
        content_seed: Seeds the letterhead, labels and body text, so the same spec always
            carries the same words whatever the render seed.
        others: Other people the page names, as ``(role, person)`` with a role from
            ``OTHER_ROLES`` (role layouts): never evidence about the patient.
        prior_mrn: A ``Prior MRN:``/``Outside MRN:`` printed on the page, or None.
        cover_for: Whom a fax cover's RE line names (``fax_cover``); None means the patient.
            Someone else there is a conflict.
        letter_style: How a ``letter`` names its patient, one of ``LETTER_STYLES``.
    """

    patient: SyntheticPatient | None
    doc_type: str
    layout: str = "labelled"
    date_format: str = "us"
    show_mrn: bool = True
    show_name: bool = True
    show_dob: bool = True
    name_form: str = "registered"
    accession_number: str | None = None
    account_number: str | None = None
    encounter_number: str | None = None
    conflict_with: SyntheticPatient | None = None
    conflict_field: str | None = None
    pages: int = 1
    degradations: tuple[str, ...] = ()
    dpi: int | None = None
    content_seed: int = 0
    others: tuple[tuple[str, SyntheticPatient], ...] = ()
    prior_mrn: str | None = None
    cover_for: SyntheticPatient | None = None
    letter_style: str = "re"

    def __post_init__(self) -> None:
        _check("doc_type", self.doc_type, DOC_TYPES)
        _check("layout", self.layout, LAYOUTS)
        _check("date_format", self.date_format, DATE_FORMATS)
        _check("name_form", self.name_form, NAME_FORMS)
        for name in self.degradations:
            _check("degradations", name, DEGRADATIONS)
        if not 1 <= self.pages <= 3:
            raise ValueError(f"pages must be 1 to 3, not {self.pages}")
        if (self.conflict_with is None) != (self.conflict_field is None):
            raise ValueError("conflict_with and conflict_field go together")
        if self.conflict_field is not None:
            _check("conflict_field", self.conflict_field, CONFLICT_FIELDS)
        for role, _ in self.others:
            _check("others", role, OTHER_ROLES)
        _check("letter_style", self.letter_style, LETTER_STYLES)

    @property
    def resolved_dpi(self) -> int:
        """The resolution the pages are drawn at."""
        if self.dpi is not None:
            return self.dpi
        return 200 if self.layout == "fax" else 300


@dataclass(frozen=True)
class GroundTruth:
    """What a careful records clerk would do with the document.

    Attributes:
        expected_action: ``file`` or ``review``.
        expected_mrn: The MRN to file to, or None for review.
        expected_review_reason: One of ``REVIEW_REASONS`` for review, else None.
        doc_type: The document type key.
        text_snippets: A few phrases of the body, for search tests.
    """

    expected_action: str
    expected_mrn: str | None
    expected_review_reason: str | None
    doc_type: str
    text_snippets: tuple[str, ...]


@dataclass(frozen=True)
class ShownIdentifiers:
    """The identifiers as they appear on the page (None when absent)."""

    mrn: str | None
    first: str | None
    last: str | None
    middle: str | None
    dob: date | None
    sex: str | None
    nickname_used: bool


def shown_identifiers(spec: DocumentSpec) -> ShownIdentifiers:
    """Work out which identifier values the page shows, conflicts included.

    Args:
        spec: The document.

    Returns:
        The shown values; the name is in its registered case.
    """
    p = spec.patient
    if p is None:
        return ShownIdentifiers(None, None, None, None, None, None, False)
    name_source = p
    dob_source = p
    if spec.conflict_with is not None:
        if spec.conflict_field == "name":
            name_source = spec.conflict_with
        else:
            dob_source = spec.conflict_with
    first = name_source.first_name
    nickname_used = spec.name_form == "nickname" and name_source.nickname is not None
    if nickname_used and name_source.nickname is not None:
        first = name_source.nickname
    show_name = spec.show_name
    return ShownIdentifiers(
        mrn=p.mrn if spec.show_mrn else None,
        first=first if show_name else None,
        last=name_source.last_name if show_name else None,
        middle=name_source.middle if show_name else None,
        dob=dob_source.dob if spec.show_dob else None,
        sex=p.sex,
        nickname_used=nickname_used and show_name,
    )


def _check(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{field}: {value!r} is not one of {', '.join(allowed)}")
