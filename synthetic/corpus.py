"""A realistic mix of documents with ground truth, for tests, benchmarks and the demo."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from synthetic import names
from synthetic.patients import SyntheticPatient, random_dob
from synthetic.spec import DOC_TYPES, DocumentSpec, GroundTruth
from synthetic.truth import ground_truth

# Scenario -> weight. Most pages are fileable; the rest are the cases that must go to review.
SCENARIOS: dict[str, float] = {
    "fileable": 0.52,
    "decoy_accession": 0.08,
    "twin_by_name_dob": 0.05,
    "conflict": 0.09,
    "unknown": 0.07,
    "name_only": 0.06,
    "no_identifiers": 0.05,
    "ambiguous": 0.05,
    "rotated": 0.03,
}
_LAYOUTS = {"labelled": 30, "last_first": 20, "table": 20, "sticker": 15, "fax": 15}
_DEGRADATIONS: tuple[tuple[tuple[str, ...], int], ...] = (
    ((), 35),
    (("rotate_small",), 15),
    (("noise",), 10),
    (("blur",), 8),
    (("low_contrast",), 7),
    (("jpeg",), 7),
    (("rotate_small", "noise"), 10),
    (("blur", "jpeg"), 4),
    (("rotate_small", "low_contrast", "jpeg"), 4),
)
_TURNS = ("rotate_90", "rotate_180", "rotate_270")


def make_corpus(
    patients: Sequence[SyntheticPatient], n_docs: int, seed: int
) -> list[tuple[DocumentSpec, GroundTruth]]:
    """Make ``n_docs`` document specs with the ground truth of each.

    Every scenario in ``SCENARIOS`` appears at least once when ``n_docs`` allows; the
    scenarios that need twins or same-DOB namesakes fall back to a fileable page when the
    registry has none.

    Args:
        patients: The registry (patients outside it are invented for unknown-patient pages).
        n_docs: How many documents.
        seed: Seed of the random generator.

    Returns:
        ``(spec, truth)`` pairs, in a shuffled order.
    """
    if not patients:
        raise ValueError("make_corpus needs at least one registered patient")
    rng = random.Random(f"corpus:{seed}")
    kinds = list(SCENARIOS)[:n_docs]
    kinds += rng.choices(list(SCENARIOS), weights=list(SCENARIOS.values()), k=n_docs - len(kinds))
    rng.shuffle(kinds)
    maker = _Maker(patients, rng)
    out = []
    for kind in kinds:
        spec = maker.make(kind)
        out.append((spec, ground_truth(spec, patients)))
    return out


class _Maker:
    def __init__(self, patients: Sequence[SyntheticPatient], rng: random.Random) -> None:
        self.patients = list(patients)
        self.rng = rng
        self.mrns = {p.mrn for p in patients}
        same: defaultdict[tuple[str, str, object], list[SyntheticPatient]] = defaultdict(list)
        by_family: defaultdict[tuple[str, object], list[SyntheticPatient]] = defaultdict(list)
        for p in patients:
            same[(p.last_name, p.first_name, p.dob)].append(p)
            by_family[(p.last_name, p.dob)].append(p)
        self.namesakes = [g for g in same.values() if len(g) > 1]
        self.twins = [g for g in by_family.values() if len({p.first_name for p in g}) > 1]

    def make(self, kind: str) -> DocumentSpec:
        base = self._base(self.rng.choice(self.patients))
        return getattr(self, f"_{kind}")(base)

    def _base(self, patient: SyntheticPatient) -> DocumentSpec:
        rng = self.rng
        doc_type = rng.choice(DOC_TYPES)
        layout = rng.choices(list(_LAYOUTS), weights=list(_LAYOUTS.values()))[0]
        degradations = rng.choices(
            [d for d, _ in _DEGRADATIONS], weights=[w for _, w in _DEGRADATIONS]
        )[0]
        accession = None
        if doc_type in ("lab_report", "radiology_report") and rng.random() < 0.6:
            accession = self._fresh_number(8) if rng.random() < 0.5 else self._lab_accession()
        return DocumentSpec(
            patient=patient,
            doc_type=doc_type,
            layout=layout,
            date_format=rng.choice(("us", "us", "iso", "long", "dmy_mon")),
            name_form=rng.choices(("registered", "caps", "nickname"), (6, 3, 1))[0],
            accession_number=accession,
            account_number=self._fresh_number(10) if rng.random() < 0.4 else None,
            encounter_number=self._fresh_number(9) if rng.random() < 0.3 else None,
            pages=rng.choices((1, 2, 3), (65, 25, 10))[0],
            degradations=degradations,
            content_seed=rng.randrange(2**31),
        )

    def _fileable(self, spec: DocumentSpec) -> DocumentSpec:
        shown = self.rng.choices(("all", "mrn_dob", "mrn_name", "name_dob"), (60, 15, 10, 15))[0]
        if shown == "mrn_dob":
            return replace(spec, show_name=False)
        if shown == "mrn_name":
            return replace(spec, show_dob=False)
        if shown == "name_dob":
            return replace(spec, show_mrn=False, name_form="registered")
        return spec

    def _decoy_accession(self, spec: DocumentSpec) -> DocumentSpec:
        other = self.rng.choice([p for p in self.patients if p != spec.patient] or self.patients)
        return replace(
            spec,
            doc_type=self.rng.choice(("lab_report", "radiology_report")),
            accession_number=other.mrn,
        )

    def _twin_by_name_dob(self, spec: DocumentSpec) -> DocumentSpec:
        if not self.twins:
            return self._fileable(spec)
        twin = self.rng.choice(self.rng.choice(self.twins))
        return replace(spec, patient=twin, show_mrn=False, name_form="registered")

    def _conflict(self, spec: DocumentSpec) -> DocumentSpec:
        patient = spec.patient
        assert patient is not None
        field = self.rng.choice(("name", "dob"))
        twin_group = next((g for g in self.twins if patient in g), None)
        if field == "name":
            pool = [
                p
                for p in twin_group or self.patients
                if (p.first_name, p.last_name) != (patient.first_name, patient.last_name)
            ]
        else:
            pool = [p for p in self.patients if p.dob != patient.dob]
        if not pool:  # a one-patient registry: invent the other person
            pool = [self._stranger()]
        return replace(
            spec,
            conflict_with=self.rng.choice(pool),
            conflict_field=field,
            show_mrn=True,
            show_name=True,
            show_dob=True,
        )

    def _unknown(self, spec: DocumentSpec) -> DocumentSpec:
        return replace(spec, patient=self._stranger(), show_mrn=self.rng.random() < 0.7)

    def _name_only(self, spec: DocumentSpec) -> DocumentSpec:
        return replace(spec, show_mrn=False, show_dob=False, account_number=None)

    def _no_identifiers(self, spec: DocumentSpec) -> DocumentSpec:
        return replace(
            spec, patient=None, account_number=None, encounter_number=None, accession_number=None
        )

    def _ambiguous(self, spec: DocumentSpec) -> DocumentSpec:
        if not self.namesakes:
            return self._fileable(spec)
        person = self.rng.choice(self.rng.choice(self.namesakes))
        return replace(spec, patient=person, show_mrn=False, name_form="registered")

    def _rotated(self, spec: DocumentSpec) -> DocumentSpec:
        return replace(self._fileable(spec), degradations=(self.rng.choice(_TURNS),))

    def _stranger(self) -> SyntheticPatient:
        known = {(p.last_name, p.first_name) for p in self.patients}
        while True:
            female = self.rng.random() < 0.5
            first = self.rng.choice(names.FEMALE_FIRST if female else names.MALE_FIRST)
            last = self.rng.choice(names.LAST_NAMES)
            if (last, first[0]) not in known:
                return SyntheticPatient(
                    self._fresh_number(8),
                    last,
                    first[0],
                    None,
                    random_dob(self.rng),
                    "F" if female else "M",
                    first[1],
                )

    def _fresh_number(self, digits: int) -> str:
        while True:
            value = f"{self.rng.randrange(10 ** (digits - 1), 10**digits)}"
            if value[-8:] not in self.mrns:
                return value

    def _lab_accession(self) -> str:
        return f"{self.rng.choice(('CH', 'HE', 'RAD'))}{self.rng.randrange(10**6):06d}"
