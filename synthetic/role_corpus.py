"""A corpus of pages that name other people besides the patient, with ground truth.

Face sheets (guarantor, subscriber, emergency contact with names and birth dates), referral
letters in prose, fax covers with their pages, lab reports with ordering physicians, and
outside records with prior MRNs. The other people named are registered patients too, and
twins and namesakes of the patient are preferred among them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from synthetic.corpus import _Maker
from synthetic.patients import SyntheticPatient
from synthetic.spec import DocumentSpec, GroundTruth
from synthetic.truth import ground_truth

# Scenario -> weight; most pages are ones a clerk would file.
ROLE_SCENARIOS: dict[str, float] = {
    "face_sheet": 0.26,
    "face_sheet_conflict": 0.04,
    "letter": 0.18,
    "fax_cover": 0.12,
    "fax_cover_mismatch": 0.06,
    "orders": 0.16,
    "prior_merged": 0.08,
    "prior_other": 0.06,
    "outside_unknown_mrn": 0.04,
}


def make_merges(patients: Sequence[SyntheticPatient], seed: int, count: int = 12) -> dict[str, str]:
    """Invent prior MRNs merged into registered patients' records: prior -> survivor."""
    rng = random.Random(f"merges:{seed}")
    taken = {p.mrn for p in patients}
    merges: dict[str, str] = {}
    for survivor in rng.sample(list(patients), min(count, len(patients))):
        while (prior := f"{rng.randrange(10**7, 10**8)}") in taken:
            continue
        taken.add(prior)
        merges[prior] = survivor.mrn
    return merges


def make_role_corpus(
    patients: Sequence[SyntheticPatient], n_docs: int, seed: int, merges: dict[str, str]
) -> list[tuple[DocumentSpec, GroundTruth]]:
    """Make ``n_docs`` role-layout specs, each with the careful clerk's ground truth.

    Args:
        patients: The registry; the other people named are drawn from it.
        n_docs: How many documents.
        seed: Seed of the random generator.
        merges: Prior MRNs merged into registered records (see :func:`make_merges`).

    Returns:
        ``(spec, truth)`` pairs, in a shuffled order.
    """
    rng = random.Random(f"roles:{seed}")
    kinds = list(ROLE_SCENARIOS)[:n_docs]
    kinds += rng.choices(
        list(ROLE_SCENARIOS), weights=list(ROLE_SCENARIOS.values()), k=n_docs - len(kinds)
    )
    rng.shuffle(kinds)
    maker = _RoleMaker(patients, rng, merges)
    out = []
    for kind in kinds:
        spec = maker.make(kind)
        out.append((spec, ground_truth(spec, patients, merges)))
    return out


class _RoleMaker(_Maker):
    def __init__(
        self, patients: Sequence[SyntheticPatient], rng: random.Random, merges: dict[str, str]
    ) -> None:
        super().__init__(patients, rng)
        self.merges = merges

    def _clean(self, spec: DocumentSpec, layout: str) -> DocumentSpec:
        # Registered name form, every identifier shown; damage kept light (these pages test
        # roles, not OCR; the main corpus covers the damage).
        light = self.rng.choice(((), (), ("rotate_small",), ("noise",), ("jpeg",)))
        return replace(
            spec, layout=layout, name_form="registered", degradations=light, encounter_number=None
        )

    def _relatives(self, patient: SyntheticPatient | None, count: int) -> list[SyntheticPatient]:
        """Other registered patients: twins and namesakes of ``patient`` first."""
        close = [
            p
            for p in self.patients
            if patient is not None
            and p != patient
            and (p.last_name == patient.last_name or p.dob == patient.dob)
        ]
        self.rng.shuffle(close)
        rest = [p for p in self.patients if p != patient and p not in close]
        return (close + self.rng.sample(rest, min(len(rest), count)))[:count]

    def _face_sheet(self, spec: DocumentSpec, fileable: bool = True) -> DocumentSpec:
        spec = self._clean(self._fileable(spec) if fileable else spec, "face_sheet")
        people = self._relatives(spec.patient, 3) + [self.rng.choice(self.patients)] * 3
        guarantor, subscriber, contact = people[:3]
        if self.rng.random() < 0.4:
            subscriber = guarantor
        others = (("guarantor", guarantor), ("subscriber", subscriber),
                  ("emergency_contact", contact))  # fmt: skip
        return replace(spec, others=others, pages=self.rng.choice((1, 1, 2)))

    def _face_sheet_conflict(self, spec: DocumentSpec) -> DocumentSpec:
        return self._face_sheet(self._conflict(spec), fileable=False)

    def _letter(self, spec: DocumentSpec) -> DocumentSpec:
        spec = self._clean(spec, "letter")
        style = self.rng.choice(("re", "your_patient", "honorific"))
        contact = self._relatives(spec.patient, 1)
        return replace(
            spec,
            doc_type="consult_note",
            letter_style=style,
            show_mrn=style == "re" and self.rng.random() < 0.3,
            others=tuple(("emergency_contact", p) for p in contact),
            accession_number=None,
            account_number=None,
        )

    def _fax_cover(self, spec: DocumentSpec) -> DocumentSpec:
        spec = self._clean(self._fileable(spec), "fax_cover")
        return replace(spec, pages=self.rng.choice((2, 3)))

    def _fax_cover_mismatch(self, spec: DocumentSpec) -> DocumentSpec:
        spec = self._fax_cover(spec)
        return replace(spec, cover_for=self._relatives(spec.patient, 1)[0])

    def _orders(self, spec: DocumentSpec) -> DocumentSpec:
        spec = self._clean(self._fileable(spec), "orders")
        doctors = self._relatives(spec.patient, 2)
        roles = ("ordering", "attending")[: self.rng.choice((1, 2))]
        return replace(
            spec,
            doc_type=self.rng.choice(("lab_report", "radiology_report")),
            others=tuple(zip(roles, doctors, strict=False)),
        )

    def _prior_merged(self, spec: DocumentSpec) -> DocumentSpec:
        survivors = {v: k for k, v in self.merges.items()}
        patient = self.rng.choice([p for p in self.patients if p.mrn in survivors])
        spec = self._clean(replace(spec, patient=patient), "outside_record")
        # The current MRN is not printed: the name and the merged prior MRN identify.
        return replace(spec, show_mrn=False, show_dob=self.rng.random() < 0.5,
                       prior_mrn=survivors[patient.mrn])  # fmt: skip

    def _prior_other(self, spec: DocumentSpec) -> DocumentSpec:
        spec = self._clean(spec, "outside_record")
        other = self._relatives(spec.patient, 1)[0]
        return replace(spec, show_mrn=self.rng.random() < 0.5, prior_mrn=other.mrn)

    def _outside_unknown_mrn(self, spec: DocumentSpec) -> DocumentSpec:
        spec = self._clean(spec, "outside_record")
        return replace(spec, show_mrn=False, prior_mrn=self._fresh_number(8))
