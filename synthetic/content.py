"""The words on each page of a spec, decided once so that images and text layers agree."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date

from synthetic import names, role_pages
from synthetic.clinical_text import Line, body_lines, service_date
from synthetic.spec import ROLE_LAYOUTS, TITLES, DocumentSpec, ShownIdentifiers, shown_identifiers

BODY_LINES_PER_PAGE = 32
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MRN_LABELS = ("MRN:", "MRN:", "Med Rec #:")
_DOB_LABELS = ("DOB:", "DOB:", "Date of Birth:")
_NAME_LABELS = ("Name:", "Patient:", "Patient Name:")


@dataclass(frozen=True)
class PageContent:
    """Everything written on one page, grouped the way the renderer lays it out.

    Attributes:
        fax_header: The fax machine's line at the very top, or None.
        letterhead: Hospital name, department, and address with phone.
        title: The document title, e.g. ``LABORATORY REPORT``.
        id_lines: The identifier lines: label lines (labelled, fax), header then details
            (last_first), or the sticker's lines (sticker).
        table: Column labels and the values beneath them (table layout), or None.
        extra_lines: Decoy numbers (accession, account, encounter) as labelled lines.
        body: The clinical text.
        footer: Left and right footer text; the right one is ``Page X of Y``.
        serif: Whether the body is set in a serif face.
        sticker_angle: Degrees the sticker is turned (sticker layout).
    """

    fax_header: str | None
    letterhead: tuple[str, str, str]
    title: str
    id_lines: tuple[str, ...]
    table: tuple[tuple[str, ...], tuple[str, ...]] | None
    extra_lines: tuple[str, ...]
    body: tuple[Line, ...]
    footer: tuple[str, str]
    serif: bool
    sticker_angle: float


def format_date(value: date, fmt: str) -> str:
    """Format a date as ``us``, ``iso``, ``long`` or ``dmy_mon``.

    Args:
        value: The date.
        fmt: The format key.

    Returns:
        The date text, e.g. ``03/14/1962``, ``1962-03-14``, ``March 14, 1962``,
        ``14-Mar-1962``.
    """
    month = _MONTHS[value.month - 1]
    return {
        "us": f"{value.month:02d}/{value.day:02d}/{value.year}",
        "iso": value.isoformat(),
        "long": f"{month} {value.day}, {value.year}",
        "dmy_mon": f"{value.day:02d}-{month[:3]}-{value.year}",
    }[fmt]


def format_name(shown: ShownIdentifiers, form: str, last_first: bool) -> str:
    """Format the shown name, e.g. ``Jane A Doe``, ``Doe, Jane A`` or ``DOE, JANE A``."""
    first = shown.first or ""
    middle = f" {shown.middle}" if shown.middle else ""
    text = f"{shown.last}, {first}{middle}" if last_first else f"{first}{middle} {shown.last}"
    return text.upper() if form == "caps" else text


def build_pages(spec: DocumentSpec) -> list[PageContent]:
    """Decide the content of every page of ``spec`` (deterministic in the spec alone).

    Args:
        spec: The document.

    Returns:
        One PageContent per page.
    """
    rng = random.Random(f"content:{spec.content_seed}:{spec.doc_type}")
    hospital = rng.choice(names.HOSPITALS)
    letterhead = (
        hospital[0],
        names.DEPARTMENTS[spec.doc_type],
        f"{hospital[1]}  Tel {hospital[2]}",
    )
    id_lines, table = _identifier_block(spec, rng)
    extra = _extra_lines(spec, rng)
    serif = rng.random() < 0.4
    angle = rng.choice((-1, 1)) * rng.uniform(1.0, 3.5)
    bodies = _paginate(spec, rng)
    sent = service_date(rng).strftime("%m/%d/%Y")
    to_fax = f"(555) 010-{rng.randrange(10_000):04d}"
    pages = []
    for index, body in enumerate(bodies, start=1):
        fax = None
        if spec.layout == "fax":
            fax = f"{sent} 14:{index + 20:02d}  FROM: {hospital[2]} {hospital[0].title()}  "
            fax += f"TO: {to_fax}  P.{index:03d}/{spec.pages:03d}"
        footer = ("CONFIDENTIAL PATIENT INFORMATION", f"Page {index} of {spec.pages}")
        pages.append(
            PageContent(
                fax,
                letterhead,
                TITLES[spec.doc_type],
                id_lines,
                table,
                extra,
                tuple(body),
                footer,
                serif,
                angle,
            )
        )
    if spec.layout in ROLE_LAYOUTS:
        pages = _role_pages(spec, pages)
    return pages


def _role_pages(spec: DocumentSpec, pages: list[PageContent]) -> list[PageContent]:
    """Face sheets, letters, fax covers, orders and outside records (see ``role_pages``)."""
    rng = random.Random(f"roles:{spec.content_seed}")
    shown = shown_identifiers(spec)
    first = pages[0]
    if spec.layout == "face_sheet":
        ids = tuple(role_pages.patient_block(spec, shown, heading=True))
        extra = (*role_pages.face_sheet_lines(spec, rng), *first.extra_lines)
        return [replace(p, id_lines=ids, extra_lines=extra) for p in pages]
    if spec.layout == "orders":
        extra = (*role_pages.provider_lines(spec, rng), *first.extra_lines)
        return [replace(p, extra_lines=extra) for p in pages]
    if spec.layout == "outside_record":
        ids = tuple(role_pages.outside_lines(spec, shown, rng))
        return [replace(p, id_lines=ids) for p in pages]
    if spec.layout == "letter":
        opening = role_pages.letter_lines(spec, shown, rng)
        body = (*opening, *first.body[: len(first.body) - len(opening)])
        return [replace(first, id_lines=(), body=body), *pages[1:]]
    # fax_cover: the cover sheet, then the document's pages
    lines, notice = role_pages.cover_lines(spec, rng)
    sent = f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 28):02d}/2024 09:{rng.randrange(60):02d}"
    cover = replace(
        first,
        fax_header=f"{sent}  FROM: HEALTH INFORMATION MANAGEMENT  P.001/{spec.pages:03d}",
        title="FACSIMILE TRANSMITTAL",
        id_lines=tuple(lines),
        table=None,
        extra_lines=(),
        body=tuple(notice),
    )
    return [cover, *pages[: len(pages) - 1]]


def page_text(page: PageContent) -> str:
    """Return the page's text, one line per drawn line, in reading order."""
    lines: list[str] = []
    if page.fax_header:
        lines.append(page.fax_header)
    lines += page.letterhead
    lines.append(page.title)
    lines += page.id_lines
    if page.table is not None:
        lines += ["    ".join(page.table[0]), "    ".join(page.table[1])]
    lines += page.extra_lines
    lines += [line.text for line in page.body]
    lines.append("    ".join(page.footer))
    return "\n".join(lines)


