"""The patient master index: import, candidate lookup and listing.

Imports run in one transaction with bulk statements: the MRNs of the file are looked up
once, in chunks, new patients are inserted with one executemany and changed ones updated
by primary key in another. Nothing here logs a name, MRN or date of birth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, insert, select, text, update
from sqlalchemy.orm import Session

from chartclerk_errors import NotFoundError
from records.models import Document, Event, Patient, RegistryState
from records.patient_files import Progress, read_import_file
from records.patient_records import (
    BadRecord,
    Merge,
    PatientRecord,
    Skipped,
    Upsert,
    letters_key,
    lookup_keys,
    name_key,
    surname_parts,
)
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
_PATIENTS = cast(Table, Patient.__table__)


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        format: ``csv``, ``fhir-bundle``, ``fhir-ndjson`` or ``hl7v2``.
        added: Patients new to the index.
        updated: Patients whose name, date of birth or sex changed.
        unchanged: Records identical to what the index held.
        merged: Prior MRNs newly folded into a survivor (HL7 A40).
        documents_moved: Documents refiled from a prior MRN to its survivor.
        skipped: Well-formed records that do not touch the index (an HL7 A03, a FHIR
            Bundle entry that is not a Patient).
        errors: ``(number, message)`` of each record skipped as bad: the line number for
            CSV, ndjson and HL7 (the line of the message's MSH), the entry number (from 1)
            for a FHIR Bundle. Messages never hold the offending value.
    """

    format: str = ""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    documents_moved: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        """The figures without any PHI, for the audit trail and logs."""
        return {
            "format": self.format,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "documents_moved": self.documents_moved,
            "skipped": self.skipped,
            "errors": len(self.errors),
        }


@dataclass
class _Known:
    """A patient as the index will hold it after the import; id None until inserted."""

    id: int | None
    record: PatientRecord
    merged_into: str | None


def import_patients(
    store: Store, path: Path, *, actor: str, progress: Progress | None = None
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
        progress: Called now and then with ``(bytes read, file size)`` (a progress bar).

    Returns:
        The counts and the per-record errors.

    Raises:
        ImportFileError: the file cannot be read at all or is of no known format.
        StoreError: the database refused the import; nothing was loaded.
    """
    fmt, items = read_import_file(path, progress)
    report = ImportReport(format=fmt)
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
    store.add_event(None, "patients imported", report.counts(), actor=actor)
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
        if isinstance(item, Upsert | Merge):
            mrns.add(item.record.mrn)
        if isinstance(item, Merge):
            mrns.add(item.prior_mrn)
    return mrns


_INSERT_COLUMNS = (
    "mrn", "last_name", "first_name", "dob", "sex", "name_key", "last_key", "first_key",
    "last_parts", "merged_into", "updated_at",
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
        stamp,
    )


class _Loader:
    """Applies items to an in-memory picture of the affected rows, then writes in bulk."""

    def __init__(self, session: Session, report: ImportReport, actor: str) -> None:
        self.session = session
        self.report = report
        self.actor = actor
        self.stamp = now()
        self.known: dict[str, _Known] = {}
        self.dirty: set[str] = set()
        self.moves: list[tuple[str, str]] = []

    def prefetch(self, mrns: set[str]) -> None:
        """Load the rows of these MRNs, a chunk per query."""
        ordered = sorted(mrns)
        cols = (Patient.id, Patient.mrn, Patient.last_name, Patient.first_name)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            query = select(*cols, Patient.dob, Patient.sex, Patient.merged_into).where(
                Patient.mrn.in_(chunk)
            )
            for pid, mrn, last, first, dob, sex, merged_into in self.session.execute(query):
                record = PatientRecord(mrn, last, first, dob, sex)
                self.known[mrn] = _Known(pid, record, merged_into)

    def apply(self, item: object) -> None:
        """Apply one parsed item in file order."""
        if isinstance(item, BadRecord):
            self.report.errors.append((item.number, item.message))
        elif isinstance(item, Skipped):
            self.report.skipped += 1
        elif isinstance(item, Upsert):
            self._upsert(item.record)
        elif isinstance(item, Merge):
            self._upsert(item.record)
            self._merge(item.prior_mrn, item.record)

    def _upsert(self, record: PatientRecord) -> None:
        known = self.known.get(record.mrn)
        if known is None:
            self.known[record.mrn] = _Known(None, record, None)
            self.dirty.add(record.mrn)
            self.report.added += 1
        elif known.record == record:
            self.report.unchanged += 1
        else:
            known.record = record
            self.dirty.add(record.mrn)
            self.report.updated += 1

    def _merge(self, prior_mrn: str, survivor: PatientRecord) -> None:
        prior = self.known.get(prior_mrn)
        if prior is None:
            # A prior MRN the index never held (loaded after the merge): keep a trail row,
            # so paper still bearing the old MRN finds the survivor.
            stub = PatientRecord(
                prior_mrn, survivor.last_name, survivor.first_name, survivor.dob, survivor.sex
            )
            prior = self.known[prior_mrn] = _Known(None, stub, None)
        if prior.merged_into == survivor.mrn:
            return
        prior.merged_into = survivor.mrn
        self.dirty.add(prior_mrn)
        self.moves.append((prior_mrn, survivor.mrn))
        self.report.merged += 1

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
        if inserts:
            # The driver's own executemany on plain tuples: SQLAlchemy's per-row parameter
            # processing cost more than SQLite's work at a million rows.
            self.session.connection().exec_driver_sql(_INSERT, inserts)
        if updates:
            self.session.execute(update(Patient), updates)
        for prior, survivor in self.moves:
            self.report.documents_moved += self._move_documents(prior, survivor)
        return bool(inserts or updates or self.moves)

    def _row(self, known: _Known) -> dict[str, Any]:
        record = known.record
        return {
            "mrn": record.mrn,
            "last_name": record.last_name,
            "first_name": record.first_name,
            "dob": record.dob,
            "sex": record.sex,
            "name_key": name_key(record.last_name),
            "last_key": letters_key(record.last_name),
            "first_key": letters_key(record.first_name),
            "last_parts": " ".join(surname_parts(record.last_name)),
            "merged_into": known.merged_into,
            "updated_at": self.stamp,
        }

    def _move_documents(self, prior: str, survivor: str) -> int:
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
        detail = dump_detail({"from": prior, "to": survivor})
        self.session.add_all(
            Event(
                document_id=doc_id,
                at=self.stamp,
                actor=self.actor,
                kind="patient merged",
                detail=detail,
            )
            for doc_id in ids
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
