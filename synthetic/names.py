"""Built-in lists of invented-use names: common given names and surnames, never patient data.

The lists deliberately include the awkward cases a records department meets: hyphenated
and apostrophe surnames, accented letters, and given names with well-known nicknames.
"""

from __future__ import annotations

# (given name, usual nickname or None)
FEMALE_FIRST: tuple[tuple[str, str | None], ...] = (
    ("Elizabeth", "Liz"),
    ("Margaret", "Peggy"),
    ("Katherine", "Kate"),
    ("Jennifer", "Jenny"),
    ("Patricia", "Pat"),
    ("Susan", "Sue"),
    ("Deborah", "Debbie"),
    ("Rebecca", "Becky"),
    ("Victoria", "Vicky"),
    ("Mary", None),
    ("Linda", None),
    ("Sarah", None),
    ("Maria", None),
    ("Emily", None),
    ("Olivia", None),
    ("Grace", None),
    ("Hannah", None),
    ("Aisha", None),
    ("Priya", None),
    ("Mei", None),
    ("Laura", None),
    ("Nora", None),
    ("Zoë", None),
    ("Renée", None),
    ("Inés", None),
)

MALE_FIRST: tuple[tuple[str, str | None], ...] = (
    ("William", "Bill"),
    ("Robert", "Bob"),
    ("James", "Jim"),
    ("Michael", "Mike"),
    ("Thomas", "Tom"),
    ("Joseph", "Joe"),
    ("Charles", "Chuck"),
    ("Edward", "Ted"),
    ("Anthony", "Tony"),
    ("Richard", "Rick"),
    ("Samuel", "Sam"),
    ("Daniel", None),
    ("Kevin", None),
    ("Brian", None),
    ("Luis", None),
    ("Ahmed", None),
    ("Wei", None),
    ("Oscar", None),
    ("Peter", None),
    ("Marcus", None),
    ("José", None),
    ("André", None),
)

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Nguyen", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Perez",
    "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins",
    "Stewart", "Morris", "Rogers", "Reed", "Cook", "Morgan", "Bell", "Murphy", "Bailey",
    "Rivera", "Cooper", "Howard", "Ward", "Torres", "Peterson", "Gray", "Ramirez", "Kim",
    "Chen", "Singh", "Kowalski", "Novak", "Lindqvist", "Okafor", "Haddad", "McDonald",
    "Muñoz", "Peña", "Núñez",
)  # fmt: skip

HYPHENATED_LAST: tuple[str, ...] = ("Garcia-Lopez", "Smith-Jones", "Martinez-Ruiz")
APOSTROPHE_LAST: tuple[str, ...] = ("O'Brien", "D'Angelo", "O'Connor")
ACCENTED_FIRST: tuple[tuple[str, str], ...] = (("José", "M"), ("Zoë", "F"))

MIDDLE_NAMES: tuple[str, ...] = (
    "Ann", "Marie", "Lee", "James", "Lynn", "Ray", "Jo", "Edward", "Rose", "Alan", "Grace",
)  # fmt: skip

# Clinicians: surnames kept out of LAST_NAMES so that a provider is never a patient namesake.
CLINICIANS: tuple[str, ...] = (
    "Dr. Helen Abernathy", "Dr. Chidi Okonkwo", "Dr. Ingrid Lindgren",
    "Dr. Rafael Castellanos", "Dr. Kenji Yamamoto", "Dr. Siobhan Brennan",
    "Dr. Paulo Ferreira", "Dr. Anya Sokolova", "Dr. Grant Whitlock", "Dr. Meera Raghavan",
)  # fmt: skip

HOSPITALS: tuple[tuple[str, str, str], ...] = (
    ("QUILLMORE VALLEY MEDICAL CENTER", "4100 Larchmont Parkway, Quillmore, OH 44999",
     "(555) 010-4400"),
    ("SAINT ODALYS REGIONAL HOSPITAL", "27 Tamsin Road, Wrenfield, PA 19999",
     "(555) 010-2710"),
    ("FERNHOLLOW GENERAL HOSPITAL", "900 Kestrel Avenue, Fernhollow, WI 53999",
     "(555) 010-9000"),
    ("LARKSPUR BAY MEDICAL CENTER", "1 Harbor Light Drive, Larkspur Bay, ME 04999",
     "(555) 010-1100"),
    ("WRENFIELD COMMUNITY HOSPITAL", "350 Old Mill Lane, Wrenfield, VT 05999",
     "(555) 010-3500"),
)  # fmt: skip

DEPARTMENTS: dict[str, str] = {
    "lab_report": "Department of Laboratory Medicine",
    "radiology_report": "Department of Diagnostic Imaging",
    "progress_note": "Department of Internal Medicine",
    "discharge_summary": "Hospital Medicine Service",
    "history_physical": "Department of Internal Medicine",
    "operative_report": "Department of Surgery",
    "consent": "Patient Services",
    "consult_note": "Consultation Services",
}


def nickname_of(first: str) -> str | None:
    """Return the usual nickname for a given name, or None when it has none.

    Args:
        first: A given name as registered.

    Returns:
        The nickname (``"Bill"`` for ``"William"``) or None.
    """
    for name, nick in FEMALE_FIRST + MALE_FIRST:
        if name == first:
            return nick
    return None
