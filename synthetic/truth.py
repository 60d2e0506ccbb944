"""The careful clerk: what should happen to a spec's document, given the registry.

File only when MRN+DOB, MRN+name or full name+DOB agree, nothing on the page contradicts,
and exactly one registered patient fits. Everything else goes to review with a reason.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from synthetic.content import build_pages
from synthetic.patients import SyntheticPatient
from synthetic.spec import (
    REASON_AMBIGUOUS,
    REASON_CONFLICT,
    REASON_NAME_ONLY,
    REASON_NONE,
    REASON_UNKNOWN,
    DocumentSpec,
    GroundTruth,
    ShownIdentifiers,
    shown_identifiers,
)

# An MRN with nothing to corroborate it is not enough to file; the brief's reason list has no
# word for it, so it gets its own. make_corpus never produces such a page.
REASON_MRN_ONLY = "mrn only"

Decision = tuple[str, str | None, str | None]


def ground_truth(
    spec: DocumentSpec,
    registry: Sequence[SyntheticPatient],
    merges: Mapping[str, str] | None = None,
) -> GroundTruth:
    """Decide what a careful clerk would do with the document of ``spec``.

    Other people the page names (guarantor, subscriber, emergency contact, providers) are
    not the patient and change nothing. A prior MRN merged into the patient's record counts
    as the patient's MRN; a fax cover naming someone other than the pages behind it is a
    conflict.

    Args:
        spec: The document.
        registry: The patients in the master index (an unknown patient is one not in it).
        merges: Prior MRNs merged into a registered patient's record: prior -> survivor.

    Returns:
        The expected action, MRN or review reason, the doc type and a few body phrases.
    """
    shown = shown_identifiers(spec)
    survivor = (merges or {}).get(spec.prior_mrn or "")
    if survivor is not None and shown.mrn is None:
        shown = replace(shown, mrn=survivor)
    action, mrn, reason = decide(shown, registry)
    cover = spec.cover_for
    if (
        spec.layout == "fax_cover"
        and cover is not None
        and spec.patient is not None
        and (cover.last_name, cover.first_name, cover.dob)
        != (spec.patient.last_name, spec.patient.first_name, spec.patient.dob)
    ):
        action, mrn, reason = _review(REASON_CONFLICT)
    return GroundTruth(action, mrn, reason, spec.doc_type, text_snippets(spec))


def decide(shown: ShownIdentifiers, registry: Sequence[SyntheticPatient]) -> Decision:
    """Return ``(action, mrn, reason)`` for the identifiers a page shows."""
    has_name = shown.last is not None
    if shown.mrn is None and not has_name and shown.dob is None:
        return _review(REASON_NONE)
    if shown.mrn is not None:
        return _decide_with_mrn(shown, registry)
    if not has_name:  # a birth date alone points at nobody in particular
        fits = [p for p in registry if p.dob == shown.dob]
        return _review(REASON_AMBIGUOUS if fits else REASON_UNKNOWN)
    if shown.dob is None:
        return _review(REASON_NAME_ONLY)
    fits = [p for p in registry if name_agrees(shown, p) and p.dob == shown.dob]
    if not fits:
        return _review(REASON_UNKNOWN)
    if len(fits) > 1 or shown.nickname_used:  # a nickname is not the full name
        return _review(REASON_AMBIGUOUS)
    return "file", fits[0].mrn, None


def name_agrees(shown: ShownIdentifiers, patient: SyntheticPatient) -> bool:
    """Whether the shown surname and given name (or its nickname) are the patient's."""
    if shown.last is None or shown.first is None:
        return False
    if shown.last.casefold() != patient.last_name.casefold():
        return False
    first = shown.first.casefold()
    nickname = (patient.nickname or "").casefold()
    return first == patient.first_name.casefold() or (shown.nickname_used and first == nickname)


def text_snippets(spec: DocumentSpec, count: int = 3) -> tuple[str, ...]:
    """Pick a few four-word phrases from the prose of the first page."""
    rng = random.Random(f"snippets:{spec.content_seed}")
    body = build_pages(spec)[0].body
    runs: list[list[str]] = []
    for line in body:
        if line.style != "p" or ":" in line.text:
            continue
        run: list[str] = []
        for word in [*line.text.split(), "."]:  # the sentinel ends the last run
            if re.fullmatch(r"[A-Za-z]+", word):
                run.append(word)
                continue
            if len(run) >= 4:
                runs.append(run)
            run = []
    chosen = rng.sample(runs, min(count, len(runs)))
    out = []
    for words in chosen:
        start = rng.randrange(len(words) - 3)
        out.append(" ".join(words[start : start + 4]))
    return tuple(out)


def _decide_with_mrn(shown: ShownIdentifiers, registry: Sequence[SyntheticPatient]) -> Decision:
    owner = next((p for p in registry if p.mrn == shown.mrn), None)
    has_name = shown.last is not None
    if owner is None:
        # An MRN nobody has, next to a name and DOB somebody has: the page contradicts itself.
        others = [p for p in registry if name_agrees(shown, p) and p.dob == shown.dob]
        return _review(REASON_CONFLICT if others else REASON_UNKNOWN)
    name_ok = name_agrees(shown, owner) if has_name else None
    dob_ok = shown.dob == owner.dob if shown.dob is not None else None
    if name_ok is False or dob_ok is False:
        return _review(REASON_CONFLICT)
    if name_ok or dob_ok:
        return "file", owner.mrn, None
    return _review(REASON_MRN_ONLY)


def _review(reason: str) -> Decision:
    return "review", None, reason
