"""A stored file → its pages: text layers read directly, everything else as images for OCR.

Page images are made inside the OCR workers (see ``scanner.ocr``) from a small
:class:`PageJob`, so a 300-dpi page never crosses a process boundary.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pypdfium2 as pdfium
from PIL import Image, ImageChops, ImageOps, ImageStat, UnidentifiedImageError

from chartclerk_errors import InputFileError, content_reason, not_ready

if TYPE_CHECKING:
    from scanner.settings import IngestSettings, OcrSettings

# Mean grey-level difference (0-255) under which a decoded scan matches its page rendered.
LOOKS_THE_SAME = 24.0
# Pixels tesseract reads in a second on one core (a 300-dpi letter page takes about one).
PIXELS_PER_SECOND = 8.4e6
IMAGE_TYPES = {"image/png", "image/jpeg", "image/tiff", "image/bmp", "image/gif"}


@dataclass(frozen=True)
class ReadOptions:
    """What every OCR job needs to know, taken from the OCR and ingest settings."""

    dpi: int
    max_pixels: int
    timeout: float
    languages: str
    min_confidence: float
    min_words: int
    max_pages: int
    # "library": tesseract's library in the worker; "program": the tesseract program per pass.
    engine: Literal["library", "program"] = "library"

    @classmethod
    def from_settings(cls, ocr: OcrSettings, ingest: IngestSettings) -> ReadOptions:
        """The options the configured OCR and ingest settings mean."""
        return cls(
            dpi=ocr.dpi,
            max_pixels=int(ingest.max_page_megapixels * 1_000_000),
            timeout=ocr.page_timeout_seconds,
            languages=ocr.languages,
            min_confidence=ocr.orientation_min_confidence,
            min_words=ocr.orientation_min_words,
            max_pages=ingest.max_pages,
            engine=ocr.engine,
        )


@dataclass(frozen=True)
class PageJob:
    """One page that needs OCR: where its file is and which page or frame it is."""

    path: str
    kind: Literal["pdf", "image"]
    index: int
    options: ReadOptions
    text_layer_min_chars: int = 20
    pixels: int = 0

    @property
    def number(self) -> int:
        """The 1-based page number."""
        return self.index + 1

    @property
    def cost(self) -> float:
        """Expected seconds of tesseract for the page, from its pixels.

        About a second for a 300-dpi letter page (8.4 megapixels) on one core here; only
        the comparison between pages matters.
        """
        return self.pixels / PIXELS_PER_SECOND


def count_image_frames(path: Path, max_pixels: int) -> int:
    """How many pages (frames) an image file holds, checking each is of a sane size.

    Raises:
        InputFileError: not a readable image, or a frame larger than the pixel limit.
    """
    return len(image_frame_pixels(path, max_pixels))


def image_frame_pixels(path: Path, max_pixels: int) -> list[int]:
    """The pixel count of every page (frame) of an image file, checking each is sane.

    Raises:
        InputFileError: not a readable image, or a frame larger than the pixel limit.
    """
    try:
        with _bomb_warning_as_check(), Image.open(path) as image:
            sizes = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                _check_pixels(image.size, max_pixels)
                sizes.append(image.size[0] * image.size[1])
            return sizes
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputFileError(f"unreadable image: {_first_line(exc)}") from exc
    except Image.DecompressionBombError as exc:
        raise InputFileError("image too large (decompression bomb guard)") from exc


@contextmanager
def _bomb_warning_as_check() -> Iterator[None]:
    # Pillow warns past its pixel limit and refuses past twice that; the warning would only
    # reach stderr, so it is silenced here and our own limit (max_page_megapixels), checked
    # before any pixel is decoded, decides. Pillow's hard refusal stays on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise InputFileError(
            f"page too large ({width}x{height} px, over {max_pixels // 1_000_000} megapixels)"
        )


def load_frame(path: Path, index: int, max_pixels: int) -> Image.Image:
    """Decode one frame of an image file, upright per its EXIF tag, as greyscale or 1-bit."""
    with _bomb_warning_as_check(), Image.open(path) as image:
        image.seek(index)
        _check_pixels(image.size, max_pixels)
        image.load()
        frame = ImageOps.exif_transpose(image) or image
        if "A" in frame.mode or "transparency" in frame.info:
            # A transparent background is paper, not ink: flatten it onto white.
            rgba = frame.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            flat.alpha_composite(rgba)
            frame = flat
        if frame.mode not in ("L", "1"):
            frame = frame.convert("L")
        return frame.copy()


def render_pdf_page(path: Path, index: int, dpi: int, max_pixels: int) -> Image.Image:
    """Render one PDF page at ``dpi`` (less when the page is huge), greyscale.

    A page that is one scanned image, upright and at no more than ``dpi``, is not rendered:
    its image is decoded as it is (a tenth of the time of rendering a 300-dpi page).
    """
    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[index]
        try:
            width, height = page.get_size()
            scan = _scanned_image(page, width)
            native = scan[1] if scan is not None else None
            if scan is not None and scan[1] <= dpi * 1.05:
                image = _decoded(page, scan[0], max_pixels)
                if image is not None:
                    return image
            scale = min(dpi, native or dpi) / 72
            pixels = width * scale * height * scale
            if pixels > max_pixels:
                # An oversized page (a poster, a bad MediaBox) is read at what fits the limit.
                scale *= (max_pixels / pixels) ** 0.5
            image = page.render(scale=scale, grayscale=True).to_pil()
            return image.convert("L") if image.mode != "L" else image
        finally:
            page.close()
    finally:
        pdf.close()


def _scanned_image(page: pdfium.PdfPage, width: float) -> tuple[pdfium.PdfImage, float] | None:
    """The one image a scanned page is, with its resolution; None for any other page.

    A 200-dpi fax rendered at 300 dpi would give tesseract twice the pixels to read and
    no more detail: such a page is read at its own resolution (up to ``ocr.dpi``).
    """
    objects = list(page.get_objects(max_depth=1))
    if len(objects) != 1 or not isinstance(objects[0], pdfium.PdfImage):
        return None
    image = objects[0]
    left, _, right, _ = image.get_bounds()
    if right - left < width * 0.9:
        return None  # an image on part of the page only
    native = image.get_px_size()[0] * 72 / (right - left)
    return (image, native) if native >= 150 else None


def _decoded(page: pdfium.PdfPage, image: pdfium.PdfImage, max_pixels: int) -> Image.Image | None:
    """The scanned image of ``page`` decoded as stored, or None when it must be rendered.

    Only an upright, unmirrored image on an unrotated page qualifies; and what was decoded
    must look like the page rendered small (a decode array, a mask or an odd colour space
    could make it a negative), else the page is rendered after all.
    """
    matrix = image.get_matrix()
    if page.get_rotation() or matrix.b or matrix.c or matrix.a <= 0 or matrix.d <= 0:
        return None
    px_width, px_height = image.get_px_size()
    if px_width * px_height > max_pixels:
        return None
    decoded = image.get_bitmap(render=False).to_pil()
    decoded = decoded if decoded.mode in ("L", "1") else decoded.convert("L")
    thumb = page.render(scale=0.25, grayscale=True).to_pil().convert("L")
    small = decoded.convert("L").resize(thumb.size, Image.Resampling.BOX)
    difference = ImageStat.Stat(ImageChops.difference(small, thumb)).mean[0]
    return decoded if difference < LOOKS_THE_SAME else None


def plan_pages(
    path: Path, media_type: str, options: ReadOptions, text_layer_min_chars: int
) -> list[PageJob]:
    """Decide how to read every page of a stored file.

    Args:
        path: the archived copy of the file.
        media_type: the sniffed media type.
        options: the OCR settings every :class:`PageJob` carries.
        text_layer_min_chars: a PDF page with fewer characters of text layer is OCR'd.

    Raises:
        InputFileError: the file cannot be opened (corrupt, encrypted, not a page format):
            whatever a decoder raised on the file's bytes, with a one-line reason.
        NotReadyError: the world failed (disk, permissions), not the file.
    """
    try:
        return _plan(path, media_type, options, text_layer_min_chars)
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - classified: any decoder's surprise ends the file
        failure = not_ready(exc)
        if failure is not None:
            raise failure from None  # ours pickle back to the daemon; a decoder's may not
        raise InputFileError(content_reason(exc)) from None


def _plan(
    path: Path, media_type: str, options: ReadOptions, text_layer_min_chars: int
) -> list[PageJob]:
    if media_type == "application/pdf":
        return _plan_pdf(path, options, text_layer_min_chars)
    if media_type in IMAGE_TYPES:
        sizes = image_frame_pixels(path, options.max_pixels)
        _check_page_count(len(sizes), options.max_pages)
        return [
            PageJob(str(path), "image", i, options, pixels=pixels) for i, pixels in enumerate(sizes)
        ]
    raise InputFileError("not a PDF or an image (unrecognised file contents)")


def pdf_page_sizes(path: Path) -> list[tuple[float, float]]:
    """The size in points of every page of a PDF (read from the page tree, not rendered).

    Raises:
        InputFileError: encrypted, corrupt or truncated beyond repair.
    """
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise InputFileError("password-protected PDF") from exc
        raise InputFileError(f"unreadable PDF: {_first_line(exc)}") from exc
    try:
        sizes = []
        for index in range(len(pdf)):
            try:
                sizes.append(pdf.get_page_size(index))
            except pdfium.PdfiumError:
                sizes.append((612.0, 792.0))  # the page fails when read, on its own
        return sizes
    finally:
        pdf.close()


def _plan_pdf(path: Path, options: ReadOptions, min_chars: int) -> list[PageJob]:
    sizes = pdf_page_sizes(path)
    if not sizes:
        raise InputFileError("PDF has no pages")
    _check_page_count(len(sizes), options.max_pages)
    scale = (options.dpi / 72) ** 2
    # Every page goes to the workers, which read its text layer and OCR it only when the
    # layer is missing or too thin: text-layer pages are read on all cores too.
    return [
        PageJob(
            str(path), "pdf", i, options, min_chars, int(min(w * h * scale, options.max_pixels))
        )
        for i, (w, h) in enumerate(sizes)
    ]


def _check_page_count(count: int, max_pages: int) -> None:
    if count > max_pages:
        raise InputFileError(f"too many pages ({count} > limit of {max_pages})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
