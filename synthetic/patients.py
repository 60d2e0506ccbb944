"""Synthetic patients for the master index: seeded, with twins, namesakes and odd names."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from synthetic import names

REGISTRY_HEADER = ("mrn", "last_name", "first_name", "dob", "sex")

_DOB_START = date(1930, 1, 1)
_DOB_DAYS = (date(2023, 12, 31) - _DOB_START).days


@dataclass(frozen=True)
class SyntheticPatient:
    """One invented patient.

    Attributes:
        mrn: Medical record number, 8 digits, zero-padded, unique within a generated set.
        last_name: Surname as registered (may be hyphenated, with an apostrophe or accents).
        first_name: Given name as registered.
        middle: Middle name, or None.
        dob: Date of birth.
        sex: ``"F"`` or ``"M"``.
        nickname: The usual nickname of the given name (``"Bill"``), or None.
    """

    mrn: str
    last_name: str
    first_name: str
    middle: str | None
    dob: date
    sex: str
    nickname: str | None


def generate_patients(n: int, seed: int) -> list[SyntheticPatient]:
    """Generate ``n`` synthetic patients, the same ones for the same seed.

    When ``n`` allows (n >= 12) the set holds a pair of twins (same surname and birth date,
    different given names), namesakes with different birth dates, namesakes with the same
    birth date (different MRN), hyphenated and apostrophe surnames, accented given names and
    given names with nicknames. Smaller sets hold as many of these as fit.

    Args:
        n: How many patients.
        seed: Seed of the random generator.

    Returns:
        The patients, in a shuffled order.
    """
    rng = random.Random(f"patients:{seed}")
    mrns = _unique_mrns(rng, n)
    people = _special_people(rng)[:n]
    seen = {(p[0], p[1], p[2]) for p in people}
    while len(people) < n:
        person = _random_person(rng)
        key = (person[0], person[1], person[2])
        if key not in seen:
            seen.add(key)
            people.append(person)
    patients = [
        SyntheticPatient(
            mrn=mrn,
            last_name=last,
            first_name=first,
            middle=_middle(rng),
            dob=dob,
            sex=sex,
            nickname=names.nickname_of(first),
        )
        for mrn, (last, first, dob, sex) in zip(mrns, people, strict=True)
    ]
    rng.shuffle(patients)
    return patients


def write_registry_csv(patients: Iterable[SyntheticPatient], path: Path) -> Path:
    """Write the patients as a registry CSV (``mrn,last_name,first_name,dob,sex``).

    Args:
        patients: The patients to write.
        path: Where to write; the parent folder must exist.

    Returns:
        The path written.
    """
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REGISTRY_HEADER)
        for p in patients:
            writer.writerow([p.mrn, p.last_name, p.first_name, p.dob.isoformat(), p.sex])
    return Path(path)


def random_dob(rng: random.Random) -> date:
    """Return a birth date between 1930 and 2023."""
    return _DOB_START + timedelta(days=rng.randrange(_DOB_DAYS))


def _unique_mrns(rng: random.Random, n: int) -> list[str]:
    # A few small numbers so that zero padding ("00004217") is always exercised.
    small = rng.sample(range(1, 1_000_000), min(n, max(1, n // 8)))
    large = rng.sample(range(1_000_000, 100_000_000), n)
    values = list(dict.fromkeys(small + large))[:n]
    return [f"{v:08d}" for v in values]


Person = tuple[str, str, date, str]  # last, first, dob, sex


def _random_first(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.5:
        return rng.choice(names.FEMALE_FIRST)[0], "F"
    return rng.choice(names.MALE_FIRST)[0], "M"


def _random_person(rng: random.Random) -> Person:
    first, sex = _random_first(rng)
    return rng.choice(names.LAST_NAMES), first, random_dob(rng), sex


def _special_people(rng: random.Random) -> list[Person]:
    """The hard cases, most important first so that small sets keep the twins."""
    twin_last = rng.choice(names.LAST_NAMES)
    twin_dob = random_dob(rng)
    namesake_last = rng.choice(names.LAST_NAMES)
    same_last = rng.choice(names.LAST_NAMES)
    same_dob = random_dob(rng)
    return [
        (twin_last, rng.choice(names.FEMALE_FIRST[:5])[0], twin_dob, "F"),
        (twin_last, rng.choice(names.MALE_FIRST[:5])[0], twin_dob, "M"),
        (namesake_last, "William", random_dob(rng), "M"),
        (namesake_last, "William", random_dob(rng), "M"),
        (same_last, "Maria", same_dob, "F"),
        (same_last, "Maria", same_dob, "F"),
        (rng.choice(names.HYPHENATED_LAST), *_dob_sex(rng, "Elizabeth", "F")),
        (names.APOSTROPHE_LAST[0], *_dob_sex(rng, "Robert", "M")),
        (names.APOSTROPHE_LAST[1], *_dob_sex(rng, "Margaret", "F")),
        (rng.choice(names.LAST_NAMES), *_dob_sex(rng, *names.ACCENTED_FIRST[0])),
        (rng.choice(names.LAST_NAMES), *_dob_sex(rng, *names.ACCENTED_FIRST[1])),
        (rng.choice(names.LAST_NAMES), *_dob_sex(rng, "William", "M")),
    ]


def _dob_sex(rng: random.Random, first: str, sex: str) -> tuple[str, date, str]:
    return first, random_dob(rng), sex


def _middle(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.45:
        return None
    if roll < 0.7:
        return rng.choice(names.MIDDLE_NAMES)[0]
    return rng.choice(names.MIDDLE_NAMES)
