"""Candidate lookup in the patient master index: index probes, never a scan, never a cut.

The matcher (``scanner.matching.lookup``) says what to probe: MRNs, dates of birth, and
name blocks - a set of last-name keys crossed with a set of first-name keys, optionally
only among patients registered without a date of birth. Every probe runs on an index
(``mrn``, ``dob``, ``(last_key, first_key)``, the partial index of undated patients) and
returns *every* row it matches: when the rows would pass ``limit`` the answer says so
(``overflow``) instead of silently keeping an arbitrary part, and the matcher sends the
document to review.

The surname vocabulary (the distinct last-name keys, with the parts of double-barrelled
names) and the given-name vocabulary (the distinct first-name keys) are cached per store
and re-read when the index's generation changes, so the matcher can find every name its
fuzzy rule would accept without scanning patients.
Nothing here logs a name, MRN or date of birth.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.models import Patient, RegistryState
from records.store import Store
from records.views import PatientView

__all__ = [
    "CandidateQuery",
    "CandidateSet",
    "GivenNameVocabulary",
    "NameBlock",
    "SurnameVocabulary",
    "find_candidates",
    "given_name_vocabulary",
    "mrn_variants",
    "name_vocabularies",
    "surname_vocabulary",
]

MRN_MAX = 32
_IN_CHUNK = 400  # bound parameters per IN list, well under SQLite's limit
_MAX_MERGE_HOPS = 10


@dataclass(frozen=True)
class NameBlock:
    """Patients whose last-name key is in ``last_keys`` and first-name key in ``first_keys``.

    Attributes:
        last_keys: Last-name keys (``letters_key``); None for any last name.
        first_keys: First-name keys; None for any first name.
        undated_only: Only patients registered without a date of birth.
    """

    last_keys: frozenset[str] | None
    first_keys: frozenset[str] | None
    undated_only: bool = False


@dataclass(frozen=True)
class CandidateQuery:
    """What to look candidates up by.

    Attributes:
        mrns: MRNs read off the page; leading zeros are not significant (``00482913`` finds
            ``482913`` and the other way round), as in the matcher's MRN comparison.
        dobs: Dates of birth to probe (the matcher adds the day/month swaps it weighs).
        blocks: Name blocks to probe.
    """

    mrns: tuple[str, ...] = ()
    dobs: tuple[date, ...] = ()
    blocks: tuple[NameBlock, ...] = ()


@dataclass(frozen=True)
class CandidateSet:
    """The patients found, merged rows followed to their survivors.

    ``overflow`` is True when the probes matched more than the limit: ``patients`` is then
    incomplete and must not be used to file a document.
    """

    patients: tuple[PatientView, ...]
    overflow: bool = False

    def __or__(self, other: CandidateSet) -> CandidateSet:
        """The union of two lookups."""
        merged = {p.mrn: p for p in (*self.patients, *other.patients)}
        return CandidateSet(tuple(merged.values()), self.overflow or other.overflow)


@dataclass(frozen=True)
class SurnameVocabulary:
    """The distinct last-name keys of (some of) the index.

    Attributes:
        keys: Every distinct ``last_key``.
        parts: ``last_key`` → the part keys of a double-barrelled name so stored (a key may
            be stored with and without parts: ``Garcia-Lopez`` and ``GarciaLopez``).
        by_part: Part key → the ``last_key`` values having that part.
    """

    keys: tuple[str, ...]
    parts: dict[str, frozenset[tuple[str, ...]]]
    by_part: dict[str, frozenset[str]]
    # The matcher's answers about this vocabulary (surnames repeat: Smith, Smith, Smith);
    # a new generation of the index brings a new vocabulary and so an empty memo.
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def key_set(self) -> frozenset[str]:
        """:attr:`keys` as a set, to look keys up in."""
        return frozenset(self.keys)


def mrn_variants(mrn: str) -> set[str]:
    """Every MRN that equals ``mrn`` when leading zeros are ignored (at most 32 characters)."""
    core = mrn.strip().lstrip("0") or "0"
    if len(core) > MRN_MAX:
        return set()
    return {"0" * pad + core for pad in range(MRN_MAX - len(core) + 1)}


def find_candidates(store: Store, query: CandidateQuery, *, limit: int) -> CandidateSet:
    """Every patient matching a probe of ``query``, or ``overflow`` past ``limit`` rows.

    Args:
        store: The record store.
        query: The probes.
        limit: The most rows taken before giving up with ``overflow``.

    Returns:
        The patients (merged rows and their survivors included), each once.
    """
    found: dict[str, PatientView] = {}
    with store.session() as session:
        connection = session.connection()
        for where, params in _probes(query):
            # Plain SQL: the ORM's statement building cost more than SQLite's index probe.
            sql = f"SELECT {_COLUMNS} FROM patients {where} LIMIT ?"
            rows = connection.exec_driver_sql(sql, (*params, limit + 1)).all()
            for mrn, last, first, dob, sex, merged_into in rows:
                if mrn not in found:
                    born = date.fromisoformat(dob) if dob else None
                    found[mrn] = PatientView(mrn, last, first, born, sex, merged_into)
            if len(rows) > limit or len(found) > limit:
                return CandidateSet((), overflow=True)
        views = list(found.values())
        if any(view.merged_into for view in views):
            views += [PatientView.of(row) for row in _survivors(session, views)]
        return CandidateSet(tuple(views))


_COLUMNS = "mrn, last_name, first_name, dob, sex, merged_into"
# Without statistics SQLite would take the index on dob for "dob IS NULL" and read every
# undated patient; the partial index holds just them, by last and first name.
_UNDATED = "INDEXED BY ix_patients_undated_last_first WHERE dob IS NULL"
_ANY = "WHERE 1"


def _probes(query: CandidateQuery) -> list[tuple[str, tuple[Any, ...]]]:
    probes: list[tuple[str, tuple[Any, ...]]] = []
    mrns = sorted(set().union(*(mrn_variants(m) for m in query.mrns if m.strip())))
    probes += [(f"WHERE mrn IN ({_marks(c)})", tuple(c)) for c in _chunks(mrns)]
    dobs = sorted({d.isoformat() for d in query.dobs})
    probes += [(f"WHERE dob IN ({_marks(c)})", tuple(c)) for c in _chunks(dobs)]
    for block in query.blocks:
        probes += _block_probes(block)
    return probes


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _block_probes(block: NameBlock) -> list[tuple[str, tuple[Any, ...]]]:
    if block.last_keys is not None and not block.last_keys:
        return []
    if block.first_keys is not None and not block.first_keys:
        return []
    base = _UNDATED if block.undated_only else _ANY
    firsts = [None] if block.first_keys is None else list(_chunks(sorted(block.first_keys)))
    lasts = [None] if block.last_keys is None else list(_chunks(sorted(block.last_keys)))
    probes: list[tuple[str, tuple[Any, ...]]] = []
    for last in lasts:
        for first in firsts:
            where, params = base, cast(tuple[str, ...], ())
            if last is not None:
                where += f" AND last_key IN ({_marks(last)})"
                params += tuple(last)
            if first is not None:
                where += f" AND first_key IN ({_marks(first)})"
                params += tuple(first)
            probes.append((where, params))
    return probes


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield list(values[start : start + _IN_CHUNK])


def _survivors(session: Session, rows: Sequence[PatientView]) -> list[Patient]:
    seen = {row.mrn for row in rows}
    wanted = {row.merged_into for row in rows if row.merged_into} - seen
    out: list[Patient] = []
    for _ in range(_MAX_MERGE_HOPS):
        if not wanted:
            break
        fetched = list(session.scalars(select(Patient).where(Patient.mrn.in_(sorted(wanted)))))
        out += fetched
        seen |= {row.mrn for row in fetched}
        wanted = {row.merged_into for row in fetched if row.merged_into} - seen
    return out


@dataclass(frozen=True)
class GivenNameVocabulary:
    """The distinct first-name keys of the whole index (a few thousand even at a million).

    The matcher compares a page's given name with these once, then probes each surname
    block for the keys its rule does not call different: the same rows as comparing the
    block's own given names, without reading the block (20,000 Smiths) to list them.
    """

    keys: tuple[str, ...]
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)


class _VocabularyCache:
    """The vocabularies of one store, keyed by the index generation they were read at."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[object, tuple[int, object]] = {}


