"""Tesseract in the worker's own process, through libtesseract's C API (for ``scanner.ocr``).

Running the ``tesseract`` program once per pass costs about a sixth of a page's reading
before it reads anything: a new process, and the English model loaded again. An OCR worker
reads page after page, so it keeps one engine with the model loaded and hands it each page.
The engine is tesseract's own library, the same code the program runs: on the benchmark
pages its TSV is the program's, byte for byte (page segmentation ``--psm 3``, the program's
default, is set on every call since the library's default is another).

Only :mod:`scanner.ocr` uses this module. Where the library cannot be loaded (another
soname, another system), :func:`engine` returns None and ``scanner.ocr`` runs the program
as before. A crash inside the library ends the worker; the page scheduler then runs the
page again alone and gives it up if it crashes again, as for any decoder.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from dataclasses import dataclass

from PIL import Image

# Sonames of libtesseract 5 and 4 and of Leptonica that the C API below is stable across.
TESSERACT_LIBRARIES = ("libtesseract.so.5", "libtesseract.so.4")
LEPTONICA_LIBRARIES = ("libleptonica.so.6", "liblept.so.5")
# tesseract's default page segmentation mode (fully automatic, no OSD); the library's
# own default is a single block.
PSM_AUTO = 3

_vp = ctypes.c_void_p


class EngineError(Exception):
    """Tesseract could not read this image (no timeout: its decoder or its engine refused)."""


class EngineUnavailableError(EngineError):
    """Tesseract's library could not start or load its language data: the world's failure."""


class EngineTimeout(Exception):
    """The pass ran out of the page's time and was cancelled."""


@dataclass(frozen=True)
class _Libraries:
    tess: ctypes.CDLL
    lept: ctypes.CDLL


_libraries: _Libraries | None = None
_load_failed = False
_load_lock = threading.Lock()
_local = threading.local()


def _load() -> _Libraries | None:
    global _libraries, _load_failed
    with _load_lock:
        if _libraries is None and not _load_failed:
            try:
                tess = _open(TESSERACT_LIBRARIES)
                _libraries = _Libraries(tess, _leptonica_of(tess))
                _declare(_libraries)
            except (OSError, AttributeError):
                _load_failed = True
        return _libraries


def _leptonica_of(tess: ctypes.CDLL) -> ctypes.CDLL:
    """The Leptonica libtesseract itself is linked with (its ``Pix`` is the one it reads).

    Looked up through libtesseract's own handle, which searches its dependencies: with two
    Leptonica versions installed, opening one by name could give the other's layout.
    """
    try:
        tess.pixRead  # noqa: B018 - resolving the symbol is the test
    except AttributeError:
        return _open(LEPTONICA_LIBRARIES)
    return tess


def _open(names: tuple[str, ...]) -> ctypes.CDLL:
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    raise OSError(f"none of {', '.join(names)} could be loaded")


def _declare(libs: _Libraries) -> None:
    # Every pointer is declared: an undeclared one would be cut to a C int.
    t, lp = libs.tess, libs.lept
    signatures: list[tuple[ctypes.CDLL, str, list[object], object]] = [
        (t, "TessBaseAPICreate", [], _vp),
        (t, "TessBaseAPIDelete", [_vp], None),
        (t, "TessBaseAPIEnd", [_vp], None),
        (t, "TessBaseAPIInit3", [_vp, ctypes.c_char_p, ctypes.c_char_p], ctypes.c_int),
        (t, "TessBaseAPISetVariable", [_vp, ctypes.c_char_p, ctypes.c_char_p], ctypes.c_int),
        (t, "TessBaseAPISetPageSegMode", [_vp, ctypes.c_int], None),
        (t, "TessBaseAPISetImage2", [_vp, _vp], None),
        (
            t,
            "TessBaseAPISetImage",
            [_vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int],
            None,
        ),
        (t, "TessBaseAPIRecognize", [_vp, _vp], ctypes.c_int),
        (t, "TessBaseAPIGetTsvText", [_vp, ctypes.c_int], _vp),
        (t, "TessBaseAPIClear", [_vp], None),
        (t, "TessDeleteText", [_vp], None),
        (t, "TessMonitorCreate", [], _vp),
        (t, "TessMonitorDelete", [_vp], None),
        (t, "TessMonitorSetDeadlineMSecs", [_vp, ctypes.c_int], None),
        (
            t,
            "TessBaseAPIDetectOrientationScript",
            [
                _vp,
                ctypes.POINTER(ctypes.c_int),
                ctypes.POINTER(ctypes.c_float),
                ctypes.POINTER(ctypes.c_char_p),
                ctypes.POINTER(ctypes.c_float),
            ],
            ctypes.c_int,
        ),
        (lp, "pixRead", [ctypes.c_char_p], _vp),
        (lp, "pixDestroy", [ctypes.POINTER(_vp)], None),
    ]
    for library, name, args, result in signatures:
        function = getattr(library, name)
        function.argtypes = args
        function.restype = result


