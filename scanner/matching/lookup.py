"""Finding the patients a document could be about, completely, at a million patients.

``decide`` ranks the candidates it is handed; whoever is not handed cannot stop a filing.
So the lookup must bring every patient the rule would weigh, whatever the size of a
surname block (20,000 Smiths), and never cut a block at an arbitrary row. It is built from
the rule itself:

1. **MRN** - every patient whose MRN equals one on the page, leading zeros ignored.
2. **Date of birth** - every patient born on a date on the page or its day/month swap.
3. **Names** (pages without an MRN: with one, everyone else is contradicted by it) -
   the last names the rule does not call different (the surname vocabulary is compared
   with the rule's own ``compare_last``, after an exact Jaro-Winkler prefilter at the
   rule's own floor: :mod:`scanner.matching.name_filters`), crossed with the given names
   of the index the rule does not call different (``compare_first``), plus the
   first/last-swapped form. On a page with a date of birth only patients registered
   *without* one are taken here: anyone else in the block is contradicted by the date or
   was found by step 2.
4. **Exact namesakes** of any page name the best candidate does not carry (a twin under
   a nickname): ``decide`` sends such a page to review.

What is left out is contradicted and agrees on nothing but perhaps the name. Such a
patient can change the decision only by outranking the best candidate or by closing the
margin; :func:`_unfetched_bound` bounds its score from the weights, and when the bound
does not clear the decision the whole surname block is fetched. A block that exceeds
``max_lookup_rows`` sends the document to review (``too many candidates``), never to a
truncated list.

A page with names and nothing else is never filed, whoever is fetched: for it the lookup
settles only what the clerk is told. It starts from the exact namesakes and stops there
when nobody else could outrank the best of them (:func:`_exact_names_first`): the same
reason as on the whole index, and the whole index's best candidates shown first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from records.candidates import (
    CandidateQuery,
    CandidateSet,
    GivenNameVocabulary,
    NameBlock,
    SurnameVocabulary,
    find_candidates,
    name_vocabularies,
    surname_vocabulary,
)
from records.store import Store
from records.views import PatientView
from scanner.identifying.identifiers import Identifiers
from scanner.identifying.names import PersonName, spelling_key
from scanner.matching.agreement import FieldWeights
from scanner.matching.decision import (
    AMBIGUOUS,
    IDENTIFIER_CONFLICT,
    LOW_OCR_CONFIDENCE,
    MULTIPLE_PATIENTS,
    NAME_ONLY,
    NO_IDENTIFIERS,
    NO_TEXT,
    UNKNOWN_PATIENT,
    MatchDecision,
    MatchSettings,
    RegisteredPatient,
    blocking_query,
    decide,
)
from scanner.matching.name_filters import indexed_given_names, related_surnames

__all__ = ["TOO_MANY_CANDIDATES", "lookup_and_decide", "match_patient"]

TOO_MANY_CANDIDATES = "too many candidates"
# Scores are shown rounded to hundredths: compare with this much slack, towards fetching.
_SLACK = 0.01
_STABLE = frozenset({NO_TEXT, NO_IDENTIFIERS, LOW_OCR_CONFIDENCE, UNKNOWN_PATIENT})
_PRE_MARGIN = frozenset({MULTIPLE_PATIENTS, IDENTIFIER_CONFLICT, AMBIGUOUS})
_PRE_NAMESAKE = frozenset({MULTIPLE_PATIENTS, IDENTIFIER_CONFLICT})


@dataclass
class _Lookup:
    """The blocks fetched so far and what they found."""

    store: Store
    settings: MatchSettings
    found: CandidateSet = field(default_factory=lambda: CandidateSet(()))
    fetched: set[NameBlock] = field(default_factory=set)
    _records: list[RegisteredPatient] | None = None

    def fetch(self, query: CandidateQuery) -> None:
        blocks = tuple(b for b in query.blocks if b not in self.fetched)
        self.fetched.update(blocks)
        query = CandidateQuery(query.mrns, query.dobs, blocks)
        if query.mrns or query.dobs or query.blocks:
            limit = self.settings.max_lookup_rows
            self.found = self.found | find_candidates(self.store, query, limit=limit)
            self._records = None

    def records(self) -> list[RegisteredPatient]:
        # Asked for by the decision, the namesake step and the caller: built once a fetch.
        if self._records is None:
            self._records = candidate_records(self.found.patients)
        return self._records


def candidate_records(found: Sequence[PatientView]) -> list[RegisteredPatient]:
    """The current records among ``found``, each with the prior MRNs merged into it.

    The lookup returns a merged row with its survivor; the merged row is no candidate
    itself, but its MRN on paper (a prior MRN) is the survivor's patient.
    """
    merged = {p.mrn: p.merged_into for p in found if p.merged_into}
    priors: dict[str, list[str]] = {}
    for prior in merged:
        survivor, hops = merged[prior], 0
        while survivor in merged and hops < 16:
            survivor, hops = merged[survivor], hops + 1
        priors.setdefault(str(survivor), []).append(prior)
    return [
        RegisteredPatient(
            p.mrn, p.last_name, p.first_name, p.dob, p.sex, tuple(priors.get(p.mrn, ()))
        )
        for p in found
        if p.merged_into is None
    ]


def match_patient(
    identifiers: Identifiers,
    store: Store,
    settings: MatchSettings,
    *,
    ocr_confidence: float | None = None,
    has_text: bool = True,
) -> MatchDecision:
    """Look the candidates up and decide: the decision ``decide`` makes on the whole index.

    Args:
        identifiers: What was read from the document.
        store: The record store holding the patient master index.
        settings: The matching settings (also ``max_lookup_rows``).
        ocr_confidence: Mean OCR confidence of the document, None for a text layer.
        has_text: False when no page yielded any text.

    Returns:
        The decision; review with ``too many candidates`` when a block the rule must weigh
        holds more than ``settings.max_lookup_rows`` patients.
    """
    decision, _ = lookup_and_decide(
        identifiers, store, settings, ocr_confidence=ocr_confidence, has_text=has_text
    )
    return decision


def lookup_and_decide(
    identifiers: Identifiers,
    store: Store,
    settings: MatchSettings,
    *,
    ocr_confidence: float | None = None,
    has_text: bool = True,
) -> tuple[MatchDecision, list[RegisteredPatient]]:
    """:func:`match_patient`, also returning the candidates the lookup brought."""
    lookup = _Lookup(store, settings)
    decision: MatchDecision | None = None
    if _is_name_only(identifiers):
        decision = _exact_names_first(identifiers, lookup, ocr_confidence, has_text)
        if decision is not None:
            return decision, lookup.records()
    lookup.fetch(_first_query(identifiers, store, settings))
    while True:
        if lookup.found.overflow:
            shown = decision.candidates if decision is not None else ()
            return MatchDecision("review", None, TOO_MANY_CANDIDATES, shown), []
        decision = decide(
            identifiers,
            lookup.records(),
            settings,
            ocr_confidence=ocr_confidence,
            has_text=has_text,
        )
        more = _what_else(identifiers, decision, lookup)
        if not more:
            return decision, lookup.records()
        lookup.fetch(CandidateQuery(blocks=more))


def _is_name_only(ids: Identifiers) -> bool:
    """A page with names and nothing else ``decide`` weighs against them: never filed."""
    return bool(ids.names) and not (ids.mrns or ids.dobs or ids.prior_mrns)


def _exact_names_first(
    ids: Identifiers, lookup: _Lookup, ocr_confidence: float | None, has_text: bool
) -> MatchDecision | None:
    """The decision on a name-only page from its exact namesakes alone, when that is enough.

    ``decide`` never files such a page (nothing but a name), so what the lookup settles is
    what the clerk is told: the reason and the candidates. Patients carrying exactly a
    page name (last and given name keys) are fetched first; everyone else scores at
    most :func:`_inexact_name_bound`. When the best exact namesake scores above that bound,
    the whole registry's best candidate is the same patient, its reason is the same (the
    "someone else" of ``multiple patients`` is an exact namesake, fetched here), and every
    candidate the whole registry ranks above the bound is shown in the same order with
    the same score. Otherwise (no exact namesake, or one contradicted below the bound)
    the page takes the complete lookup: None.
    """
    exact = tuple(
        NameBlock(frozenset({spelling_key(name.last)}), frozenset({spelling_key(name.first)}))
        for name in ids.names
    )
    lookup.fetch(CandidateQuery(blocks=exact))
    if lookup.found.overflow:
        # The exact namesakes alone pass the limit: so would the complete lookup.
        return MatchDecision("review", None, TOO_MANY_CANDIDATES, ())
    decision = decide(
        ids, lookup.records(), lookup.settings, ocr_confidence=ocr_confidence, has_text=has_text
    )
    if decision.action != "review" or not decision.candidates:
        # A filing is never decided on part of the index (decide files no name-only page).
        return None
    bound = _inexact_name_bound(ids, lookup.settings.weights)
    if decision.candidates[0].score <= bound + _SLACK:
        return None
    return decision


def _inexact_name_bound(ids: Identifiers, w: FieldWeights) -> float:
    """The best score ``decide`` could give, on a name-only page, to an inexact namesake.

    That is a patient carrying exactly none of the page's names: for each page name it
    has another last-name key or another given-name key (the first/last-swapped reading
    scores ``last_similar``). No MRN or date of birth is on the page. Any configured
    positive disagreement weight is added once per value that could disagree. Tied to
    ``decide`` as it is: re-check this bound when it weighs anything new.
    """
    other_first = max(
        w.first_nickname, w.first_similar, w.first_phonetic, w.first_initial, w.first_disagree, 0.0
    )
    best_first = max(other_first, w.first_agree)
    other_last = max(w.last_similar, w.last_disagree, 0.0)
    best_last = max(other_last, w.last_agree)
    name = max(other_last + best_first, best_last + other_first, w.last_similar)
    disagreeing = len(ids.names) * (max(0.0, w.last_disagree) + max(0.0, w.first_disagree))
    disagreeing += len(ids.sexes) * max(0.0, w.sex_disagree)
    return name + max(0.0, w.sex_agree) + disagreeing


def _first_query(ids: Identifiers, store: Store, s: MatchSettings) -> CandidateQuery:
    blocks: list[NameBlock] = []
    if ids.names and not ids.mrns:
        undated = bool(ids.dobs)
        vocabulary, given = name_vocabularies(store, undated_only=undated)
        for name in ids.names:
            blocks += _name_blocks(name, vocabulary, given, s, undated_only=undated)
    # blocking_query's MRNs include prior MRNs read on the page: their merged rows bring
    # the survivors they were merged into.
    query = blocking_query(ids)
    return CandidateQuery(mrns=query.mrns, dobs=query.dobs, blocks=tuple(blocks))


def _name_blocks(
    name: PersonName,
    vocabulary: SurnameVocabulary,
    given: GivenNameVocabulary,
    s: MatchSettings,
    *,
    undated_only: bool,
) -> list[NameBlock]:
    """The block of one page name: surnames and given names the rule does not call different."""
    lasts = related_surnames(name.last, vocabulary, s)
    firsts: frozenset[str] | None = None
    if lasts is None:
        # A surname with no letters A-Z: the rule weighs everyone (too many, unless tiny).
        return [NameBlock(None, None, undated_only)]
    if spelling_key(name.first):
        # Against every given name of the index, not only the block's: the probe of
        # (last_key, first_key) pairs then finds the same rows without listing the block.
        firsts = indexed_given_names(name.first, given, s)
    # "JANE DOE" printed surname first: the rule weighs the first/last-swapped record too.
    swapped = NameBlock(
        frozenset({spelling_key(name.first)}), frozenset({spelling_key(name.last)}), undated_only
    )
    return [NameBlock(lasts, firsts, undated_only), swapped]


def _what_else(ids: Identifiers, decision: MatchDecision, lookup: _Lookup) -> tuple[NameBlock, ...]:
    """The blocks still to fetch before ``decision`` is the whole index's decision."""
    if not ids.names or not decision.candidates or decision.reason in _STABLE:
        return ()
    if decision.reason in _PRE_NAMESAKE:
        # Decided on a contradicted best candidate, or already two patients by name: a
        # further namesake could only matter by outranking the best, as below.
        return _whole_blocks(ids, decision, lookup)
    top = next(r for r in lookup.records() if r.mrn == decision.candidates[0].mrn)
    carried = (spelling_key(top.last_name), spelling_key(top.first_name))
    namesakes = tuple(
        NameBlock(frozenset({spelling_key(n.last)}), frozenset({spelling_key(n.first)}))
        for n in ids.names
        if (spelling_key(n.last), spelling_key(n.first)) != carried
    )
    namesakes = tuple(b for b in namesakes if b not in lookup.fetched)
    if namesakes:
        return namesakes
    return _whole_blocks(ids, decision, lookup)


