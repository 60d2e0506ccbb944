"""The tesseract adapter: one page image in, its words and text out.

Only this module imports pytesseract.

Pages are read in worker processes, one page each, with ``OMP_THREAD_LIMIT=1``: tesseract's
own threads made it several times slower per page on a 2-core machine. Orientation is
checked only when a page reads badly upright (low confidence, few real words), because a
separate OSD pass costs nearly as much as reading the page.

:func:`reread_top` reads the top of a page again (another segmentation mode, a small turn)
for the filing stage, when a document's identification came out incomplete: a patient
label pasted crooked over the letterhead is often garbled in the page's own reading.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

import pytesseract
from PIL import Image

from chartclerk_errors import (
    ConfigError,
    InputFileError,
    MissingDependencyError,
    TesseractMissingError,
    content_reason,
    not_ready,
)
from scanner.reading.pages import PageJob, load_frame, render_pdf_page
from scanner.reading.pagetext import PageText, Word
from scanner.reading.textlayer import read_pdf_text_layer

T = TypeVar("T")
EXIF_ORIENTATION = 0x0112
# Formats tesseract's image library reads as well as Pillow does.
DIRECT_FORMATS = {"PNG", "JPEG", "TIFF"}
REAL_WORD = re.compile(r"[A-Za-z]{3,}|\d{3,}")


def check_tesseract(languages: str) -> None:
    """Fail early, with an install hint, when tesseract or a language pack is missing.

    Raises:
        MissingDependencyError: tesseract is not installed.
        ConfigError: a configured language has no traineddata installed.
    """
    try:
        installed = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, FileNotFoundError) as exc:
        raise MissingDependencyError(
            "tesseract is not installed; apt-get install tesseract-ocr tesseract-ocr-eng"
        ) from exc
    for lang in languages.split("+"):
        if lang not in installed:
            raise ConfigError(
                f"config.yaml: ocr.languages: '{lang}' is not installed; "
                f"apt-get install tesseract-ocr-{lang}"
            )
    if "osd" not in installed:
        raise MissingDependencyError(
            "tesseract orientation data is missing; apt-get install tesseract-ocr-osd"
        )


def _init_worker() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # A stop is the daemon's to handle: it finishes the files in hand, which needs these
    # workers. Their own process group keeps a terminal's Ctrl-C from reaching them (and
    # their tesseract children); SIGTERM sent to the whole group is ignored.
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # If the daemon is killed outright (SIGKILL, OOM), nothing tells its idle workers;
    # without this they would wait forever, two more after every crash.
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of OCR worker processes (``workers`` 0 means one per core)."""
    count = workers or os.cpu_count() or 1
    # spawn, not fork: the daemon has observer and ingest threads, and forking a
    # threaded process can copy a held lock into the child.
    return ProcessPoolExecutor(count, mp_context=get_context("spawn"), initializer=_init_worker)


@dataclass(frozen=True)
class _Reading:
    words: tuple[Word, ...]
    text: str
    confidence: float
    strong_words: int


def read_page(job: PageJob) -> PageText:
    """Render or decode one page and OCR it; runs in a worker process.

    A page that cannot be read comes back with ``error`` set rather than raising, so the
    rest of its document still reads. Whatever a decoder raises on a page's bytes counts
    (its own exception class, ``struct.error``, ``RecursionError``, ``MemoryError``); only
    the world's failures (tesseract missing, disk full: :func:`not_ready`) are raised.
    """
    try:
        return _read_page(job)
    except Exception as exc:  # noqa: BLE001 - classified: content ends the page, not the file
        failure = not_ready(exc)
        if failure is not None:
            raise failure from None  # ours pickle back to the daemon; a decoder's may not
        return PageText(number=job.number, text="", error=content_reason(exc))


