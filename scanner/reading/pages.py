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
from typing import Literal

import pypdfium2 as pdfium
from PIL import Image, ImageOps, UnidentifiedImageError

from chartclerk_errors import InputFileError, content_reason, not_ready

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


@dataclass(frozen=True)
class PageJob:
    """One page that needs OCR: where its file is and which page or frame it is."""

    path: str
    kind: Literal["pdf", "image"]
    index: int
    options: ReadOptions
    text_layer_min_chars: int = 20

    @property
    def number(self) -> int:
        """The 1-based page number."""
        return self.index + 1


def count_image_frames(path: Path, max_pixels: int) -> int:
    """How many pages (frames) an image file holds, checking each is of a sane size.

    Raises:
        InputFileError: not a readable image, or a frame larger than the pixel limit.
    """
    try:
        with _bomb_warning_as_check(), Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            for index in range(frames):
                image.seek(index)
                _check_pixels(image.size, max_pixels)
            return frames
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
    """Render one PDF page at ``dpi`` (less when the page is huge), greyscale."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[index]
        width, height = page.get_size()
        scale = dpi / 72
        pixels = width * scale * height * scale
        if pixels > max_pixels:
            # An oversized page (a poster, a bad MediaBox) is read at what fits the limit.
            scale *= (max_pixels / pixels) ** 0.5
        bitmap = page.render(scale=scale, grayscale=True)
        image = bitmap.to_pil()
        page.close()
        return image.convert("L") if image.mode != "L" else image
    finally:
        pdf.close()


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
        frames = count_image_frames(path, options.max_pixels)
        _check_page_count(frames, options.max_pages)
        return [PageJob(str(path), "image", i, options) for i in range(frames)]
    raise InputFileError("not a PDF or an image (unrecognised file contents)")


def pdf_page_count(path: Path) -> int:
    """How many pages a PDF has, by pdfium, which opens what pdfminer is slow to.

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
        return len(pdf)
    finally:
        pdf.close()


def _plan_pdf(path: Path, options: ReadOptions, min_chars: int) -> list[PageJob]:
    count = pdf_page_count(path)
    if count == 0:
        raise InputFileError("PDF has no pages")
    _check_page_count(count, options.max_pages)
    # Every page goes to the workers, which read its text layer and OCR it only when the
    # layer is missing or too thin: text-layer pages are read on all cores too.
    return [PageJob(str(path), "pdf", i, options, min_chars) for i in range(count)]


def _check_page_count(count: int, max_pages: int) -> None:
    if count > max_pages:
        raise InputFileError(f"too many pages ({count} > limit of {max_pages})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