class Engine:
    """One loaded tesseract (one language set) for this thread; reads one image at a time."""

    def __init__(self, libs: _Libraries, languages: str) -> None:
        self._libs = libs
        self._handle = libs.tess.TessBaseAPICreate()
        if not self._handle:
            raise EngineUnavailableError("tesseract could not be started")
        tess = libs.tess
        # Its notes ("Estimating resolution as ...") would go to the daemon's stderr.
        tess.TessBaseAPISetVariable(self._handle, b"debug_file", os.devnull.encode())
        if tess.TessBaseAPIInit3(self._handle, None, languages.encode()) != 0:
            tess.TessBaseAPIDelete(self._handle)
            self._handle = None
            raise EngineUnavailableError(f"tesseract could not load the languages {languages!r}")
        if languages == "osd":
            # As scanner.ocr ran the program: decide from as few as 5 characters.
            tess.TessBaseAPISetVariable(self._handle, b"min_characters_to_try", b"5")

    def close(self) -> None:
        """Free the engine and its model."""
        if self._handle:
            self._libs.tess.TessBaseAPIEnd(self._handle)
            self._libs.tess.TessBaseAPIDelete(self._handle)
            self._handle = None

    def __del__(self) -> None:
        self.close()

    def tsv(self, source: str | Image.Image, psm: int, timeout: float) -> str:
        """Tesseract's TSV (without its header line) for an image file or a decoded image.

        A file is read by Leptonica, as the ``tesseract`` program reads it (its resolution
        included); a decoded greyscale or 1-bit image is handed over as pixels, with no
        resolution, as a PGM or PBM file of it would be.

        Raises:
            EngineTimeout: ``timeout`` seconds ran out.
            EngineError: the image could not be read.
        """
        tess, handle = self._libs.tess, self._handle
        pix = self._set_image(source)
        monitor = tess.TessMonitorCreate()
        try:
            tess.TessBaseAPISetPageSegMode(handle, psm)
            # Timed from before the deadline is set: a pass cancelled at its deadline then
            # always reads as the time limit, never as an unreadable image.
            started = time.monotonic()
            tess.TessMonitorSetDeadlineMSecs(monitor, max(1, int(timeout * 1000)))
            failed = tess.TessBaseAPIRecognize(handle, monitor) != 0
            if time.monotonic() - started >= timeout:
                raise EngineTimeout("OCR time limit reached")
            if failed:
                raise EngineError("tesseract could not read the image")
            text = tess.TessBaseAPIGetTsvText(handle, 0)
            try:
                return ctypes.string_at(text).decode("utf-8", "replace") if text else ""
            finally:
                if text:
                    tess.TessDeleteText(text)
        finally:
            tess.TessMonitorDelete(monitor)
            self._clear(pix)

    def orientation(self, source: str | Image.Image) -> tuple[int, float]:
        """Which way up the page is: (degrees counter-clockwise to turn it upright, confidence).

        For an engine of the ``osd`` language; as ``tesseract --psm 0`` answers, and (0, 0.0)
        when it cannot tell (too few characters).

        Raises:
            EngineError: the image could not be read.
        """
        tess = self._libs.tess
        pix = self._set_image(source)
        try:
            degrees, confidence = ctypes.c_int(0), ctypes.c_float(0.0)
            script, script_confidence = ctypes.c_char_p(), ctypes.c_float(0.0)
            found = tess.TessBaseAPIDetectOrientationScript(
                self._handle,
                ctypes.byref(degrees),
                ctypes.byref(confidence),
                ctypes.byref(script),
                ctypes.byref(script_confidence),
            )
        finally:
            self._clear(pix)
        if not found:
            return 0, 0.0
        # The program prints the confidence to two places; its callers compare that.
        return degrees.value % 360, round(confidence.value, 2)

    def _set_image(self, source: str | Image.Image) -> ctypes.c_void_p:
        """Hand the engine an image; returns the Leptonica image to free after (or null)."""
        tess, handle = self._libs.tess, self._handle
        pix = _vp()
        if isinstance(source, str):
            pix = _vp(self._libs.lept.pixRead(os.fsencode(source)))
            if not pix:
                raise EngineError("tesseract could not read the image")
            tess.TessBaseAPISetImage2(handle, pix)
            return pix
        image = source if source.mode in ("L", "1") else source.convert("L")
        if image.mode == "1":
            # Packed rows, a set bit white: Pillow's layout is the one the API takes.
            data = image.tobytes("raw", "1")
            tess.TessBaseAPISetImage(
                handle, data, image.width, image.height, 0, (image.width + 7) // 8
            )
        else:
            data = image.tobytes()
            tess.TessBaseAPISetImage(handle, data, image.width, image.height, 1, image.width)
        return pix

    def _clear(self, pix: ctypes.c_void_p) -> None:
        self._libs.tess.TessBaseAPIClear(self._handle)
        if pix:
            self._libs.lept.pixDestroy(ctypes.byref(pix))


def available() -> bool:
    """Whether tesseract's library can be loaded here."""
    return _load() is not None


def engine(languages: str) -> Engine | None:
    """The engine of this thread for ``languages`` (loaded once); None without the library.

    Raises:
        EngineUnavailableError: the library is there but cannot load these languages.
    """
    engines: dict[str, Engine] | None = getattr(_local, "engines", None)
    if engines is None:
        engines = _local.engines = {}
    found = engines.get(languages)
    if found is None:
        libs = _load()
        if libs is None:
            return None
        found = engines[languages] = Engine(libs, languages)
    return found


TSV_FIELDS = (
    "level",
    "page_num",
    "block_num",
    "par_num",
    "line_num",
    "word_num",
    "left",
    "top",
    "width",
    "height",
    "conf",
    "text",
)


def parse_tsv(tsv: str) -> dict[str, list[object]]:
    """Tesseract's TSV as columns, as ``pytesseract.image_to_data`` gives them (header or not).

    As there, numbers are whole: a confidence of 89.7 is 89. Thresholds on whole numbers
    and the page confidences stored come out as they did when pytesseract read every page.
    """
    columns: dict[str, list[object]] = {name: [] for name in TSV_FIELDS}
    for line in tsv.splitlines():
        cells = line.split("\t")
        if len(cells) < len(TSV_FIELDS) - 1 or cells[0] == "level":
            continue
        if len(cells) == len(TSV_FIELDS) - 1:
            cells.append("")  # a last empty text cell loses its tab
        for name, cell in zip(TSV_FIELDS, cells, strict=False):
            columns[name].append(cell if name == "text" else int(float(cell)))
    return columns
