"""Page images for the desk, rendered on the server from the archived original.

PDF pages are rendered with pypdfium2, scans with Pillow, at the width asked for, and
kept in a cache under the data folder (folders 0700, files 0600): the images are PHI.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from chartclerk_errors import NotFoundError
from records.archive import Archive

PDF_MAGIC = b"%PDF"


class PageImages:
    """Renders and caches page PNGs of archived documents."""

    def __init__(self, archive: Archive, cache_dir: Path) -> None:
        self.archive = archive
        self.cache_dir = cache_dir
        # pdfium is not thread-safe; one render at a time per process.
        self._pdfium = threading.Lock()

    def png(self, sha256: str, page: int, width: int, rotation: int = 0) -> bytes:
        """The PNG of page ``page`` (1-based) at ``width`` pixels, turned upright.

        Raises:
            NotFoundError: the archive does not hold the file, or it has no such page.
        """
        cached = self.cache_dir / sha256[:2] / f"{sha256}-{page}-{width}-{rotation}.png"
        try:
            return cached.read_bytes()
        except FileNotFoundError:
            pass
        source = self.archive.path_for(sha256)
        if not source.is_file():
            raise NotFoundError("the original file is not in the archive")
        image = self._render(source, page, width)
        if rotation:
            image = image.rotate(rotation, expand=True)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=False, compress_level=3)
        data = out.getvalue()
        _write_private(cached, data)
        return data

    def _render(self, source: Path, page: int, width: int) -> Image.Image:
        with source.open("rb") as handle:
            is_pdf = handle.read(4) == PDF_MAGIC
        if is_pdf:
            with self._pdfium:
                pdf = pdfium.PdfDocument(source)
                try:
                    if not 1 <= page <= len(pdf):
                        raise NotFoundError(f"no page {page}")
                    leaf = pdf[page - 1]
                    scale = width / max(leaf.get_width(), 1.0)
                    image: Image.Image = leaf.render(scale=scale).to_pil()
                    leaf.close()
                finally:
                    pdf.close()
            return image.convert("RGB")
        with Image.open(source) as scan:
            try:
                scan.seek(page - 1)
            except EOFError as exc:
                raise NotFoundError(f"no page {page}") from exc
            scan.draft("L", (width, width * 2))
            image = (
                scan.convert("L") if scan.mode in ("1", "L", "P", "I;16") else scan.convert("RGB")
            )
        height = max(1, round(image.height * width / max(image.width, 1)))
        return image.resize((width, height), Image.Resampling.LANCZOS)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)
