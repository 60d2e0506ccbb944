"""Whose identifier is this: the patient's, or someone else's that the page also names.

Hospital paper names many people besides the patient: a face sheet lists the guarantor, the
insurance subscriber and an emergency contact, each with a name and often a date of birth; a
lab report names its ordering physician; a letter its author. Each name, date of birth and
sex read from a page is tagged with a role, from its label (``Guarantor DOB:``) or its place
(the lines under a ``GUARANTOR`` heading). Only the patient's count when matching.

Where the role is unclear the value stays the patient's: a value wrongly taken for the
patient's can only add a contradiction (review), while one wrongly set aside could hide one.
Pure: lines and settings in, roles out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from scanner.identifying.kept import Kept
from scanner.identifying.labels import ROLE_PREFIX, LabelFinder, LabelHit

PATIENT = "patient"
PRIOR_MRN = "prior_mrn"
SUBJECT = "subject"
PROVIDER = "provider"
# Roles whose names are the document's providers (stored with it, for chart completeness).
PROVIDER_ROLES = frozenset({"ordering", "attending", "referring", "author", PROVIDER})
# Roles of people who are not the patient but may carry a date of birth and a sex.
PERSON_ROLES = frozenset({"guarantor", "subscriber", "emergency_contact"})

_FILLER_WORDS = re.compile(r"\b(?:information|info|details?|data)\b")
_CAPS_HEADING = re.compile(r"^[A-Z][A-Z &/'’\-]{1,60}:?$")


class RoleSettings(BaseModel):
    """Labels and words that say whose identifier a value is (``filing.identifiers.roles``)."""

    model_config = ConfigDict(extra="forbid")

    guarantor: list[str] = Field(
        default_factory=lambda: ["Guarantor", "Responsible Party", "Resp Party", "Guarantor Name"]
    )
    subscriber: list[str] = Field(
        default_factory=lambda: [
            "Subscriber", "Subscriber Name", "Insured", "Insured's", "Insured’s", "Insured Name",
            "Policy Holder", "Policyholder", "Policy Holder Name",
        ]
    )  # fmt: skip
    emergency_contact: list[str] = Field(
        default_factory=lambda: [
            "Emergency Contact", "Emergency Contact Name", "Next of Kin", "NOK",
            "In Case of Emergency", "ICE Contact",
        ]
    )  # fmt: skip
    ordering: list[str] = Field(
        default_factory=lambda: [
            "Ordering", "Ordering Physician", "Ordering Provider", "Ordered By",
            "Requesting Physician", "Requested By",
        ]
    )  # fmt: skip
    attending: list[str] = Field(
        default_factory=lambda: [
            "Attending", "Attending Physician", "Attending Provider", "Admitting Physician",
            "Physician", "Provider", "Doctor", "PCP", "Primary Care Physician", "Surgeon",
        ]
    )  # fmt: skip
    referring: list[str] = Field(
        default_factory=lambda: ["Referring", "Referring Physician", "Referring Provider",
                                 "Referred By", "cc"]
    )  # fmt: skip
    author: list[str] = Field(
        default_factory=lambda: [
            "Signed by", "Electronically signed by", "Dictated by", "Author", "Authored by",
            "Reviewed by", "Verified by",
        ]
    )  # fmt: skip
    prior_mrn: list[str] = Field(
        default_factory=lambda: [
            "Prior MRN", "Previous MRN", "Old MRN", "Former MRN", "Outside MRN", "External MRN",
            "Other MRN", "Prior Medical Record Number", "Outside Medical Record No",
            "Referring Facility MRN",
        ]
    )  # fmt: skip
    subject: list[str] = Field(default_factory=lambda: ["RE", "Re", "Regarding", "Subject"])
    patient_headings: list[str] = Field(
        default_factory=lambda: [
            "Patient", "Patient Information", "Patient Demographics", "Patient Info",
        ]
    )  # fmt: skip
    titles: list[str] = Field(default_factory=lambda: ["Dr.", "Dr", "Doctor"])
    credentials: list[str] = Field(
        default_factory=lambda: [
            "MD", "M.D.", "DO", "D.O.", "NP", "APRN", "FNP", "PA", "PA-C", "RN", "CNM", "DPM",
            "MBBS", "PhD", "DDS",
        ]
    )  # fmt: skip
    honorifics: list[str] = Field(default_factory=lambda: ["Mr.", "Mrs.", "Ms.", "Miss", "Mx."])
    subject_phrases: list[str] = Field(
        default_factory=lambda: ["your patient", "our patient", "our mutual patient", "my patient"]
    )

    def labels(self) -> dict[str, list[str]]:
        """The role labels for a :class:`LabelFinder`, keyed ``role:<role>``."""
        roles = ("guarantor", "subscriber", "emergency_contact", "ordering", "attending",
                 "referring", "author", "prior_mrn", "subject")  # fmt: skip
        return {ROLE_PREFIX + role: list(getattr(self, role)) for role in roles}


def role_of(hit: LabelHit) -> str | None:
    """The role a label names (``guarantor``, ``ordering``, ...), None for a field label."""
    return hit.kind[len(ROLE_PREFIX) :] if hit.kind.startswith(ROLE_PREFIX) else None


_NOT_LETTERS = re.compile(r"[^a-z]+")


def _key(text: str) -> str:
    return _NOT_LETTERS.sub(" ", text.lower()).strip()


class Sections:
    """Which role the lines of one page are under: a heading sets it for the lines below.

    ``GUARANTOR`` alone on a line puts the lines under it in the guarantor's section until
    the next heading; ``PATIENT INFORMATION`` (or any other all-capitals heading, or a new
    page) brings them back to the patient.
    """

    def __init__(self, settings: RoleSettings) -> None:
        """Prepare the patient headings of ``settings``."""
        self._patient = {_key(h) for h in settings.patient_headings}
        self._person = {
            _key(label): role for role in PERSON_ROLES for label in getattr(settings, role)
        }
        # A document's pages repeat their header and footer lines, and looking at a line
        # costs 5 us (its words split and checked for letters), 0.3 ms a dense page.
        self._looks: Kept[str, tuple[str | None, str | None]] = Kept(self._look)

    def roles(self, lines: Sequence[str], finder: LabelFinder) -> list[str | None]:
        """The section role of every line; None for a heading line itself."""
        section = PATIENT
        out: list[str | None] = []
        for line in lines:
            heading = self.heading(line, finder)
            if heading is not None:
                section = heading
                out.append(None)
            else:
                out.append(section)
        return out

    def heading(self, line: str, finder: LabelFinder) -> str | None:
        """The role a heading line starts, or None when the line is no heading."""
        role, caps = self._looks[line]
        if caps is not None and not finder.find(caps):
            return PATIENT  # another section begins (INSURANCE, CHIEF COMPLAINT:)
        return role

    def _look(self, line: str) -> tuple[str | None, str | None]:
        """What :meth:`heading` tells from the line alone.

        A role the line names as a heading, or None and the text of a heading in capitals
        when the line is one (which it is unless that text holds a label).
        """
        line = _without_speck_value(line)
        if _LABELLED_VALUE.search(line):
            return None, None  # a label with its value (Patient ID: 7730021) heads nothing
        text = _without_specks(line)
        if not text or len(text) > 60:
            return None, None
        words = _FILLER_WORDS.sub("", _key(text)).strip()
        if words in self._patient:
            return PATIENT, None
        if words in self._person:
            return self._person[words], None
        caps = "," not in text and _CAPS_HEADING.match(text) and len(text.split()) <= 6
        return None, (text if caps else None)


_LABELLED_VALUE = re.compile(r"[:;#]\s*[^\W_]")
_LETTER = re.compile(r"[^\W\d_]")
_NOT_LETTER = re.compile(r"[\W\d_]")
_SPECK = re.compile(r"[\W_]*[a-z]{0,3}[\W_]*")


def _without_speck_value(line: str) -> str:
    """The line without a "value" after its label that is only OCR specks (``GUARANTOR: fee``).

    Only after a label in capitals, as headings are printed. Specks read as marks or a few
    lower-case letters; a name, a number or a capitalised word (``Guarantor: Self``,
    ``DOB: 01/02/1960``) is a value and stays.
    """
    label, colon, rest = line.partition(":")
    if not (colon and label.isupper() and rest.split()):
        return line
    if all(_SPECK.fullmatch(t) for t in rest.split()):
        return label + colon
    return line


def _without_specks(line: str) -> str:
    """The line without OCR specks around a heading (``GUARANTOR oe``, ``. GUARANTOR .- He``).

    A speck is a token without letters anywhere, or one of one or two letters at either end.
    """
    tokens = [t for t in line.split() if _LETTER.search(t)]
    while tokens and len(_NOT_LETTER.sub("", tokens[-1])) <= 2:
        tokens.pop()
    while tokens and len(_NOT_LETTER.sub("", tokens[0])) <= 2:
        tokens.pop(0)
    return " ".join(tokens).strip(" .,-_*'\"‘’“”~")


def line_roles(hits: Sequence[LabelHit], section: str) -> list[str]:
    """The role of each label on a line: a role label hands its role to the labels after it.

    ``Guarantor: DOE, JOHN   DOB: 01/02/1960``: the DOB is the guarantor's. A label with
    ``Patient`` in it (``Patient DOB``) hands the line back to the patient. Providers carry
    no date of birth or sex: those stay the patient's after a provider label.
    """
    role = section
    out = []
    for hit in hits:
        named = role_of(hit)
        if named is not None and named != SUBJECT:
            role = named
            out.append(named)
            continue
        if named == SUBJECT or is_patient_label(hit):
            role = PATIENT
        out.append(role)
    return out


_PATIENT_WORD = re.compile(r"^\s*(patient|pt)\b", re.I)


def is_patient_label(hit: LabelHit) -> bool:
    """Whether a label names the patient outright (``Patient``, ``Pt Name``)."""
    return hit.kind == "name" and bool(_PATIENT_WORD.match(hit.text))


def value_role(kind: str, role: str) -> str:
    """The role a value of ``kind`` takes under ``role``.

    A provider's line carries no date of birth, sex or MRN of the provider's: those stay the
    patient's. MRNs and document numbers are the patient's or the document's, never a
    guarantor's: setting one aside could hide a contradiction.
    """
    if kind == "name":
        return role
    if kind in ("dob", "sex") and role in PERSON_ROLES:
        return role
    return PATIENT
