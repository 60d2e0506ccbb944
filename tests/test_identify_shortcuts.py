"""Shortcuts taken for speed in identification give what the plain way gives.

Each shortcut skips work that provably cannot find anything (a line without a title or a
credential in it, a line without a label). The reference here is the plain way it replaced,
run on generated pages and on lines made of the pieces the shortcut looks for, in every
order, with the shipped settings and with others.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.identifying.names import PersonName
from scanner.identifying.people import _name_before, _patterns, _proper_name, providers
from scanner.identifying.roles import RoleSettings
from synthetic import DocumentSpec, generate_patients
from synthetic.content import text_of
from synthetic.spec import BASE_LAYOUTS, DOC_TYPES, ROLE_LAYOUTS

SHIPPED = RoleSettings()
OTHERS = RoleSettings(
    titles=["Dr.", "Prof", "Dr med.", "doc"],
    credentials=["M.D.", "MD", "PA-C", "PA", "D.O.", "Ph.D.", "RN"],
)


def plain_providers(lines: Sequence[str], roles: RoleSettings) -> list[PersonName]:
    """Every title and credential pattern run over every line, as ``providers`` used to."""
    p = _patterns(roles.model_dump_json())
    found: list[PersonName] = []
    for line in lines:
        for match in p.title.finditer(line):
            name, _ = _proper_name(line[match.end() :], p, False, False)
            if name is not None:
                found.append(name)
        for match in p.credential.finditer(line):
            name = _name_before(line[: match.start()], p)
            if name is not None:
                found.append(name)
    return found


def test_generated_pages_give_the_same_providers() -> None:
    patients = generate_patients(30, seed=17)
    pages = 0
    for i, patient in enumerate(patients):
        for layout in (*BASE_LAYOUTS, *ROLE_LAYOUTS):
            spec = DocumentSpec(
                patient, DOC_TYPES[i % len(DOC_TYPES)], layout=layout, content_seed=i
            )
            for page in text_of(spec):
                for lines in (page.splitlines(), page.upper().splitlines(), [page]):
                    for roles in (SHIPPED, OTHERS):
                        assert providers(lines, roles) == plain_providers(lines, roles)
                pages += 1
    assert pages >= 300


PEOPLE = [
    "Dr", "Dr.", "DR", "dr.", "Doctor", "DOCTOR", "Prof", "Dr med.", "doc", "Helen", "Abernathy",
    "ABERNATHY, HELEN", "O'Brien", "Smith-Jones", "J.", "MD", "M.D.", "M.D", "md", "DO", "D.O.",
    "DOB", "PA-C", "PA", "PhD", "Ph.D.", "RN", "NP", ",", ", ", ".", ":", ";", ")", "(", "/", " ",
    "  ", "\n", "\t", "|", "12", "03/14/1962", "Signed by", "Attending:", "ſ", "K", "é", "x",
]  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=16),
    st.lists(st.sampled_from(PEOPLE), max_size=8),
    st.sampled_from([SHIPPED, OTHERS, RoleSettings(titles=[], credentials=[])]),
)
def test_lines_of_names_titles_and_credentials_give_the_same_providers(
    first: list[str], second: list[str], roles: RoleSettings
) -> None:
    for lines in (
        ["".join(first), "".join(second)],
        [" ".join(first), " ".join(second), ""],
        ["".join(first) + "\n" + " ".join(second)],  # a caller's line may hold a newline
        "".join(first + ["\n"] + second).splitlines(),
    ):
        assert providers(lines, roles) == plain_providers(lines, roles), lines
