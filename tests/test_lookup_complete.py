"""Candidate lookup is complete with respect to the matching rule.

Random registries with a big surname block, twins (same surname and birth date), namesakes
(same name, other or no birth date), double-barrelled and accented names, MRNs with leading
zeros; random pages made from them (misread, swapped, partial, strangers). For each page:

* the decision made on the indexed lookup equals ``decide`` on the *whole* registry (or
  is a review for "too many candidates" when a block passes the limit);
* every patient the rule weighs with some evidence for it (an agreeing MRN or birth date,
  or nothing on the page against it) is among the looked-up candidates - except on a
  page with names only, which is never filed: there the clerk sees the whole registry's
  best-scoring candidates first, in its order and with its scores, and lower-ranked
  namesakes may be left out (``check_name_only``);
* a document is filed only when a brute-force oracle over the whole registry, with its
  own name comparison (not the matcher's), finds exactly one patient fitting the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from records.audit import Actor
from records.candidates import surname_vocabulary
from records.models import Patient
from records.patients import bump_generation, import_patients
from records.settings import StoreSettings
from records.store import Store
from scanner.identifying.identifiers import Identifiers
from scanner.identifying.names import PersonName, spelling_key
from scanner.matching.agreement import compare_first, compare_last
from scanner.matching.decision import Candidate, MatchSettings, RegisteredPatient, decide
from scanner.matching.lookup import TOO_MANY_CANDIDATES, lookup_and_decide
from scanner.matching.name_filters import related_given_names, related_surnames

# Surnames and given names far apart (no two within the rule's similarity), so that the
# oracle's plain comparison and the rule agree on who is who; spelling variants are the
# same name to both (accents, case, a hyphen part).
SURNAMES = ["Smith", "Nguyen", "Okafor", "Sørensen", "Müller", "Garcia-Lopez", "Brandt", "Иванов"]
BIG = "Smith"
GIVEN = ["John", "Mary", "Wendy", "Oscar", "Priya", "Kofi", "Helga", "Ulrich", "Zoë", "Łucja"]
OCR_SLIPS = {"Smith": "Smitb", "Sørensen": "Sorensem", "Müller": "Muller", "John": "Jonh"}
DOBS = [dt.date(1950, 3, 4), dt.date(1950, 4, 3), dt.date(1972, 11, 30), dt.date(1988, 6, 6)]
LIMIT = 60


@dataclass(frozen=True)
class Person:
    mrn: str
    last: str
    first: str
    dob: dt.date | None
    sex: str | None


@st.composite
def registries(draw: st.DrawFn) -> list[Person]:
    big = draw(st.integers(min_value=20, max_value=140))
    others = draw(st.integers(min_value=5, max_value=40))
    people: list[Person] = []
    for number in range(big + others):
        last = BIG if number < big else draw(st.sampled_from(SURNAMES))
        first = draw(st.sampled_from([*GIVEN, "J", ""]))
        dob = draw(st.one_of(st.none(), st.sampled_from(DOBS)))
        sex = draw(st.sampled_from(["M", "F", None]))
        pad = draw(st.sampled_from(["", "", "00"]))
        people.append(Person(f"{pad}{700000 + number}", last, first, dob, sex))
    return people


@st.composite
def pages(draw: st.DrawFn, people: list[Person], slips: bool) -> Identifiers:
    who = draw(st.sampled_from(people))
    stranger = draw(st.booleans()) and draw(st.booleans())
    mrns: list[str] = []
    if draw(st.booleans()):
        mrn = "9" + who.mrn.lstrip("0") if stranger else who.mrn
        mrns.append(draw(st.sampled_from([mrn, mrn.lstrip("0"), "0" + mrn])))
    dobs: list[dt.date] = []
    if draw(st.booleans()):
        dobs.append(draw(st.sampled_from(DOBS)) if stranger or who.dob is None else who.dob)
    names: list[PersonName] = []
    if draw(st.integers(0, 3)):
        last = draw(st.sampled_from(SURNAMES)) if stranger else who.last
        first = who.first or draw(st.sampled_from(GIVEN))
        last = draw(st.sampled_from([last, last.upper(), last.split("-")[-1]]))
        if slips and draw(st.booleans()):
            last, first = OCR_SLIPS.get(last, last), OCR_SLIPS.get(first, first)
        if slips and draw(st.integers(0, 5)) == 0:
            last, first = first or "Kofi", last
        names.append(PersonName(last, first))
        if draw(st.integers(0, 4)) == 0:
            names.append(PersonName(draw(st.sampled_from(SURNAMES)), draw(st.sampled_from(GIVEN))))
    sexes = [who.sex] if who.sex and draw(st.booleans()) else []
    return Identifiers(mrns=tuple(mrns), dobs=tuple(dobs), names=tuple(names), sexes=tuple(sexes))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(
        StoreSettings(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
            archive_dir=tmp_path / "archive",
            quarantine_dir=tmp_path / "q",
        )
    )
    yield store
    store.close()


def load(store: Store, people: list[Person], folder: Path) -> list[RegisteredPatient]:
    with store.session() as session:
        session.execute(delete(Patient))
        bump_generation(session)
    rows = [
        f"{p.mrn},{p.last},{p.first},{p.dob.isoformat() if p.dob else ''},{p.sex or ''}"
        for p in people
    ]
    path = folder / "registry.csv"
    path.write_text("mrn,last_name,first_name,dob,sex\n" + "\n".join(rows) + "\n", "utf-8")
    import_patients(store, path, actor=Actor("test", "cli"))
    return [RegisteredPatient(p.mrn, p.last, p.first, p.dob, p.sex) for p in people]


# -- the oracle: brute force over the whole registry, its own name comparison ------------------

_PLAIN = str.maketrans({"ø": "o", "ü": "u", "ë": "e", "ł": "l", "Ø": "O", "Ü": "U", "Ł": "L"})


def plain(name: str) -> str:
    return "".join(ch for ch in name.translate(_PLAIN).upper() if ch.isascii() and ch.isalpha())


def same_surname(page: str, record: str) -> bool:
    def parts(name: str) -> set[str]:
        return {plain(part) for part in name.replace("-", " ").split()} - {""}

    return plain(page) == plain(record) or bool(parts(page) & parts(record))


def fits(page: Identifiers, person: RegisteredPatient) -> bool:
    """Nothing on the page is someone else's, and two of MRN, birth date and name agree."""
    mrn = person.mrn.lstrip("0")
    if any(m.lstrip("0") != mrn for m in page.mrns):
        return False
    if person.dob is not None and any(d != person.dob for d in page.dobs):
        return False
    if person.sex in ("M", "F") and any(s != person.sex for s in page.sexes):
        return False
    # A name nobody registered (an empty given name) is no evidence either way.
    firsts = [
        plain(n.first) in ("", plain(person.first_name)) or not plain(person.first_name)
        for n in page.names
    ]
    named = [
        same_surname(n.last, person.last_name) and first
        for n, first in zip(page.names, firsts, strict=True)
    ]
    if not all(named):
        return False
    exact = [plain(n.first) == plain(person.first_name) != "" for n in page.names]
    agree = [
        bool(page.mrns),
        person.dob is not None and bool(page.dobs),
        bool(exact) and all(exact),
    ]
    return sum(agree) >= 2


