"""The tables of the record store (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every chartclerk table."""


class Patient(Base):
    """One entry of the patient master index."""

    __tablename__ = "patients"
    __table_args__ = (
        # Candidate lookup: a surname block narrowed by given name, read from the index alone.
        Index("ix_patients_last_first", "last_key", "first_key"),
        # The few patients registered without a date of birth, whom no page date contradicts.
        Index(
            "ix_patients_undated_last_first",
            "last_key",
            "first_key",
            sqlite_where=text("dob IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mrn: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120))
    dob: Mapped[date | None] = mapped_column(Date, index=True)
    sex: Mapped[str | None] = mapped_column(String(16))
    # A phonetic key of the last name, so candidate lookup is an index probe, not a scan.
    name_key: Mapped[str] = mapped_column(String(32), index=True)
    # Set when an HL7 A40 merge folded this MRN into another; the row stays for the trail.
    merged_into: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Why nothing may be filed to this record without a clerk (FHIR active: false or
    # replaced-by); null for an active patient. (migration 0011_ops)
    inactive: Mapped[str | None] = mapped_column(String(64))
    # The letters of the last and first name, accents folded (``letters_key``): the keys the
    # matcher compares, so its candidate lookup is complete by construction.
    last_key: Mapped[str] = mapped_column(String(120), default="", server_default="")
    first_key: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # The keys of a double-barrelled last name's parts, space-separated; "" for one part.
    last_parts: Mapped[str] = mapped_column(String(240), default="", server_default="")


class Document(Base):
    """One received file: filed to a patient, waiting in review, or quarantined."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    source_name: Mapped[str] = mapped_column(String(512))
    source_path: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    patient_mrn: Mapped[str | None] = mapped_column(String(32), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(32))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    review_reason: Mapped[str | None] = mapped_column(Text)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    service_date: Mapped[date | None] = mapped_column(Date)
    # The match decision (candidates with scores and reasons) as JSON, shown to clerks.
    decision_json: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # None until the search index has taken the current state of this row.
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The LOINC document code of doc_type, as configured when it was classified. (0011_ops)
    doc_type_loinc: Mapped[str | None] = mapped_column(String(16))

    page_rows: Mapped[list[Page]] = relationship(
        back_populates="document", order_by="Page.number", cascade="all, delete-orphan"
    )
    identifier_rows: Mapped[list[IdentifierRow]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )


class Page(Base):
    """The text read from one page of a document."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The tesseract passes the page cost, as JSON: [{"kind", "seconds", "why"}, ...].
    passes_json: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship(back_populates="page_rows")


class IdentifierRow(Base):
    """One identifier found on a document (kind: mrn, name, dob, accession, ...)."""

    __tablename__ = "identifiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(256))
    page: Mapped[int | None] = mapped_column(Integer)

    document: Mapped[Document] = relationship(back_populates="identifier_rows")


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit trail (see records/audit.py).

    Database triggers refuse UPDATE and DELETE; nothing references documents, so deleting
    a document never touches the trail. ``mrns`` and ``document_ids`` are JSON lists, kept
    as written because the hash covers their text.
    """

    __tablename__ = "audit_log"

    # Ids are given by the writer (last + 1, under the write lock): a gap is a removal.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)
    access: Mapped[bool] = mapped_column(Boolean, default=False)
    mrns: Mapped[str] = mapped_column(Text)
    document_ids: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(255))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditLock(Base):
    """One row every append updates first, to take the write lock before reading the head."""

    __tablename__ = "audit_log_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class AuditDocument(Base):
    """Which audit entries name a document: the index behind a document's history."""

    __tablename__ = "audit_log_documents"

    document_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"), primary_key=True)


class AuditPatient(Base):
    """Which audit entries name a patient: the index behind ``audit report --patient``."""

    __tablename__ = "audit_log_patients"

    mrn: Mapped[str] = mapped_column(String(32), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"), primary_key=True)


class User(Base):
    """A person who signs in to chartclerk, with one role of records.permissions.ROLES."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    # Argon2id, in argon2's own encoded form (parameters and salt included).
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    """An API bearer token of a user; only the sha256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Reading(Base):
    """An earlier reading of a document, kept when ``documents reprocess`` reads it again.

    The document row always holds the current reading; each row here is one it replaced,
    with its pages' text and the decision made on it. (migration 0011_ops)
    """

    __tablename__ = "readings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    replaced_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    patient_mrn: Mapped[str | None] = mapped_column(String(32))
    doc_type: Mapped[str | None] = mapped_column(String(32))
    review_reason: Mapped[str | None] = mapped_column(Text)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    decision_json: Mapped[str | None] = mapped_column(Text)
    # The pages as read then: [{"number", "text", "confidence", "source", "rotation", "error"}].
    pages_json: Mapped[str] = mapped_column(Text)


class QuarantinedEntry(Base):
    """An inbox entry quarantined unread (empty, a FIFO, a link), by its file identity.

    Such an entry has no hash to recognise it by; this key (device, inode, change time)
    makes its quarantine row once, whatever crash comes between the row and the move.
    """

    __tablename__ = "quarantined_entries"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)


class DocumentPerson(Base):
    """Someone a document names who is not its patient: a provider, guarantor, subscriber...

    One row per value read (``kind``: name, dob or sex) with the role it was read under
    (``ordering``, ``attending``, ``author``, ``provider``, ``guarantor``, ``subscriber``,
    ``emergency_contact``). Providers are kept for chart completeness; the others show a
    clerk what was set aside when matching.
    """

    __tablename__ = "document_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    role: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(256))
    page: Mapped[int | None] = mapped_column(Integer)


class WebSession(Base):
    """A signed-in browser session of the web desk; the id is kept only as its sha256."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(120), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class ReviewClaim(Base):
    """A clerk working a review item holds it for a few minutes, so no one else works it."""

    __tablename__ = "review_claims"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(120))
    until: Mapped[datetime] = mapped_column(DateTime)


# -- chart completeness (issue 13) ----------------------------------------------------------


class Provider(Base):
    """A physician or other provider, as the ADT feed names them (PV1-7 id and name)."""

    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Encounter(Base):
    """One visit of a patient (an admission, a day-surgery stay, an outpatient visit)."""

    __tablename__ = "encounters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_number: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    patient_mrn: Mapped[str] = mapped_column(String(32), index=True)
    patient_class: Mapped[str] = mapped_column(String(16))
    admit_at: Mapped[datetime | None] = mapped_column(DateTime)
    discharge_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    attending_id: Mapped[str | None] = mapped_column(String(64))
    surgeon_id: Mapped[str | None] = mapped_column(String(64))
    procedure_start: Mapped[datetime | None] = mapped_column(DateTime)
    procedure_end: Mapped[datetime | None] = mapped_column(DateTime)
    # "active", or "cancelled" after an HL7 A11 (the row stays for the trail).
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class EncounterLink(Base):
    """Which encounter a filed document belongs to, and why (null visit: patient-level)."""

    __tablename__ = "encounter_links"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    visit_number: Mapped[str | None] = mapped_column(String(64), index=True)
    why: Mapped[str] = mapped_column(String(200))
    # A clerk's choice; analysis never overrides it while the document stays with the patient.
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime)


class Deficiency(Base):
    """Something a chart lacks: a required document, or a signature/date on a filed one."""

    __tablename__ = "deficiencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    doc_type: Mapped[str | None] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(64))
    rule_version: Mapped[str] = mapped_column(String(32))
    assigned_to: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    delinquent_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(120))
    # The closing document, or for a document-level deficiency the document marked.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    # A document that may satisfy it but was not closed automatically (see deficiencies.py).
    suggested_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    # Set while open: encounter, rule, kind (and document for document-level checks). The
    # unique index keeps one open deficiency per key however often analysis runs.
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class DeficiencyLetter(Base):
    """A request letter sent to a provider, one row per deficiency it listed."""

    __tablename__ = "deficiency_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deficiency_id: Mapped[int] = mapped_column(ForeignKey("deficiencies.id"), index=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    file_name: Mapped[str] = mapped_column(String(256))


class RegistryState(Base):
    """One row: a counter bumped by every change of the patient index.

    Candidate lookup caches the surname vocabulary and re-reads it when this changes.
    """

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
