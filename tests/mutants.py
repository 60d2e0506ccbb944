"""Broken files of every kind, made from real-looking seeds: the fuzzer's raw material.

Seeds are small (pages drawn by the synthetic generator, scaled down so OCR stays cheap):
text-layer, image-only and mixed PDFs, a multi-page Group 4 TIFF, PNG, JPEG, BMP and GIF.
Mutations are what damaged transfers and odd writers do to files: truncation, flipped
bytes, junk before and after, broken xref tables, bad page counts, wrong extensions.
Used by ``benchmarks/fuzz_ingest.py`` (a thousand and more through ``chartclerk ingest``) and
``tests/test_fuzz.py`` (a short hypothesis-driven form).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from synthetic import DocumentSpec, generate_patients
from synthetic.documents import render_pages
from synthetic.files import (
    text_of as texts_of,
)
from synthetic.files import (
    write_image_pdf,
    write_jpeg,
    write_mixed_pdf,
    write_png,
    write_text_pdf,
    write_tiff_multipage,
)

# Pages scaled to this width: big enough for tesseract to find words, small enough that a
# thousand mutants are read in minutes.
SEED_WIDTH = 640
SEED_KINDS = ("pdf_text", "pdf_image", "pdf_mixed", "tiff_g4", "png", "jpeg", "bmp", "gif")
EXTENSIONS = (".pdf", ".png", ".jpg", ".tif", ".bmp", ".gif", ".txt", "")


def _small(image: Image.Image) -> Image.Image:
    scale = SEED_WIDTH / image.width
    small = image.convert("L").resize((SEED_WIDTH, round(image.height * scale)))
    small.info["dpi"] = (300 * scale, 300 * scale)
    return small


def make_seeds(folder: Path, seed: int = 0) -> dict[str, bytes]:
    """The bytes of one small, valid file of every kind, keyed by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    patient = generate_patients(3, seed=seed)[0]
    spec = DocumentSpec(patient=patient, doc_type="lab_report", pages=2, content_seed=seed)
    pages = [_small(page) for page in render_pages(spec, seed)]
    texts = texts_of(spec)
    writers: dict[str, Callable[[Path], Path]] = {
        "pdf_text": lambda p: write_text_pdf(texts, p),
        "pdf_image": lambda p: write_image_pdf(pages, p),
        "pdf_mixed": lambda p: write_mixed_pdf(pages, texts, p),
        "tiff_g4": lambda p: write_tiff_multipage([page.convert("1") for page in pages], p),
        "png": lambda p: write_png(pages[0], p),
        "jpeg": lambda p: write_jpeg(pages[0], p, quality=60),
        "bmp": lambda p: _pillow(pages[0], p, "BMP"),
        "gif": lambda p: _pillow(pages[0], p, "GIF"),
    }
    return {kind: write(folder / f"seed-{kind}").read_bytes() for kind, write in writers.items()}


def _pillow(image: Image.Image, path: Path, fmt: str) -> Path:
    image.save(path, format=fmt)
    return path


# -- mutations ---------------------------------------------------------------------------------

Mutation = Callable[[bytes, random.Random], bytes]


def truncate(data: bytes, rng: random.Random) -> bytes:
    """Cut the file short anywhere (a transfer that stopped)."""
    return data[: rng.randrange(1, max(2, len(data)))]


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    """Change a few bytes at random (a bad disk, a bad line)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 24)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def flip_header_bytes(data: bytes, rng: random.Random) -> bytes:
    """Change bytes in the first kilobyte, where the headers and tables are."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        out[rng.randrange(min(len(out), 1024))] = rng.randrange(256)
    return bytes(out)


JUNK = (
    b"trailer\n<< /Root 9 0 R /Size 3 >>\n",
    b"\x00" * 64,
    b"GARBAGE FROM THE SCANNER\r\n",
    b"%!PS-Adobe-3.0\n",
    b"xref\n0 1\n0000000000 65535 f \n",
)


