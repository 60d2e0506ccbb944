"""Labels found word start by word start are the labels the whole alternation finds.

``LabelFinder`` tries each word start of a line only against the labels that can begin with
its letter. The reference here is the plain search it replaced: one alternation of every
label, ``finditer`` over the line. Both must give the same hits on every line, for the
shipped settings and for labels of every shape.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.identifying.identifiers import IdentifierSettings, _finder
from scanner.identifying.labels import (
    ROLE_PREFIX,
    STOP_KIND,
    LabelFinder,
    LabelHit,
    _marked_role,
    _marked_stop,
)
from synthetic import DocumentSpec, generate_patients
from synthetic.content import text_of
from synthetic.spec import BASE_LAYOUTS, DOC_TYPES, ROLE_LAYOUTS

SHIPPED = _finder(IdentifierSettings().model_dump_json())


def reference(finder: LabelFinder, line: str) -> list[LabelHit]:
    """Every label by one ``finditer`` of the whole alternation, as the search used to be."""
    hits = []
    for match in finder._regex.finditer(line):  # noqa: SLF001 - the search being replaced
        index = next(int(n[1:]) for n, v in match.groupdict().items() if v and n != "sep")
        kind = finder._kinds[index]  # noqa: SLF001
        sep = match.group("sep")
        label = line[match.start() : match.start("sep")]
        colon = bool(set(sep) & set(":;#"))
        if kind == STOP_KIND and not (colon or _marked_stop(line, match.start(), match.end())):
            continue
        hits.append(LabelHit(kind, match.start(), match.end(), colon, len(label.split()), label))
    return [
        hit
        for i, hit in enumerate(hits)
        if not hit.kind.startswith(ROLE_PREFIX) or hit.has_colon or _marked_role(line, hits, i)
    ]


def same(finder: LabelFinder, line: str) -> None:
    assert finder._find(line) == reference(finder, line), line  # noqa: SLF001


def test_every_line_of_the_generated_pages_gives_the_same_labels() -> None:
    patients = generate_patients(40, seed=11)
    lines = 0
    for i, patient in enumerate(patients):
        for layout in (*BASE_LAYOUTS, *ROLE_LAYOUTS):
            doc_type = DOC_TYPES[i % len(DOC_TYPES)]
            spec = DocumentSpec(patient, doc_type, layout=layout, content_seed=i)
            for page in text_of(spec):
                for line in page.splitlines():
                    same(SHIPPED, line)
                    same(SHIPPED, line.upper())
                    same(SHIPPED, line.lower())
                    lines += 3
    assert lines > 5000


PIECES = [
    "MRN",
    "M.R.N.",
    "m r n",
    "Mrn#",
    "DOB",
    "D.O.B",
    "Date of Birth",
    "Patient Name",
    "Pt Name",
    "Name",
    "Acct",
    "Account No.",
    "Guarantor",
    "Subscriber",
    "Ordering Dr. Lee",
    "Room 12",
    "#",
    ":",
    ";",
    " ",
    "  ",
    "-",
    "|",
    "(",
    "/",
    "12345678",
    "03/04/1962",
    "Dos Santos",
    "ſex",  # long s: case-folds to s
    "K",  # Kelvin sign: case-folds to k
    "İ",  # dotted capital I
    "Ñame",
    "é",
    "No.",
    "Number",
    "x",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12), st.text(max_size=6))
def test_any_line_made_of_label_pieces_gives_the_same_labels(pieces: list[str], noise: str) -> None:
    line = "".join(pieces) + noise
    same(SHIPPED, line)
    same(SHIPPED, " ".join(pieces))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        # A label has a letter or a '#' (one of dots alone would match nothing at all), and
        # does not begin with a space (no setting's label does; the search begins at a word,
        # where the whole alternation would take the space before it into the label).
        st.text(alphabet="AaBbKkSsMmRrNnÑéſK.#- ", min_size=1, max_size=8).filter(
            lambda label: any(c.isalnum() or c == "#" for c in label) and not label[0].isspace()
        ),
        min_size=1,
        max_size=6,
    ),
    st.text(alphabet="AaBbKkSsMmRrNnÑéſK.#-: 1", max_size=40),
)
def test_labels_of_any_shape_give_the_same_labels(labels: list[str], line: str) -> None:
    # Abbreviations, dotted and spaced letters, non-ASCII first letters, '#': every way a
    # label's first letter can be spelled.
    finder = LabelFinder({"mrn": labels[: len(labels) // 2 + 1], STOP_KIND: labels})
    same(finder, line)
    same(finder, " ".join(labels) + " " + line)


def test_ascii_lines_of_the_shipped_settings_are_scanned_from_the_labels_first_words() -> None:
    # The shortcut is taken with the shipped labels (else the tests above prove nothing of it).
    assert SHIPPED._candidates is not None  # noqa: SLF001
    assert LabelFinder({"mrn": ["ſex"]})._candidates is None  # noqa: SLF001 - folds to "sex"
    assert LabelFinder({"mrn": ["-x"]})._candidates is None  # noqa: SLF001


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        # ASCII first letters (so ASCII lines take the shortcut), anything after them: a
        # non-ASCII letter later in a label leaves only its ASCII beginning to look for.
        st.tuples(
            st.sampled_from("AaBbKkSsMmRrNn#0"),
            st.text(alphabet="AaBbKkSsMmRrNnOoÑñéſK.#-' ", max_size=7),
        ).map("".join),
        min_size=1,
        max_size=6,
    ),
    # "No", "Num", "Number" may follow a label (its number): spelled from these letters too.
    st.text(alphabet="AaBbKkSsMmRrNnOoUuEe.#-:;' 1", max_size=40),
    st.sampled_from(["", " No", "No.", " NUM", "number", "#", "Nothing", "o"]),
)
def test_ascii_lines_give_the_same_labels_for_labels_of_any_shape(
    labels: list[str], line: str, suffix: str
) -> None:
    finder = LabelFinder({"mrn": labels[: len(labels) // 2 + 1], STOP_KIND: labels})
    assert finder._candidates is not None  # noqa: SLF001
    joined = suffix.join(labels) + suffix
    for text in (line, f"{joined} {line}", line + joined.upper(), f"{line}{joined}{line}"):
        if text.isascii():
            same(finder, text)
            same(finder, text.lower())
