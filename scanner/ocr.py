"""The tesseract adapter: one page image in, its words and text out.

Only this module imports pytesseract.

Pages are read in worker processes, one page each, with ``OMP_THREAD_LIMIT=1``: tesseract's
own threads made it several times slower per page on a 2-core machine. Orientation is
checked only when a page reads badly upright (low confidence, few real words), because a
separate OSD pass costs nearly as much as reading the page.

Readings (``ocr.engine: library``, the default) run tesseract's library inside the worker
(``scanner.tessapi``), its model loaded once per worker: starting the ``tesseract`` program
for every pass cost a sixth more CPU a page. ``ocr.engine: program`` (or a system without
the library) runs the program through pytesseract for every pass.

:func:`reread_top` reads the top of a page again (another segmentation mode, a small turn)
for the filing stage, when a document's identification came out incomplete: a patient
label pasted crooked over the letterhead is often garbled in the page's own reading.
"""

from __future__ import annotations

import contextlib
import re
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image

from chartclerk_errors import (
    ConfigError,
    InputFileError,
    MissingDependencyError,
    TesseractMissingError,
    content_reason,
    not_ready,
)
from scanner import tessapi
from scanner.reading.pages import PageJob, load_frame, render_pdf_page
from scanner.reading.pagetext import OcrPass, PageText, PassKind, Word
from scanner.reading.textlayer import read_pdf_text_layer

T = TypeVar("T")
EXIF_ORIENTATION = 0x0112
# Formats tesseract's image library reads as well as Pillow does.
DIRECT_FORMATS = {"PNG", "JPEG", "TIFF"}
REAL_WORD = re.compile(r"[A-Za-z]{3,}|\d{3,}")
Region = tuple[float, float, float, float]
"""(left, top, right, bottom) of part of a page, as shares of its width and height."""
# OSD's orientation confidence from which its answer is taken without trying other turns.
OSD_SURE = 0.5


def check_tesseract(languages: str) -> None:
    """Fail early, with an install hint, when tesseract or a language pack is missing.

    Asks the program itself (``tesseract --list-langs``), without pytesseract: importing
    that wrapper cost every command that reads pages 35 ms of its start, and only the
    ``program`` engine needs it.

    Raises:
        MissingDependencyError: tesseract is not installed.
        ConfigError: a configured language has no traineddata installed.
    """
    installed = _installed_languages()
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


def _installed_languages() -> set[str]:
    missing = "tesseract is not installed; apt-get install tesseract-ocr tesseract-ocr-eng"
    try:
        # As pytesseract asks: both streams read (tesseract 3 lists on stderr), exit 0 or
        # 1 accepted (tesseract 3 exits 1 after listing).
        listed = subprocess.run(
            ["tesseract", "--list-langs"],  # noqa: S607 - the program on PATH, as pytesseract
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=60,
            check=False,
        )
    except FileNotFoundError as exc:
        raise MissingDependencyError(missing) from exc
    except (subprocess.SubprocessError, OSError) as exc:
        raise MissingDependencyError(f"tesseract could not list its languages ({exc})") from exc
    if listed.returncode not in (0, 1):
        raise MissingDependencyError(
            f"tesseract could not list its languages (exit {listed.returncode})"
        )
    # 'List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (3):', then
    # one language a line (eng, chi_sim, script/Latin).
    return {line.strip() for line in listed.stdout.splitlines() if _LANGUAGE.match(line.strip())}


_LANGUAGE = re.compile(r"[A-Za-z0-9_/]+$")


def warm_up(languages: str = "eng") -> None:
    """Load tesseract's model (or have pytesseract learn the program's version) now.

    Called as an OCR worker starts (``scanner.reading.workers``), before it knows the
    configured languages: English, the default, is loaded while the ingest process is still
    starting rather than in front of the first page. Whatever is wrong (tesseract missing)
    is reported by the first page's reading.
    """
    with contextlib.suppress(Exception):
        if tessapi.available():
            tessapi.engine(languages)
        else:
            import pytesseract

            pytesseract.get_tesseract_version()


@dataclass(frozen=True)
class _Reading:
    words: tuple[Word, ...]
    text: str
    confidence: float
    strong_words: int


