"""The patient master index: import, candidate lookup and listing.

Imports run in one transaction with bulk statements: the MRNs of the file are looked up
once, in chunks, new patients are inserted with one executemany and changed ones updated
by primary key in another. Nothing here logs a name, MRN or date of birth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, insert, select, text, update
from sqlalchemy.orm import Session

from chartclerk_errors import NotFoundError
from records import audit
from records.audit import Actor
from records.models import Document, Encounter, Patient, RegistryState
from records.patient_files import Progress, read_import_file
from records.patient_records import (
    BadRecord,
    IdChange,
    Merge,
    NotHandled,
    PatientRecord,
    Skipped,
    Upsert,
    letters_key,
    lookup_keys,
    name_key,
    surname_parts,
)
from records.settings import FeedSettings
from records.store import Store, now
from records.views import PatientView, dump_detail

__all__ = [
    "ImportReport",
    "bump_generation",
    "count_patients",
    "get_patient",
    "import_patients",
    "list_patients",
    "name_key",
]

log = logging.getLogger(__name__)
# Stay well under SQLite's limit of bound parameters in one statement.
_CHUNK = 500
# Records applied per step of an import: bounds memory, keeps statements large.
_IMPORT_CHUNK = 20_000
# A chain of merges (A40 on a survivor itself merged later) longer than this is a loop.
_MAX_MERGE_HOPS = 10
_PATIENTS = cast(Table, Patient.__table__)


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        format: ``csv``, ``fhir-bundle``, ``fhir-ndjson`` or ``hl7v2``.
        added: Patients new to the index.
        updated: Patients whose name, date of birth or sex changed.
        unchanged: Records identical to what the index held.
        merged: Prior MRNs newly folded into a survivor (HL7 A40); a survivor that was
            itself merged is followed to the final survivor.
        renamed: Patients whose MRN changed (HL7 A47).
        documents_moved: Documents refiled from a prior MRN to its survivor or new MRN.
        skipped: Well-formed records that do not touch the index (an HL7 A03, a FHIR
            Bundle entry that is not a Patient).
        errors: ``(number, message)`` of each record skipped as bad: the line number for
            CSV, ndjson and HL7 (the line of the message's MSH), the entry number (from 1)
            for a FHIR Bundle (see ``numbered_by``). Messages never hold the offending value.
        not_handled: ``(number, what)`` of each well-formed message chartclerk does not
            apply (HL7 A37 unlink, ...): to be done by hand.
        numbered_by: ``line`` or ``entry``: what the numbers of errors count.
    """

    format: str = ""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    renamed: int = 0
    documents_moved: int = 0
    # The MRNs whose documents and visits moved (both sides of each merge or A47).
    moved_mrns: set[str] = field(default_factory=set)
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    not_handled: list[tuple[int, str]] = field(default_factory=list)
    numbered_by: str = "line"

    def counts(self) -> dict[str, Any]:
        """The figures without any PHI, for the audit trail and logs."""
        return {
            "format": self.format,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "renamed": self.renamed,
            "documents_moved": self.documents_moved,
            "skipped": self.skipped,
            "errors": len(self.errors),
            "not_handled": len(self.not_handled),
        }


@dataclass
class _Known:
    """A patient as the index will hold it after the import; id None until inserted."""

    id: int | None
    record: PatientRecord
    merged_into: str | None


