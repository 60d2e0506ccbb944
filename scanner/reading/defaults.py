"""The defaults of the settings a page is read with, free of any heavy import.

``scanner.settings`` declares them (with their checks) from here, and an OCR worker reading a
file ahead (``scanner.reading.ahead``) takes them from here too: it reads a configuration's
``ocr`` and ``ingest`` sections before pydantic, a seventh of a second, has loaded, and
lists the files named as the command will (skipping the names never taken).
"""

from __future__ import annotations

from typing import Literal, NamedTuple


class OcrDefaults(NamedTuple):
    """The ``ocr`` section's defaults."""

    languages: str = "eng"
    workers: int = 0
    dpi: int = 300
    page_timeout_seconds: float = 120.0
    orientation_min_confidence: float = 60.0
    orientation_min_words: int = 8
    text_layer_min_chars: int = 20
    engine: Literal["library", "program"] = "library"


class IngestDefaults(NamedTuple):
    """The ``ingest`` section's defaults."""

    documents_in_flight: int = 8
    max_file_mb: float = 512.0
    max_pages: int = 500
    max_page_megapixels: float = 89.0


#: Names in the inbox never taken (``inbox.ignore_patterns``): hidden, partial and temporary.
IGNORE_PATTERNS = (".*", "*.part", "*.tmp", "*.crdownload", "~$*", "Thumbs.db")

OCR = OcrDefaults()
INGEST = IngestDefaults()