def read_page(job: PageJob) -> PageText:
    """Render or decode one page and OCR it; runs in a worker process.

    The page's time limit (``options.timeout``) counts from here, when the worker starts
    it: every tesseract pass gets what is left of it, and tesseract's own time limit ends
    a pass that hangs (only that page is unread; the worker goes on).

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
    meter = _Meter(job.options.timeout)
    try:
        with tempfile.TemporaryDirectory(prefix="chartclerk-ocr-") as tmp:
            return _ocr_oriented(job, Path(tmp), meter)
    except InputFileError as exc:
        return PageText(number=job.number, text="", error=str(exc), passes=tuple(meter.passes))


def _text_layer(job: PageJob) -> PageText | None:
    # Whichever library reads the text layer, a page it chokes on is rendered and OCR'd.
    try:
        return read_pdf_text_layer(job.path, job.index)
    except Exception as exc:  # noqa: BLE001 - classified: the page is OCR'd instead
        if not_ready(exc) is not None:
            raise
        return None


class _Meter:
    """The tesseract passes one page has cost so far, and the time it has left."""

    def __init__(self, limit: float) -> None:
        self.deadline = time.monotonic() + limit
        self.passes: list[OcrPass] = []

    def left(self) -> float:
        """Seconds left for the next pass; raises once the page's time is spent."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise InputFileError("OCR time limit reached on this page")
        return remaining

    def run(self, kind: PassKind, why: str, work: Callable[[float], T]) -> T:
        """Run one tesseract pass with what is left of the time limit, and record it.

        The pass's CPU is this worker's own (the library engine reads in it) and that of
        its finished children (the ``tesseract`` program) meanwhile; a worker runs one
        pass at a time.
        """
        started, cpu, began = time.perf_counter(), _cpu(), time.time()
        try:
            return work(self.left())
        finally:
            spent = time.perf_counter() - started
            self.passes.append(OcrPass(kind, spent, why, _cpu() - cpu, began))


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


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


def _ocr_oriented(job: PageJob, folder: Path, meter: _Meter) -> PageText:
    options = job.options

    def good(r: _Reading) -> bool:
        return r.strong_words >= options.min_words and r.confidence >= options.min_confidence

    def read(source: str | Image.Image, why: str) -> _Reading:
        return meter.run(
            "read",
            why,
            lambda left: _ocr(
                source, folder, options.languages, left, options.min_confidence, options.engine
            ),
        )

    size = _readable_as_is(job)
    image: Image.Image | None = None
    if size is None:
        image = _load(job)
        size = image.size
    best = read(job.path if image is None else image, "page")
    best_angle, best_size = 0, size
    if not good(best):
        # One cheap look decides the turn: OSD on a half-size copy (a quarter of a
        # reading's time). Only when it is unsure are the quarter turns tried in turn.
        image = image if image is not None else _load(job)
        weak = f"upright reading weak ({best.strong_words} words, conf {best.confidence:.0f})"
        guess, sure = _look_for_rotation(image, folder, meter, weak, options.engine)
        if sure:
            angles = [guess]
            why = f"OSD: turned {guess} degrees"
        else:
            angles = list(dict.fromkeys([guess, 180, 90, 270]))
            why = "OSD unsure: trying quarter turns"
        for angle in angles:
            if angle == 0:
                # OSD is sure the page stands upright: it is merely hard to read, and
                # reading it turned would only find garbage.
                continue
            turned = image.rotate(angle, expand=True)
            reading = read(turned, f"{why} ({angle})")
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
        passes=tuple(meter.passes),
    )