def _whole_blocks(
    ids: Identifiers, decision: MatchDecision, lookup: _Lookup
) -> tuple[NameBlock, ...]:
    """The whole surname blocks, when a patient left out could change ``decision``."""
    if not _unfetched_may_matter(ids, decision, lookup.settings):
        return ()
    vocabulary = surname_vocabulary(lookup.store, undated_only=False)
    whole = tuple(
        NameBlock(related_surnames(n.last, vocabulary, lookup.settings), None) for n in ids.names
    )
    return tuple(b for b in whole if b not in lookup.fetched)


def _unfetched_may_matter(ids: Identifiers, decision: MatchDecision, s: MatchSettings) -> bool:
    """Whether a patient not fetched could outrank the best or close the margin."""
    bound = _unfetched_bound(ids, s.weights)
    scores = [c.score for c in decision.candidates]
    if bound >= scores[0] - _SLACK:
        return True
    if decision.reason in _PRE_MARGIN:
        return False
    if decision.reason == NAME_ONLY and not (ids.mrns or ids.dobs):
        return False
    if scores[0] - bound >= s.margin + _SLACK:
        return False
    return not (len(scores) > 1 and scores[1] > bound + _SLACK)


def _unfetched_bound(ids: Identifiers, w: FieldWeights) -> float:
    """The best score ``decide`` could give a relevant patient the first lookup left out.

    Such a patient shares no MRN and no date of birth (exact or swapped) with the page: on
    a page with an MRN its MRN differs; on a page with a date and no MRN its date differs
    or it has none and its given name differs; on a page with neither, its given name
    differs. Disagreement weights are negative; any configured positive is added in full.
    """
    best_last = max(w.last_agree, w.last_similar, 0.0)
    best_first = max(w.first_agree, w.first_nickname, w.first_similar, w.first_phonetic, 0.0)
    best_first = max(best_first, w.first_initial)
    best_name = best_last + best_first
    other_name = max(best_last + w.first_disagree, w.last_disagree + best_first)
    positives = sum(
        max(0.0, x)
        for x in (w.mrn_disagree, w.dob_disagree, w.last_disagree, w.first_disagree, w.sex_disagree)
    )
    sex = max(0.0, w.sex_agree)
    if ids.mrns:
        dob = max(0.0, w.dob_disagree) if ids.dobs else 0.0
        core = w.mrn_disagree + dob + best_name
    elif ids.dobs:
        core = max(w.dob_disagree + best_name, other_name)
    else:
        core = other_name
    return core + sex + positives
