"""Which stored name keys the matching rule does not call different from a page's name.

The candidate lookup (:mod:`scanner.matching.lookup`) probes the patient index by name
keys; these filters give it every key the rule's ``compare_last`` / ``compare_first``
would weigh as anything but different, from the cached vocabularies of the index. They
are exact, not heuristics: a fast Jaro-Winkler prefilter at the rule's own floor, then
the rule itself on whatever the prefilter cannot settle. Answers are memoized on the
vocabulary (a new generation of the index brings a new vocabulary and an empty memo).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from records.candidates import GivenNameVocabulary, SurnameVocabulary
from scanner.identifying.misreads import misread_keys
from scanner.identifying.names import nicknames_of, spelling_key, surname_parts
from scanner.matching.agreement import PHONETIC_FLOOR, compare_first, compare_last, sounds_alike
from scanner.matching.decision import MatchSettings

__all__ = ["indexed_given_names", "related_given_names", "related_surnames"]

_MEMO_MAX = 100_000
_FLOAT_SLACK = 1e-6


def _prefilter_floor(s: MatchSettings) -> float:
    # rapidfuzz's batch scorer can land a hair below ``similarity`` on the floor itself
    # (JOHNNY/JOAN: 0.8 alone, dropped by extract at 0.8): ask for a little less, and let
    # the rule decide on what comes back.
    return min(s.name_similarity_threshold, PHONETIC_FLOOR) - _FLOAT_SLACK


def related_surnames(
    last: str, vocabulary: SurnameVocabulary, s: MatchSettings
) -> frozenset[str] | None:
    """Every stored last-name key the rule's ``compare_last`` does not call different.

    None when the page surname has no letters (the rule then weighs every patient).
    The prefilter is exact, not a heuristic: ``compare_last`` calls two keys close only
    when they are equal, share a part of a double-barrelled name, have a Jaro-Winkler
    similarity of at least the rule's threshold, or of its phonetic floor and sound alike.
    A key clearly above the threshold is taken as it is; the rule itself judges the keys
    sharing a part, those at the threshold's edge and those that sound alike.
    """
    memo_key = ("related_surnames", last, s.name_similarity_threshold)
    if memo_key in vocabulary.memo:
        return cast(frozenset[str] | None, vocabulary.memo[memo_key])
    related = _related_surnames(last, vocabulary, s)
    if len(vocabulary.memo) < _MEMO_MAX:
        vocabulary.memo[memo_key] = related
    return related


def _related_surnames(
    last: str, vocabulary: SurnameVocabulary, s: MatchSettings
) -> frozenset[str] | None:
    key = spelling_key(last)
    if not key:
        return None
    threshold = s.name_similarity_threshold
    scored = process.extract(
        key,
        vocabulary.keys,
        scorer=JaroWinkler.similarity,
        score_cutoff=_prefilter_floor(s),
        limit=None,
    )
    related = {""}
    to_check = {key}
    for part in set(surname_parts(last)) or {key}:
        to_check.add(part)
        to_check.update(vocabulary.by_part.get(part, ()))
    # A key sharing a part with the page's surname is one of those (``by_part``).
    for stored, score, _index in scored:
        if score >= threshold + _FLOAT_SLACK:
            related.add(stored)  # similar enough on spelling alone: the rule calls it close
        elif score >= threshold - _FLOAT_SLACK or sounds_alike(key, stored):
            to_check.add(stored)
        # Otherwise no part shared, not similar enough and not alike: the rule says differs.
    for stored in to_check - related:
        forms = [" ".join(p) for p in vocabulary.parts.get(stored, ())] + [stored]
        if stored and any(
            compare_last(last, form, s.weights, threshold).level != "differs" for form in forms
        ):
            related.add(stored)
    # A surname OCR may have misread (Kirn for Kim, Pefia for Peña) agrees with the record,
    # and makes a page ambiguous between its owners; the index keeps keys folded (PENA), on
    # which the rule cannot see the misread: every key the reading may be a misread of.
    related.update(misread_keys(last) & vocabulary.key_set)
    return frozenset(related)


def related_given_names(first: str, present: Collection[str], s: MatchSettings) -> frozenset[str]:
    """The given-name keys in ``present`` that the rule's ``compare_first`` does not call different.

    ``compare_first`` calls two keys anything but different only when one is empty, they
    are equal, one is an initial of the other, they are listed nicknames, or their
    Jaro-Winkler similarity reaches the rule's threshold or phonetic floor: that prefilter
    is exact, and the rule itself has the last word on what passes it.
    """
    key = spelling_key(first)
    floor = _prefilter_floor(s)
    keys = set(present)
    near = {
        k for k in keys if not k or k == key or ((len(key) == 1 or len(k) == 1) and k[0] == key[0])
    }
    near.update(keys.intersection(nicknames_of(key)))
    near.update(
        choice
        for choice, _score, _index in process.extract(
            key, list(keys), scorer=JaroWinkler.similarity, score_cutoff=floor, limit=None
        )
    )
    threshold = s.name_similarity_threshold
    return frozenset(
        other
        for other in near
        if compare_first(first, other, s.weights, threshold).level != "differs"
    ) | misread_keys(first).intersection(keys)  # misreads: see related_surnames


def indexed_given_names(first: str, given: GivenNameVocabulary, s: MatchSettings) -> frozenset[str]:
    """:func:`related_given_names` over every given name of the index, memoized."""
    memo_key = (first, s.name_similarity_threshold)
    if memo_key in given.memo:
        return cast(frozenset[str], given.memo[memo_key])
    firsts = related_given_names(first, given.keys, s)
    if len(given.memo) < _MEMO_MAX:
        given.memo[memo_key] = firsts
    return firsts
