"""Names in running text, read with a site's settings once (ProperNames) or per call."""

from __future__ import annotations

import pytest

from scanner.identifying.names import PersonName
from scanner.identifying.people import ProperNames, proper_name
from scanner.identifying.roles import RoleSettings

DEFAULT = RoleSettings()
CASES = [
    "Dr. Helen Abernathy",
    "ABERNATHY, HELEN MD",
    "Jane A. Roe (date of birth 03/14/1961)",
    "Helen Abernathy, RN  Phone: 555-0100",
    "Mrs. Jane Roe, born March 14, 1961",
    "the patient rested",
    "O'BRIEN, SEAN P",
]


@pytest.mark.parametrize("text", CASES)
def test_names_read_with_settings_once_are_the_names_read_per_call(text: str) -> None:
    names = ProperNames(DEFAULT)
    for prose in (False, True):
        for strip_titles in (False, True):
            once = names(text, strip_titles=strip_titles, prose=prose)
            assert once == proper_name(text, DEFAULT, strip_titles=strip_titles, prose=prose)


def test_the_settings_given_are_the_ones_used() -> None:
    # "XYZ" ends a name only at a site that lists it as a credential.
    site = DEFAULT.model_copy(update={"credentials": [*DEFAULT.credentials, "XYZ"]})
    assert ProperNames(DEFAULT)("Helen Abernathy XYZ")[0] == PersonName("Xyz", "Helen", "Abernathy")
    assert ProperNames(site)("Helen Abernathy XYZ")[0] == PersonName("Abernathy", "Helen")