# -- the properties -----------------------------------------------------------------------------

SETTINGS = MatchSettings(max_lookup_rows=LIMIT)
WHOLE = MatchSettings(max_lookup_rows=LIMIT, max_candidates=100_000)
_EVIDENCE = ("mrn exact", "dob exact", "dob day/month swapped")


def check(page: Identifiers, store: Store, registry: list[RegisteredPatient]) -> None:
    decision, looked_up = lookup_and_decide(page, store, SETTINGS)
    whole = decide(page, registry, WHOLE)  # max_candidates changes only what is shown
    if decision.reason == TOO_MANY_CANDIDATES:
        assert decision.action == "review"
        return
    assert (decision.action, decision.mrn, decision.reason) == (
        whole.action,
        whole.mrn,
        whole.reason,
    )
    found = {r.mrn for r in looked_up}
    assert {c.mrn for c in decision.candidates} <= found
    if page.names and not (page.mrns or page.dobs or page.prior_mrns):
        check_name_only(decision.candidates, whole.candidates)
        return
    for candidate in whole.candidates:
        uncontradicted = not any("differs" in reason for reason in candidate.reasons)
        evidence = any(reason in _EVIDENCE for reason in candidate.reasons)
        if uncontradicted or evidence:
            assert candidate.mrn in found, candidate.reasons


def check_name_only(shown: tuple[Candidate, ...], ranking: tuple[Candidate, ...]) -> None:
    """A page with names only is never filed; the lookup may stop once the clerk's view is set.

    Every candidate shown is one the whole registry ranks, in the same order and with the
    same score. When the whole registry's best candidate fits the page (nothing on it
    differs), the clerk sees its best-scoring candidates first (as many as a decision
    shows); namesakes ranked lower may be left out. (When it does not fit, the page is an
    unknown patient and contradicted look-alikes may be left out, as on any page.)
    """
    ranked = iter(ranking)
    assert all(candidate in ranked for candidate in shown)  # a subsequence, scores and all
    if ranking and not any("differs" in reason for reason in ranking[0].reasons):
        best = [c for c in ranking if c.score == ranking[0].score]
        assert shown[: len(best)] == tuple(best[: SETTINGS.max_candidates])


