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

    page_rows: Mapped[list[Page]] = relationship(
        back_populates="document", order_by="Page.number", cascade="all, delete-orphan"
    )
    identifier_rows: Mapped[list[IdentifierRow]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="document", order_by="Event.id", cascade="all, delete-orphan"
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


class Event(Base):
    """The audit trail: a document's history and every access by a person.

    ``document_id`` is null for events not about one document (an import, a search).
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    is_access: Mapped[bool] = mapped_column(Boolean, default=False)

    document: Mapped[Document | None] = relationship(back_populates="events")


class RegistryState(Base):
    """One row: a counter bumped by every change of the patient index.

    Candidate lookup caches the surname vocabulary and re-reads it when this changes.
    """

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