def _look_for_rotation(
    image: Image.Image, folder: Path, meter: _Meter, why: str, engine: str
) -> tuple[int, bool]:
    """Which way up the page is, from OSD on a half-size copy: (degrees, sure).

    On the benchmark pages every half-size OSD answer with a confidence of 0.5 or more was
    right; below that it confused upright with upside down about half the time. An unsure
    answer gets one more look at full size (half as much again) before the caller sweeps.
    """
    small = image if image.mode == "L" else image.convert("L")
    small = small.resize(
        (max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.BOX
    )
    angle, confidence = meter.run(
        "orientation",
        f"{why}; half-size OSD",
        lambda left: _detect_rotation(small, folder, left, engine),
    )
    if confidence >= OSD_SURE:
        return angle, True
    angle2, confidence2 = meter.run(
        "orientation",
        "half-size OSD unsure; full-size OSD",
        lambda left: _detect_rotation(image, folder, left, engine),
    )
    if confidence2 >= OSD_SURE:
        return angle2, True
    return (angle2 if confidence2 >= confidence else angle), False


def reread_top(
    job: PageJob,
    rotation: int,
    region: float | Region,
    psm: int,
    angles: Sequence[float] = (0.0,),
) -> list[PageText]:
    """Read a region of a page again, once per small ``angle``; for the filing stage.

    A patient label pasted a little crooked over the letterhead shares tesseract's lines with
    the address beside it and comes out garbled. Read on its own, with another page
    segmentation mode (``psm``) and turned back by a degree or two, it usually reads clean.
    The page is first turned by ``rotation`` (the quarter turn it was read at).

    Args:
        job: how the page was read.
        rotation: the quarter turn the page was read at.
        region: (left, top, right, bottom) as shares of the turned page's width and
            height, or one number: that share of the page from the top, full width.
        psm: tesseract's page segmentation mode.
        angles: degrees to turn the region counter-clockwise, one reading each.

    Returns:
        One reading per angle, with the page's number; empty when the page cannot be read.
    """
    try:
        return _reread_top(job, rotation, region, psm, angles)
    except Exception as exc:  # noqa: BLE001 - a bonus reading; a decoder's failure ends it
        failure = not_ready(exc)
        if failure is not None:
            raise failure from None
        return []


def _reread_top(
    job: PageJob, rotation: int, region: float | Region, psm: int, angles: Sequence[float]
) -> list[PageText]:
    image = _load(job)
    if rotation:
        image = image.rotate(rotation, expand=True)
    left, top_share, right, bottom = (
        (0.0, 0.0, 1.0, region) if isinstance(region, float | int) else region
    )
    box = (
        int(image.width * left),
        int(image.height * top_share),
        max(int(image.width * left) + 1, int(image.width * right)),
        max(int(image.height * top_share) + 1, int(image.height * bottom)),
    )
    top = image.crop(box)
    if top.mode == "1":
        top = top.convert("L")
    options = job.options
    readings: list[PageText] = []
    meter = _Meter(options.timeout)
    with tempfile.TemporaryDirectory(prefix="chartclerk-reread-") as tmp:
        for angle in angles:
            turned = (
                top.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=255)
                if angle
                else top
            )
            try:
                reading = meter.run(
                    "second_look",
                    f"identification incomplete; top re-read, psm {int(psm)}, {angle:+g} deg",
                    lambda left, turned=turned: _ocr(  # type: ignore[misc]
                        turned,
                        Path(tmp),
                        options.languages,
                        left,
                        options.min_confidence,
                        options.engine,
                        int(psm),
                    ),
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
                    passes=(meter.passes[-1],),
                )
            )
    return readings


def _image_file(image: Image.Image, folder: Path) -> str:
    # An uncompressed PNM is the cheapest format for tesseract (Leptonica) to read back.
    path = folder / ("page.pbm" if image.mode == "1" else "page.pgm")
    image.save(path)
    return str(path)


def _ocr(
    source: str | Image.Image,
    folder: Path,
    languages: str,
    timeout: float,
    strong: float,
    engine: str,
    psm: int = tessapi.PSM_AUTO,
) -> _Reading:
    """Read an image file (as tesseract reads it) or a decoded page image: words and text."""
    library = _engine(languages) if engine == "library" else None
    if library is not None:
        try:
            tsv = library.tsv(source, psm, timeout)
        except tessapi.EngineTimeout as exc:
            raise InputFileError("OCR time limit reached on this page") from exc
        return _words_from_tsv(tessapi.parse_tsv(tsv), strong)
    import pytesseract

    path = source if isinstance(source, str) else _image_file(source, folder)
    data = _call(
        lambda: pytesseract.image_to_data(
            path,
            lang=languages,
            config=f"--psm {psm}",
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    )
    return _words_from_tsv(data, strong)


def _detect_rotation(
    image: Image.Image, folder: Path, timeout: float, engine: str
) -> tuple[int, float]:
    """How many degrees counter-clockwise to turn the page upright, and OSD's confidence.

    The library's OSD has no time limit of its own; it takes a fraction of a reading, and a
    worker stuck in it is ended by the page scheduler.
    """
    library = _engine("osd") if engine == "library" else None
    if library is not None:
        return library.orientation(image)
    import pytesseract

    source = str(folder / "osd.pgm")
    (image if image.mode in ("L", "1") else image.convert("L")).save(source)
    try:
        osd = _call(
            lambda: pytesseract.image_to_osd(
                source, config="--psm 0 -c min_characters_to_try=5", timeout=timeout
            )
        )
    except pytesseract.TesseractError:
        # Too few characters to tell: no opinion.
        return 0, 0.0
    match = re.search(r"Rotate: (\d+)", str(osd))
    confident = re.search(r"Orientation confidence: ([\d.]+)", str(osd))
    if not match or not confident:
        return 0, 0.0
    # OSD's "Rotate" is clockwise; PIL's rotate() turns counter-clockwise.
    return (360 - int(match.group(1))) % 360, float(confident.group(1))


def _engine(languages: str) -> tessapi.Engine | None:
    """The worker's loaded tesseract for ``languages``; None to run the program instead."""
    try:
        return tessapi.engine(languages)
    except tessapi.EngineUnavailableError as exc:
        # Its data gone while the daemon runs: wait until it is back, as for the program.
        raise TesseractMissingError("tesseract's language data could not be loaded") from exc


def _call(run: Callable[[], T]) -> T:
    import pytesseract

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