@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), people=registries())
def test_lookup_decides_as_the_whole_registry(
    data: st.DataObject, people: list[Person], store: Store, tmp_path: Path
) -> None:
    registry = load(store, people, tmp_path)
    for _ in range(10):
        check(data.draw(pages(people, slips=True)), store, registry)


@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), people=registries())
def test_filed_only_when_the_oracle_finds_exactly_one(
    data: st.DataObject, people: list[Person], store: Store, tmp_path: Path
) -> None:
    registry = load(store, people, tmp_path)
    for _ in range(12):
        page = data.draw(pages(people, slips=False))
        decision, _ = lookup_and_decide(page, store, SETTINGS)
        if decision.action == "file":
            assert [p.mrn for p in registry if fits(page, p)] == [decision.mrn]


def test_a_namesake_deep_in_a_big_block_stops_the_filing(store: Store, tmp_path: Path) -> None:
    """The old lookup stopped at 200 rows in no order: the namesake could be cut off."""
    smiths = [Person(f"{800000 + n}", "Smith", GIVEN[n % 8], DOBS[n % 3], "F") for n in range(600)]
    patient = Person("900001", "Smith", "Kofi", dt.date(1988, 6, 6), "M")
    namesake = Person("900002", "Smith", "Kofi", None, "M")  # no birth date on record
    registry = load(store, [*smiths, patient, namesake], tmp_path)
    page = Identifiers(names=(PersonName("Smith", "Kofi"),), dobs=(patient.dob,))  # type: ignore[arg-type]
    decision, looked_up = lookup_and_decide(page, store, MatchSettings())
    assert {r.mrn for r in looked_up} >= {"900001", "900002"}
    assert len(looked_up) < 50  # the block, narrowed by the rule, not 600 rows
    assert (decision.action, decision.reason) == ("review", "ambiguous candidates")
    assert decide(page, registry, MatchSettings()).reason == decision.reason


def test_a_contradicted_namesake_that_outranks_is_fetched(store: Store, tmp_path: Path) -> None:
    """The first lookup leaves out Smiths with another given name; here one outranks.

    The only patient the rule weighs without a contradiction is one whose surname has no
    Latin letters (nothing to compare, score 0); Mary Smith, contradicted by her given
    name, scores 1.5 and so heads the whole registry's ranking: the page is an unknown
    patient, not a single-identifier match. The score bound sees it and fetches the block.
    """
    people = [
        Person("500001", "Иванов", "", None, None),
        Person("500002", "Smith", "Mary", None, "M"),
        *(Person(f"5001{n:02}", "Smith", "Helga", DOBS[2], "F") for n in range(30)),
    ]
    registry = load(store, people, tmp_path)
    page = Identifiers(names=(PersonName("Smith", "John"),), dobs=(DOBS[0],), sexes=("M",))
    decision, looked_up = lookup_and_decide(page, store, MatchSettings())
    assert "500002" in {r.mrn for r in looked_up}
    assert decision.reason == decide(page, registry, MatchSettings()).reason == "unknown patient"


def test_a_name_only_page_stops_at_its_exact_namesakes(store: Store, tmp_path: Path) -> None:
    """Exact namesakes outscore everyone else: the clerk's view is set without the rest.

    Twelve John Smiths, a Jon Smith, a J. Smith and a John Smyth; the page says "Smith,
    John" and nothing else. The lookup brings the twelve and shows the whole registry's
    first five; with the page's sex contradicting every exact namesake, the best candidate
    could be anyone, and the lookup weighs the whole block.
    """
    people = [Person(f"3000{n:02}", "Smith", "John", DOBS[n % 4], "M") for n in range(12)]
    people += [
        Person("310001", "Smith", "Jon", None, "F"),
        Person("310002", "Smith", "J", None, "F"),
    ]
    people += [Person("310003", "Smyth", "John", DOBS[0], "F")]
    registry = load(store, people, tmp_path)
    whole = MatchSettings(max_candidates=100_000)
    page = Identifiers(names=(PersonName("Smith", "John"),))
    decision, looked_up = lookup_and_decide(page, store, MatchSettings())
    assert {r.mrn for r in looked_up} == {p.mrn for p in people[:12]}
    assert decision == decide(page, registry, MatchSettings())
    assert decision.reason == "name only"
    check_name_only(decision.candidates, decide(page, registry, whole).candidates)
    page = Identifiers(names=(PersonName("Smith", "John"),), sexes=("F",))
    decision, looked_up = lookup_and_decide(page, store, MatchSettings())
    assert {"310001", "310002"} <= {r.mrn for r in looked_up}
    assert decision == decide(page, registry, MatchSettings())
    assert decision.candidates[0].mrn == "310001"