def _read_page(job: PageJob) -> PageText:
    if job.kind == "pdf":
        layer = _text_layer(job)
        if layer is not None and len(layer.text.strip()) >= job.text_layer_min_chars:
            return layer
    try:
        with tempfile.TemporaryDirectory(prefix="chartclerk-ocr-") as tmp:
            return _ocr_oriented(job, Path(tmp))
    except InputFileError as exc:
        return PageText(number=job.number, text="", error=str(exc))


def _text_layer(job: PageJob) -> PageText | None:
    # Whichever library reads the text layer, a page it chokes on is rendered and OCR'd.
    try:
        return read_pdf_text_layer(job.path, job.index)
    except Exception as exc:  # noqa: BLE001 - classified: the page is OCR'd instead
        if not_ready(exc) is not None:
            raise
        return None


def _load(job: PageJob) -> Image.Image:
    if job.kind == "pdf":
        return render_pdf_page(Path(job.path), job.index, job.options.dpi, job.options.max_pixels)
    return load_frame(Path(job.path), job.index, job.options.max_pixels)


def _readable_as_is(job: PageJob) -> tuple[int, int] | None:
    """The size of an image file tesseract can read itself, untouched; else None.

    Handing tesseract the scanner's own PNG, JPEG or TIFF saves decoding and re-encoding
    a 300-dpi page in Python: a seventh of the time of reading the page.
    """
    if job.kind != "image" or job.index != 0:
        return None
    with Image.open(job.path) as image:
        turned = image.getexif().get(EXIF_ORIENTATION, 1) not in (0, 1)
        # Transparency is flattened onto white by load_frame; tesseract would see black.
        alpha = "A" in image.mode or "transparency" in image.info
        if (
            image.format not in DIRECT_FORMATS
            or getattr(image, "n_frames", 1) != 1
            or turned
            or alpha
        ):
            return None
        width, height = image.size
    if width * height > job.options.max_pixels:
        return None  # load_frame refuses it with the reason
    return width, height


def _ocr_oriented(job: PageJob, folder: Path) -> PageText:
    options = job.options

    def good(r: _Reading) -> bool:
        return r.strong_words >= options.min_words and r.confidence >= options.min_confidence

    size = _readable_as_is(job)
    image: Image.Image | None = None
    if size is None:
        image = _load(job)
        size = image.size
    source = job.path if image is None else _image_file(image, folder)
    best = _ocr(source, options.languages, options.timeout, options.min_confidence)
    best_angle, best_size = 0, size
    if not good(best):
        # OSD's guess first; on a sparse page it is often wrong, so the other quarter turns
        # follow until one reads well.
        image = image if image is not None else _load(job)
        guess = _detect_rotation(source, options.timeout)
        for angle in dict.fromkeys([guess, 270, 180, 90]):
            if angle == 0:
                continue
            turned = image.rotate(angle, expand=True)
            reading = _ocr(
                _image_file(turned, folder),
                options.languages,
                options.timeout,
                options.min_confidence,
            )
            if reading.strong_words > best.strong_words:
                best, best_angle, best_size = reading, angle, turned.size
            if good(reading):
                break
    return PageText(
        number=job.number,
        text=best.text,
        words=best.words,
        confidence=best.confidence,
        source="ocr",
        rotation=best_angle,
        width=float(best_size[0]),
        height=float(best_size[1]),
        job=job,
    )


def reread_top(
    job: PageJob,
    rotation: int,
    fraction: float,
    psm: int,
    angles: Sequence[float] = (0.0,),
) -> list[PageText]:
    """Read the top ``fraction`` of a page again, once per small ``angle``; for the filing stage.

    A patient label pasted a little crooked over the letterhead shares tesseract's lines with
    the address beside it and comes out garbled. Read on its own, with another page
    segmentation mode (``psm``) and turned back by a degree or two, it usually reads clean.
    The page is first turned by ``rotation`` (the quarter turn it was read at).

    Returns:
        One reading per angle, with the page's number; empty when the page cannot be read.
    """
    try:
        return _reread_top(job, rotation, fraction, psm, angles)
    except Exception as exc:  # noqa: BLE001 - a bonus reading; a decoder's failure ends it
        failure = not_ready(exc)
        if failure is not None:
            raise failure from None
        return []


