"""Reading a patient import file: sniff its format, then parse it into records.

Formats, told apart by their first characters (after a BOM and whitespace):

- ``MSH``/``FHS``/``BHS``: HL7 v2 ADT messages (:mod:`records.hl7_adt`).
- ``{``: FHIR JSON — a Bundle or a single Patient, else ndjson, one Patient a line
  (:mod:`records.fhir_patients`).
- the header ``mrn,last_name,first_name,dob,sex``: the registry CSV (dob as YYYY-MM-DD).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

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


def read_import_file(path: Path, feeds: FeedSettings | None = None) -> tuple[str, list[Item]]:
    """The format of an import file and its records, in file order.

    Args:
        path: The file to import.
        feeds: Which HL7/FHIR identifiers are this facility's MRNs (default: type ``MR``).

    Returns:
        ``("csv" | "fhir-bundle" | "fhir-ndjson" | "hl7v2", items)``.

    Raises:
        ImportFileError: the file is missing, unreadable, not UTF-8, empty, or of no
            known format. Bad records inside a readable file are items, not errors.
    """
    text = _read_text(path)
    head = text.lstrip()
    if not head:
        raise ImportFileError(f"{path.name}: the file is empty")
    if hl7_adt.looks_like_hl7(head):
        return "hl7v2", list(hl7_adt.read_messages(text, feeds))
    if head.startswith("{"):
        return _read_json(path, text, feeds)
    first_line = head.splitlines()[0]
    if tuple(cell.strip() for cell in first_line.split(",")) == CSV_HEADER:
        return "csv", list(read_csv(text))
    raise ImportFileError(
        f"{path.name}: unknown format; expected a CSV with header {','.join(CSV_HEADER)}, "
        "FHIR Patient JSON/ndjson, or HL7 v2 ADT messages"
    )


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFileError(f"{path.name}: no such file") from exc
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot read ({exc.strerror})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path.name}: not UTF-8 text (bad byte at offset {exc.start})"
        ) from exc


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
    body = text.lstrip()
    # Leading blank lines were stripped; count them back into the line numbers.
    offset = text[: len(text) - len(body)].count("\n")
    reader = csv.reader(io.StringIO(body, newline=""))
    next(reader, None)  # the header, checked by the sniffer
    for row in reader:
        number = reader.line_num + offset
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            yield BadRecord(number, f"expected {len(CSV_HEADER)} columns, found {len(row)}")
            continue
        mrn, last, first, dob, sex = (cell.strip() for cell in row)
        try:
            yield Upsert(number, make_record(mrn, last, first, parse_iso_date(dob), sex))
        except RecordError as exc:
            yield BadRecord(number, str(exc))