def text_of(spec: DocumentSpec) -> list[str]:
    """Return the text of each page of ``spec`` as drawn, one string per page.

    Args:
        spec: The document.

    Returns:
        The page texts; a text-layer PDF written from them carries the same words.
    """
    return [page_text(page) for page in build_pages(spec)]


def _identifier_block(
    spec: DocumentSpec, rng: random.Random
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]] | None]:
    shown = shown_identifiers(spec)
    mrn_label, dob_label, name_label = (
        rng.choice(x) for x in (_MRN_LABELS, _DOB_LABELS, _NAME_LABELS)
    )
    dob = format_date(shown.dob, spec.date_format) if shown.dob else None
    sex = f"Sex: {shown.sex}" if shown.sex else ""
    if spec.layout == "table":
        return (), _table(spec, shown, dob)
    if spec.layout in ("last_first", "sticker"):
        head = [format_name(shown, spec.name_form, True)] if shown.last else []
        parts = [f"MRN: {shown.mrn}" if shown.mrn else "", f"DOB: {dob}" if dob else "", sex]
        details = "   ".join(p for p in parts if p)
        return tuple(head + ([details] if details else [])), None
    last_first = rng.random() < 0.5
    lines = []
    if shown.last:
        lines.append(f"{name_label} {format_name(shown, spec.name_form, last_first)}")
    if shown.mrn:
        lines.append(f"{mrn_label} {shown.mrn}")
    if dob:
        lines.append(f"{dob_label} {dob}    {sex}")
    return tuple(lines), None


def _table(
    spec: DocumentSpec, shown: ShownIdentifiers, dob: str | None
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    cells = [
        ("Patient Name", format_name(shown, spec.name_form, True) if shown.last else None),
        ("MRN", shown.mrn),
        ("DOB", dob),
        ("Acct #", spec.account_number),
    ]
    present = [(label, value) for label, value in cells if value]
    if not present:
        return None
    return tuple(c[0] for c in present), tuple(str(c[1]) for c in present)


def _extra_lines(spec: DocumentSpec, rng: random.Random) -> tuple[str, ...]:
    lines = []
    if spec.accession_number:
        lines.append(
            f"{rng.choice(('Accession #:', 'Acc #:', 'Accession No.:'))} {spec.accession_number}"
        )
    if spec.account_number and spec.layout != "table":
        lines.append(f"{rng.choice(('Acct #:', 'Account #:'))} {spec.account_number}")
    if spec.encounter_number:
        lines.append(f"{rng.choice(('Encounter #:', 'Visit #:', 'FIN:'))} {spec.encounter_number}")
    return tuple(lines)


def _paginate(spec: DocumentSpec, rng: random.Random) -> list[list[Line]]:
    per_page = BODY_LINES_PER_PAGE
    lines = body_lines(spec.doc_type, rng, (spec.pages - 1) * per_page + 14)
    if len(lines) > spec.pages * per_page:
        # Drop whole trailing sections that do not fit, but keep the signature.
        limit = spec.pages * per_page - 1
        cut = max(i for i, line in enumerate(lines[:limit]) if line.style == "b")
        lines = lines[: cut + 1] + lines[-1:]
    pages = [lines[i * per_page : (i + 1) * per_page] for i in range(spec.pages)]
    return pages