_CACHES: weakref.WeakKeyDictionary[Store, _VocabularyCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def surname_vocabulary(store: Store, *, undated_only: bool) -> SurnameVocabulary:
    """The distinct last-name keys of the index (or of its undated patients), cached.

    The cache is re-read when an import changed the index (its generation counter).
    """
    return name_vocabularies(store, undated_only=undated_only)[0]


def given_name_vocabulary(store: Store) -> GivenNameVocabulary:
    """The distinct first-name keys of the index, cached like :func:`surname_vocabulary`."""
    return name_vocabularies(store, undated_only=False)[1]


def name_vocabularies(
    store: Store, *, undated_only: bool
) -> tuple[SurnameVocabulary, GivenNameVocabulary]:
    """Both vocabularies a name lookup needs, checked against one reading of the generation."""
    with _CACHES_LOCK:
        cache = _CACHES.setdefault(store, _VocabularyCache())
    with store.session() as session:
        connection = session.connection()
        # Plain SQL: this runs on every lookup, and the ORM statement cost more than it.
        state = RegistryState.__tablename__
        generation = connection.exec_driver_sql(
            f"SELECT generation FROM {state} WHERE id = 1"  # noqa: S608 - a fixed table name
        ).scalar()
        generation = int(generation or 0)
        with cache.lock:
            surnames = cache.entries.get(("surnames", undated_only))
            if surnames is None or surnames[0] != generation:
                surnames = (generation, _read_vocabulary(session, undated_only=undated_only))
                cache.entries[("surnames", undated_only)] = surnames
            given = cache.entries.get("given names")
            if given is None or given[0] != generation:
                given = (generation, _read_given_names(session))
                cache.entries["given names"] = given
    return cast(SurnameVocabulary, surnames[1]), cast(GivenNameVocabulary, given[1])


def _read_given_names(session: Session) -> GivenNameVocabulary:
    # The (last_key, first_key) index covers this: no table row is read.
    rows = session.connection().exec_driver_sql("SELECT DISTINCT first_key FROM patients")
    return GivenNameVocabulary(tuple(sorted(key for (key,) in rows)))


def _read_vocabulary(session: Session, *, undated_only: bool) -> SurnameVocabulary:
    statement = select(Patient.last_key, Patient.last_parts).distinct()
    if undated_only:
        statement = statement.where(Patient.dob.is_(None))
    keys: set[str] = set()
    parts: dict[str, set[tuple[str, ...]]] = {}
    by_part: dict[str, set[str]] = {}
    for key, stored_parts in session.execute(statement):
        keys.add(key)
        if stored_parts:
            split = tuple(stored_parts.split())
            parts.setdefault(key, set()).add(split)
            for part in split:
                by_part.setdefault(part, set()).add(key)
    return SurnameVocabulary(
        keys=tuple(sorted(keys)),
        parts={key: frozenset(value) for key, value in parts.items()},
        by_part={part: frozenset(value) for part, value in by_part.items()},
    )