def test_a_block_too_big_to_weigh_goes_to_review(store: Store, tmp_path: Path) -> None:
    smiths = [Person(f"{800000 + n}", "Smith", "Kofi", None, None) for n in range(80)]
    load(store, smiths, tmp_path)
    page = Identifiers(names=(PersonName("Smith", "Kofi"),))
    decision, _ = lookup_and_decide(page, store, MatchSettings(max_lookup_rows=50))
    assert (decision.action, decision.reason) == ("review", TOO_MANY_CANDIDATES)


def test_one_folding_for_page_and_index(store: Store, tmp_path: Path) -> None:
    patient = Person("123456", "Sørensen", "Søren", dt.date(1972, 11, 30), "M")
    load(store, [patient], tmp_path)
    page = Identifiers(names=(PersonName("Sorensen", "Soren"),), dobs=(dt.date(1972, 11, 30),))
    decision, _ = lookup_and_decide(page, store, MatchSettings())
    assert (decision.action, decision.mrn) == ("file", "123456")


NAMES = ["John", "Jon", "Johnny", "Jack", "J", "Joan", "Jane", "Jean", "Bill", "William", "Will"]
NAMES += ["", "Søren", "Soren", "Sorin", "Mary", "Marie", "Maria", "Smith", "Smyth", "Smitt"]
NAMES += ["Smithe", "Garcia-Lopez", "Garcia", "Lopez", "Garcialopez", "Schmidt", "Kowalski"]


@pytest.mark.parametrize("threshold", [0.9, 0.85, 0.7])
def test_key_prefilters_are_exact(threshold: float, store: Store, tmp_path: Path) -> None:
    """The fast name sets equal the rule applied to every stored key (no heuristic)."""
    settings = MatchSettings(name_similarity_threshold=threshold)
    w = settings.weights
    people = [Person(f"{600000 + n}", name or "X", "A", None, None) for n, name in enumerate(NAMES)]
    load(store, people, tmp_path)
    vocabulary = surname_vocabulary(store, undated_only=True)
    keys = {spelling_key(n) for n in NAMES}
    for page in NAMES:
        if not spelling_key(page):
            continue
        given = related_given_names(page, keys, settings)
        assert given == {k for k in keys if compare_first(page, k, w, threshold).level != "differs"}
        surnames = related_surnames(page, vocabulary, settings)
        stored = {p.last for p in people}
        expected = {
            spelling_key(n)
            for n in stored
            if compare_last(page, n, w, threshold).level != "differs"
        }
        assert surnames == expected | {""}


def test_an_undated_patient_whose_name_the_page_may_misread_is_fetched(
    store: Store, tmp_path: Path
) -> None:
    """Kirn may be Kim misread (rn for m): Kirn, with no birth date on record, fits the page.

    The index keeps folded keys and Jaro-Winkler puts KIM and KIRN below the rule's floor,
    so only the misread keys bring Kirn into the lookup; without him the page was filed.
    """
    people = [
        Person("700001", "Kim", "John", DOBS[0], "M"),
        Person("700002", "Kirn", "John", None, "M"),
        Person("700003", "Peña", "Ana", None, "F"),
        *(Person(f"7001{n:02}", "Smith", GIVEN[n % 8], DOBS[n % 3], "F") for n in range(30)),
    ]
    registry = load(store, people, tmp_path)
    page = Identifiers(names=(PersonName("Kim", "John"),), dobs=(DOBS[0],))
    decision, looked_up = lookup_and_decide(page, store, MatchSettings())
    assert "700002" in {r.mrn for r in looked_up}
    whole = decide(page, registry, MatchSettings())
    assert (
        (decision.action, decision.reason)
        == (whole.action, whole.reason)
        == (
            "review",
            "ambiguous candidates",
        )
    )
    # Peña is stored as PENA; the page's Pefia (the tilde read as "fi") still reaches her.
    page = Identifiers(names=(PersonName("Pefia", "Ana"),), dobs=(DOBS[1],))
    _, looked_up = lookup_and_decide(page, store, MatchSettings())
    assert "700003" in {r.mrn for r in looked_up}