def junk_before(data: bytes, rng: random.Random) -> bytes:
    """Bytes before the header (some writers and mail gateways add them)."""
    junk = rng.choice(JUNK) if rng.random() < 0.6 else rng.randbytes(rng.randint(1, 900))
    return junk + data


def junk_after(data: bytes, rng: random.Random) -> bytes:
    """Bytes after the end (a second file appended, padding, a signature)."""
    return data + (rng.choice(JUNK) if rng.random() < 0.5 else rng.randbytes(rng.randint(1, 4000)))


def break_xref(data: bytes, rng: random.Random) -> bytes:
    """Damage a PDF's cross-reference table or its startxref offset (any file: its middle)."""
    digits = [m.start() for m in re.finditer(rb"\d{10} \d{5} [nf]", data)]
    out = bytearray(data)
    if digits:
        for start in rng.sample(digits, min(len(digits), rng.randint(1, 4))):
            out[start : start + 10] = b"%010d" % rng.randrange(10**10)
    match = re.search(rb"startxref\s+(\d+)", data)
    if match and rng.random() < 0.5:
        out[match.start(1) : match.end(1)] = str(rng.randrange(10**6)).encode()[: len(match[1])]
    if not digits and not match:
        middle = len(out) // 2
        out[middle : middle + 16] = rng.randbytes(16)
    return bytes(out)


def bad_page_count(data: bytes, rng: random.Random) -> bytes:
    """A PDF's /Count or a TIFF/GIF frame table that lies about the number of pages."""
    count = rb"/Count \d+"
    lie = rng.choice([b"0", b"-1", b"999999", b"4294967296", b"2"])
    if re.search(count, data):
        return re.sub(count, b"/Count " + lie, data, count=1)
    # Images: point the first image-file directory elsewhere, or cut the frame chain.
    out = bytearray(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        out[4:8] = rng.randbytes(4)
    else:
        out[len(out) // 3 : len(out) // 3 + 4] = b"\xff\xff\xff\xff"
    return bytes(out)


def zero_block(data: bytes, rng: random.Random) -> bytes:
    """A run of zeros in the middle (a sparse file from a crashed copy)."""
    start = rng.randrange(len(data))
    length = rng.randint(1, 4096)
    return data[:start] + b"\x00" * min(length, len(data) - start) + data[start + length :]


def duplicate_block(data: bytes, rng: random.Random) -> bytes:
    """A piece of the file repeated (a retried network write)."""
    start = rng.randrange(len(data))
    piece = data[start : start + rng.randint(1, 2048)]
    return data[:start] + piece + data[start:]


MUTATIONS: dict[str, Mutation] = {
    "truncate": truncate,
    "flip_bytes": flip_bytes,
    "flip_header_bytes": flip_header_bytes,
    "junk_before": junk_before,
    "junk_after": junk_after,
    "break_xref": break_xref,
    "bad_page_count": bad_page_count,
    "zero_block": zero_block,
    "duplicate_block": duplicate_block,
}


def mutate(seed: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """One to three mutations of ``seed``; returns the bytes and the mutations' names."""
    names = rng.sample(sorted(MUTATIONS), rng.choice([1, 1, 1, 2, 2, 3]))
    data = seed
    for name in names:
        data = MUTATIONS[name](data, rng) or b"\x00"
    return data, names


def mutant_name(index: int, kind: str, rng: random.Random) -> tuple[str, bool]:
    """A file name for a mutant: mostly its kind's extension, one in five a wrong one."""
    right = {
        "pdf_text": ".pdf",
        "pdf_image": ".pdf",
        "pdf_mixed": ".pdf",
        "tiff_g4": ".tif",
        "png": ".png",
        "jpeg": ".jpg",
        "bmp": ".bmp",
        "gif": ".gif",
    }[kind]
    wrong = rng.random() < 0.2
    extension = rng.choice([e for e in EXTENSIONS if e != right]) if wrong else right
    return f"m{index:05d}-{kind}{extension}", wrong