def _reread_top(
    job: PageJob, rotation: int, fraction: float, psm: int, angles: Sequence[float]
) -> list[PageText]:
    image = _load(job)
    if rotation:
        image = image.rotate(rotation, expand=True)
    top = image.crop((0, 0, image.width, max(1, int(image.height * fraction))))
    if top.mode == "1":
        top = top.convert("L")
    options = job.options
    config = f"--psm {int(psm)}"
    readings: list[PageText] = []
    with tempfile.TemporaryDirectory(prefix="chartclerk-reread-") as tmp:
        for angle in angles:
            turned = (
                top.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=255)
                if angle
                else top
            )
            source = _image_file(turned, Path(tmp))
            try:
                reading = _ocr(
                    source, options.languages, options.timeout, options.min_confidence, config
                )
            except InputFileError:
                continue
            readings.append(
                PageText(
                    number=job.number,
                    text=reading.text,
                    words=reading.words,
                    confidence=reading.confidence,
                    source="ocr",
                    rotation=rotation,
                    width=float(turned.width),
                    height=float(turned.height),
                )
            )
    return readings


def _image_file(image: Image.Image, folder: Path) -> str:
    # An uncompressed PNM is the cheapest format for tesseract (Leptonica) to read back.
    path = folder / ("page.pbm" if image.mode == "1" else "page.pgm")
    image.save(path)
    return str(path)


def _ocr(source: str, languages: str, timeout: float, strong: float, config: str = "") -> _Reading:
    data = _call(
        lambda: pytesseract.image_to_data(
            source,
            lang=languages,
            config=config,
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    )
    return _words_from_tsv(data, strong)


def _detect_rotation(source: str, timeout: float) -> int:
    """How many degrees counter-clockwise to turn the page so its text stands upright."""
    try:
        osd = _call(
            lambda: pytesseract.image_to_osd(
                source, config="--psm 0 -c min_characters_to_try=5", timeout=timeout
            )
        )
    except pytesseract.TesseractError:
        # Too few characters to tell: keep the page as it is.
        return 0
    match = re.search(r"Rotate: (\d+)", str(osd))
    confident = re.search(r"Orientation confidence: ([\d.]+)", str(osd))
    if not match or not confident or float(confident.group(1)) < 1.0:
        return 0
    # OSD's "Rotate" is clockwise; PIL's rotate() turns counter-clockwise.
    return (360 - int(match.group(1))) % 360


def _call(run: Callable[[], T]) -> T:
    try:
        return run()
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise InputFileError("OCR time limit reached on this page") from exc
        raise
    except pytesseract.TesseractNotFoundError as exc:
        raise TesseractMissingError("tesseract is not installed") from exc


def _words_from_tsv(data: dict[str, list[object]], strong: float) -> _Reading:
    words: list[Word] = []
    lines: dict[tuple[int, int, int], list[str]] = {}
    for i, raw in enumerate(data["text"]):
        text = str(raw).strip()
        conf = float(str(data["conf"][i]))
        if not text or conf < 0:
            continue
        key = (
            int(str(data["block_num"][i])),
            int(str(data["par_num"][i])),
            int(str(data["line_num"][i])),
        )
        words.append(
            Word(
                text=text,
                left=float(str(data["left"][i])),
                top=float(str(data["top"][i])),
                width=float(str(data["width"][i])),
                height=float(str(data["height"][i])),
                conf=conf,
                block=key[0],
                par=key[1],
                line=key[2],
            )
        )
        lines.setdefault(key, []).append(text)
    confidence = sum(w.conf for w in words) / len(words) if words else 0.0
    # Real words read with confidence: garbage from a turned page rarely has many.
    real = sum(1 for w in words if w.conf >= strong and REAL_WORD.search(w.text))
    text = "\n".join(" ".join(parts) for parts in lines.values())
    return _Reading(tuple(words), text, confidence, real)