def import_patients(
    store: Store,
    path: Path,
    *,
    actor: Actor,
    feeds: FeedSettings | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Load a patient file (CSV, FHIR Bundle/ndjson, HL7 v2 ADT) into the master index.

    Re-importing updates in place (upsert by MRN), never duplicates. A bad record is
    reported with its number and skipped; the rest loads, in one transaction. One global
    audit event records the counts. The CSV is streamed and applied in chunks, so memory
    stays bounded whatever the size of the file.

    Args:
        store: The record store.
        path: The file; its format is sniffed from its content.
        actor: Who runs the import, for the audit trail.
        feeds: Which HL7/FHIR identifiers are this facility's MRNs (default: type ``MR``).
        progress: Called now and then with ``(bytes read, file size)`` (a progress bar).

    Returns:
        The counts and the per-record errors.

    Raises:
        ImportFileError: the file cannot be read at all or is of no known format.
        StoreError: the database refused the import; nothing was loaded.
    """
    fmt, items = read_import_file(path, feeds, progress)
    report = ImportReport(format=fmt, numbered_by="entry" if fmt == "fhir-bundle" else "line")
    with store.session() as session:
        _bulk_pragmas(session)
        set_aside = _set_aside_indexes(session)
        stream = iter(items)
        changed = False
        while chunk := list(islice(stream, _IMPORT_CHUNK)):
            loader = _Loader(session, report, actor)
            loader.prefetch(_mrns_of(chunk))
            for item in chunk:
                loader.apply(item)
            changed = loader.flush() or changed
        for statement in set_aside:
            session.connection().exec_driver_sql(statement)
        if changed:
            bump_generation(session)
        audit.record(session, actor, "patients imported", detail=dump_detail(report.counts()))
    if report.moved_mrns:
        # Merged or renumbered patients: their charts are analysed again as one.
        store.documents_moved(report.moved_mrns, [], actor=actor)
    log.info("patients imported: %s", report.counts())
    return report


def _bulk_pragmas(session: Session) -> None:
    # A bigger page cache for this connection: the indexes of a million rows are built
    # in one transaction, and SQLite's default 2 MB cache made it spill to disk.
    session.execute(text("PRAGMA cache_size=-131072"))


def _set_aside_indexes(session: Session) -> list[str]:
    """Drop the secondary indexes of an empty patient table; their statements, to rebuild.

    Built once from a million sorted rows, an index costs a fraction of a million random
    insertions into it. The MRN index stays: the import looks MRNs up as it goes. All of
    it happens inside the import's transaction, so a failed import leaves them as they were.
    """
    if session.get_bind().dialect.name != "sqlite":
        return []
    if session.execute(text("SELECT 1 FROM patients LIMIT 1")).first() is not None:
        return []
    rows = session.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'patients'"
            " AND sql IS NOT NULL AND name != 'ix_patients_mrn'"
        )
    ).all()
    for name, _sql in rows:
        session.connection().exec_driver_sql(f'DROP INDEX "{name}"')
    return [sql for _name, sql in rows]


def bump_generation(session: Session) -> None:
    """Mark the patient index changed (candidate lookup re-reads its surname vocabulary)."""
    done = session.execute(
        update(RegistryState)
        .where(RegistryState.id == 1)
        .values(generation=RegistryState.generation + 1)
    )
    if not getattr(done, "rowcount", 0):
        session.execute(insert(RegistryState).values(id=1, generation=1))


def _mrns_of(items: Iterable[object]) -> set[str]:
    mrns: set[str] = set()
    for item in items:
        if isinstance(item, Upsert | Merge | IdChange):
            mrns.add(item.record.mrn)
        if isinstance(item, Merge | IdChange):
            mrns.add(item.prior_mrn)
    return mrns


_INSERT_COLUMNS = (
    "mrn", "last_name", "first_name", "dob", "sex", "name_key", "last_key", "first_key",
    "last_parts", "merged_into", "inactive", "updated_at",
)  # fmt: skip
_INSERT = (
    f"INSERT INTO patients ({', '.join(_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})"
)


def _insert_values(known: _Known, stamp: str) -> tuple[Any, ...]:
    """One row for ``_INSERT``, stored as SQLAlchemy stores on SQLite (ISO dates and times)."""
    record = known.record
    last = record.last_name
    return (
        record.mrn,
        last,
        record.first_name,
        record.dob.isoformat() if record.dob else None,
        record.sex,
        name_key(last),
        letters_key(last),
        letters_key(record.first_name),
        " ".join(surname_parts(last)),
        known.merged_into,
        record.inactive,
        stamp,
    )


class _Loader:
    """Applies items to an in-memory picture of the affected rows, then writes in bulk."""

    def __init__(self, session: Session, report: ImportReport, actor: Actor) -> None:
        self.session = session
        self.report = report
        self.actor = actor
        self.stamp = now()
        self.known: dict[str, _Known] = {}
        self.dirty: set[str] = set()
        # (prior MRN, MRN its documents and merged rows move to, event kind), in file order.
        self.moves: list[tuple[str, str, str]] = []

    def prefetch(self, mrns: set[str]) -> None:
        """Load the rows of these MRNs, a chunk per query."""
        ordered = sorted(mrns)
        for start in range(0, len(ordered), _CHUNK):
            self._load(ordered[start : start + _CHUNK])

    def _load(self, mrns: list[str]) -> None:
        cols = (Patient.id, Patient.mrn, Patient.last_name, Patient.first_name, Patient.dob)
        query = select(*cols, Patient.sex, Patient.inactive, Patient.merged_into).where(
            Patient.mrn.in_(mrns)
        )
        for pid, mrn, last, first, dob, sex, inactive, merged_into in self.session.execute(query):
            record = PatientRecord(mrn, last, first, dob, sex, inactive)
            self.known[mrn] = _Known(pid, record, merged_into)

    def _lookup(self, mrn: str) -> _Known | None:
        """The patient of this MRN as it stands in this import (a row not yet loaded too)."""
        if mrn not in self.known:
            self._load([mrn])
        return self.known.get(mrn)

    def apply(self, item: object) -> None:
        """Apply one parsed item in file order."""
        if isinstance(item, BadRecord):
            self.report.errors.append((item.number, item.message))
        elif isinstance(item, Skipped):
            self.report.skipped += 1
        elif isinstance(item, NotHandled):
            self.report.not_handled.append((item.number, item.what))
        elif isinstance(item, Upsert):
            self._upsert(item.number, item.record, item.keep)
        elif isinstance(item, Merge):
            self._merge(item)
        elif isinstance(item, IdChange):
            self._change_id(item)

    def _upsert(self, number: int, record: PatientRecord, keep: frozenset[str]) -> None:
        known = self.known.get(record.mrn)
        if known is None:
            if "last_name" in keep:
                self.report.errors.append((number, "missing last_name"))
                return
            self.known[record.mrn] = _Known(None, record, None)
            self.dirty.add(record.mrn)
            self.report.added += 1
            return
        record = self._as_update(record, keep, known.record)
        if known.record == record:
            self.report.unchanged += 1
        else:
            known.record = record
            self.dirty.add(record.mrn)
            self.report.updated += 1

    def _as_update(
        self, record: PatientRecord, keep: frozenset[str], held: PatientRecord
    ) -> PatientRecord:
        """``record`` with the fields it leaves alone taken from the ``held`` one."""
        kept: dict[str, Any] = {name: getattr(held, name) for name in keep}
        if not self.report.format.startswith("fhir"):
            # Only FHIR says whether a record is active; CSV and HL7 leave that as it is.
            kept["inactive"] = held.inactive
        return replace(record, **kept)

    def _final(self, mrn: str) -> str | None:
        """The survivor at the end of ``mrn``'s chain of merges; None for a loop."""
        seen: set[str] = set()
        while mrn not in seen and len(seen) <= _MAX_MERGE_HOPS:
            seen.add(mrn)
            known = self._lookup(mrn)
            if known is None or not known.merged_into:
                return mrn
            mrn = known.merged_into
        return None

    def _merge(self, item: Merge) -> None:
        """Fold the prior MRN into the survivor, or into the survivor's own survivor."""
        survivor, prior_mrn = item.record, item.prior_mrn
        final = self._final(survivor.mrn)
        if final is None or final == prior_mrn:
            # Merging A into B after B was merged into A would retire both: refuse.
            self.report.errors.append(
                (
                    item.number,
                    "A40 refused: the surviving MRN was itself merged into the prior MRN "
                    "(a merge back the other way); nothing changed",
                )
            )
            return
        self._upsert(item.number, survivor, item.keep)
        prior = self._lookup(prior_mrn)
        if prior is None:
            # A prior MRN the index never held (loaded after the merge): keep a trail row,
            # so paper still bearing the old MRN finds the survivor.
            held = self.known.get(survivor.mrn)
            stub = replace(held.record if held else survivor, mrn=prior_mrn)
            prior = self.known[prior_mrn] = _Known(None, stub, None)
        if prior.merged_into == final:
            return
        self._repoint(prior_mrn, final, "patient merged")
        prior.merged_into = final
        self.dirty.add(prior_mrn)
        self.report.merged += 1

    def _change_id(self, item: IdChange) -> None:
        """Give the patient of the prior MRN the new one, documents and all (HL7 A47)."""
        prior = self._lookup(item.prior_mrn)
        problem = None
        if prior is None:
            problem = "A47: the prior MRN is not in the index; nothing changed"
        elif prior.merged_into:
            problem = "A47: the prior MRN was merged into another; nothing changed"
        elif self._lookup(item.record.mrn) is not None:
            problem = "A47: the new MRN already belongs to a patient (a merge is A40)"
        if prior is None or problem:
            self.report.errors.append((item.number, problem or ""))
            return
        del self.known[item.prior_mrn]
        self.dirty.discard(item.prior_mrn)
        prior.record = self._as_update(item.record, item.keep, prior.record)
        self.known[item.record.mrn] = prior
        self.dirty.add(item.record.mrn)
        self._repoint(item.prior_mrn, item.record.mrn, "patient identifier changed")
        self.report.renamed += 1

    def _repoint(self, old: str, new: str, kind: str) -> None:
        """Send what points at ``old`` (documents, merged rows) to ``new`` at flush."""
        for known in self.known.values():
            if known.merged_into == old:
                known.merged_into = new
        self.moves.append((old, new, kind))

    def flush(self) -> bool:
        """Write the new and changed rows, then refile the documents of merged MRNs.

        Returns:
            Whether anything was written.
        """
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        stamp = self.stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
        for mrn in self.dirty:
            known = self.known[mrn]
            if known.id is None:
                inserts.append(_insert_values(known, stamp))
            else:
                updates.append({"id": known.id, **self._row(known)})
        if updates:
            # Updates first: an A47 frees an MRN that a new row of the same file may take.
            self.session.execute(update(Patient), updates)
            self._touch_documents([row["mrn"] for row in updates])
        if inserts:
            # The driver's own executemany on plain tuples: SQLAlchemy's per-row parameter
            # processing cost more than SQLite's work at a million rows.
            self.session.connection().exec_driver_sql(_INSERT, inserts)
        for old, new, kind in self.moves:
            # Rows merged into the old MRN earlier follow it, so chains end at one survivor.
            self.session.execute(
                update(Patient)
                .where(Patient.merged_into == old)
                .values(merged_into=new, updated_at=self.stamp)
                .execution_options(synchronize_session=False)
            )
            self.report.documents_moved += self._move_documents(old, new, kind)
            # The patient's visits follow too, so chart completeness sees one chart.
            self.session.execute(
                update(Encounter)
                .where(Encounter.patient_mrn == old)
                .values(patient_mrn=new)
                .execution_options(synchronize_session=False)
            )
            self.report.moved_mrns.update((old, new))
        return bool(inserts or updates or self.moves)

    def _touch_documents(self, mrns: list[str]) -> None:
        # A new name or date of birth must reach the search index's copy of it: a new
        # updated_at makes their documents pending for the index.
        for start in range(0, len(mrns), _CHUNK):
            self.session.execute(
                update(Document)
                .where(Document.patient_mrn.in_(mrns[start : start + _CHUNK]))
                .values(updated_at=self.stamp)
                .execution_options(synchronize_session=False)
            )

    def _row(self, known: _Known) -> dict[str, Any]:
        record = known.record
        return {
            "mrn": record.mrn,
            "last_name": record.last_name,
            "first_name": record.first_name,
            "dob": record.dob,
            "sex": record.sex,
            "inactive": record.inactive,
            "name_key": name_key(record.last_name),
            "last_key": letters_key(record.last_name),
            "first_key": letters_key(record.first_name),
            "last_parts": " ".join(surname_parts(record.last_name)),
            "merged_into": known.merged_into,
            "updated_at": self.stamp,
        }

    def _move_documents(self, prior: str, survivor: str, kind: str) -> int:
        ids = list(self.session.scalars(select(Document.id).where(Document.patient_mrn == prior)))
        if not ids:
            return 0
        self.session.execute(
            update(Document)
            .where(Document.id.in_(ids))
            # A new updated_at makes the search index take the new MRN.
            .values(patient_mrn=survivor, updated_at=self.stamp)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            self.session,
            self.actor,
            kind,
            mrns=[prior, survivor],
            document_ids=ids,
            detail=dump_detail({"from": prior, "to": survivor}),
        )
        return len(ids)


def list_patients(store: Store, *, query: str | None = None, limit: int = 100) -> list[PatientView]:
    """Patients by last name, or those matching ``query``.

    Args:
        store: The record store.
        query: An MRN, a ``YYYY-MM-DD`` date of birth, or a last name (matched by its
            phonetic key, so ``Smyth`` finds ``Smith``); ``Last, First`` also narrows by the
            start of the first name. Each is an index lookup.
        limit: The most patients to return.

    Returns:
        The patients, ordered by last name, first name and MRN.
    """
    statement = select(Patient)
    text = (query or "").strip()
    if text:
        statement = statement.where(_query_filter(text))
    order = (Patient.last_name, Patient.first_name, Patient.mrn)
    with store.session() as session:
        rows = session.scalars(statement.order_by(*order).limit(limit))
        return [PatientView.of(row) for row in rows]


def _query_filter(text: str) -> ColumnElement[bool]:
    try:
        return Patient.dob == date.fromisoformat(text)
    except ValueError:
        pass
    last, _, first = text.partition(",")
    keys = sorted(lookup_keys(last))
    by_name: ColumnElement[bool] = Patient.name_key.in_(keys)
    if first.strip():
        prefix = first.strip().lower()
        by_name = and_(by_name, func.lower(Patient.first_name).startswith(prefix, autoescape=True))
    return (Patient.mrn == text) | by_name


def get_patient(store: Store, mrn: str) -> PatientView:
    """The patient with this MRN (a merged one too: see ``merged_into``).

    Raises:
        NotFoundError: no patient has this MRN.
    """
    with store.session() as session:
        row = session.scalar(select(Patient).where(Patient.mrn == mrn.strip()))
        if row is None:
            raise NotFoundError("no patient with this MRN")
        return PatientView.of(row)


def count_patients(store: Store) -> int:
    """How many patients the index holds, merged (prior) rows included."""
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(Patient)) or 0)
