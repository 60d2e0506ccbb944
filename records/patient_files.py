"""Reading a patient import file: sniff its format, then parse it into records.

Formats, told apart by their first characters (after a BOM and whitespace):

- ``MSH``/``FHS``/``BHS``: HL7 v2 ADT messages (:mod:`records.hl7_adt`).
- ``{``: FHIR JSON — a Bundle or a single Patient, else ndjson, one Patient a line
  (:mod:`records.fhir_patients`).
- the header ``mrn,last_name,first_name,dob,sex``: the registry CSV (dob as YYYY-MM-DD).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from chartclerk_errors import ImportFileError
from records import hl7_adt
from records.patient_records import (
    BadRecord,
    Item,
    RecordError,
    Upsert,
    make_record,
    parse_iso_date,
)
from records.settings import FeedSettings

CSV_HEADER = ("mrn", "last_name", "first_name", "dob", "sex")


Progress = Callable[[int, int], None]
"""Told ``(bytes read, bytes in the file)`` as an import file is read."""
_SNIFF_BYTES = 64 * 1024
_REPORT_EVERY = 5000


def read_import_file(
    path: Path, feeds: FeedSettings | None = None, progress: Progress | None = None
) -> tuple[str, Iterable[Item]]:
    """The format of an import file and its records, in file order.

    The registry CSV is streamed: its records are parsed as they are taken, so a file of a
    million patients is never held in memory. The other formats are read whole.

    Args:
        path: The file to import.
        feeds: Which HL7/FHIR identifiers are this facility's MRNs (default: type ``MR``).
        progress: Called now and then with the bytes read so far and the file's size.

    Returns:
        ``("csv" | "fhir-bundle" | "fhir-ndjson" | "hl7v2", items)``.

    Raises:
        ImportFileError: the file is missing, unreadable, not UTF-8, empty, or of no
            known format. Bad records inside a readable file are items, not errors.
    """
    size, head_bytes = _head(path)
    head = _decode(path, head_bytes, partial=size > len(head_bytes)).lstrip()
    if not head:
        raise ImportFileError(f"{path.name}: the file is empty")
    first_line = head.splitlines()[0]
    if tuple(cell.strip() for cell in first_line.split(",")) == CSV_HEADER:
        return "csv", _stream_csv(path, size, progress)
    text = _read_text(path)
    if progress is not None:
        progress(size, size)
    if hl7_adt.looks_like_hl7(head):
        return "hl7v2", list(hl7_adt.read_messages(text, feeds))
    if head.startswith("{"):
        return _read_json(path, text, feeds)
    raise ImportFileError(
        f"{path.name}: unknown format; expected a CSV with header {','.join(CSV_HEADER)}, "
        "FHIR Patient JSON/ndjson, or HL7 v2 ADT messages"
    )


def _head(path: Path) -> tuple[int, bytes]:
    try:
        with path.open("rb") as handle:
            return os.fstat(handle.fileno()).st_size, handle.read(_SNIFF_BYTES)
    except FileNotFoundError as exc:
        raise ImportFileError(f"{path.name}: no such file") from exc
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot read ({exc.strerror})") from exc


def _decode(path: Path, data: bytes, *, partial: bool) -> str:
    try:
        # A multi-byte character cut at the end of the sniffed head is not an error.
        return codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=not partial)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path.name}: not UTF-8 text (bad byte at offset {exc.start})"
        ) from exc


def _stream_csv(path: Path, size: int, progress: Progress | None) -> Iterator[Item]:
    """The CSV's records, read line by line (bounded memory)."""
    consumed = 0

    def lines(handle: BinaryIO) -> Iterator[str]:
        nonlocal consumed
        for number, raw in enumerate(handle):
            try:
                text = raw.decode("utf-8-sig" if number == 0 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    f"{path.name}: not UTF-8 text (bad byte at offset {consumed + exc.start})"
                ) from exc
            consumed += len(raw)
            if progress is not None and number % _REPORT_EVERY == 0:
                progress(consumed, size)
            yield text

    try:
        with path.open("rb") as handle:
            yield from _csv_items(lines(handle))
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot read ({exc.strerror})") from exc
    if progress is not None:
        progress(size, size)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFileError(f"{path.name}: no such file") from exc
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot read ({exc.strerror})") from exc
    return _decode(path, data, partial=False)


def _read_json(path: Path, text: str, feeds: FeedSettings | None) -> tuple[str, list[Item]]:
    # fhir.resources builds hundreds of models on import: load it only for a FHIR file,
    # so every other command starts quickly.
    from records import fhir_patients

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        # ndjson fails as one document right after its first line ("Extra data").
        if exc.msg == "Extra data":
            return "fhir-ndjson", list(fhir_patients.read_ndjson(text, feeds))
        raise ImportFileError(f"{path.name}: not valid JSON (line {exc.lineno})") from exc
    kind = document.get("resourceType") if isinstance(document, dict) else None
    if kind == "Bundle":
        return "fhir-bundle", list(fhir_patients.read_bundle(document, feeds))
    if kind == "Patient":
        return "fhir-ndjson", [fhir_patients.read_resource(1, document, feeds)]
    raise ImportFileError(f"{path.name}: JSON that is not a FHIR Bundle or Patient")


def read_csv(text: str) -> Iterator[Item]:
    """Rows of the registry CSV; the record number is the row's line in the file.

    Cells are stripped of surrounding whitespace; blank lines are ignored.
    """
    return _csv_items(io.StringIO(text, newline=""))


def _csv_items(lines: Iterable[str]) -> Iterator[Item]:
    reader = csv.reader(lines)
    header_seen = False
    width = len(CSV_HEADER)
    for row in reader:
        number = reader.line_num
        if len(row) != width and not "".join(row).strip():
            continue
        if not header_seen:
            header_seen = True  # the header, checked by the sniffer
            continue
        if len(row) != width:
            yield BadRecord(number, f"expected {width} columns, found {len(row)}")
            continue
        mrn, last, first, dob, sex = row
        try:
            yield Upsert(number, make_record(mrn, last, first, parse_iso_date(dob), sex))
        except RecordError as exc:
            yield BadRecord(number, str(exc))
