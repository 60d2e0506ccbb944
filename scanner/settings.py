"""The scanner's own settings: the watched inbox, reading pages, OCR and ingest limits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scanner.reading.defaults import IGNORE_PATTERNS, INGEST, OCR


class WatchSettings(BaseModel):
    """How the inbox is watched."""

    model_config = ConfigDict(extra="forbid")

    path: Path
    polling: bool = False
    poll_interval_seconds: float = Field(default=2.0, gt=0)
    stable_seconds: float = Field(default=2.0, ge=0)
    # On a share, attribute caches lag and scanners pause mid-file: wait longer there.
    polling_stable_seconds: float = Field(default=15.0, ge=0)
    # The inbox is a share's mount point: an unmounted (plain) folder there is an error.
    require_mount: bool = False
    catchup_interval_seconds: float = Field(default=300.0, gt=0)
    ignore_patterns: list[str] = Field(default_factory=lambda: list(IGNORE_PATTERNS))

    @property
    def effective_stable_seconds(self) -> float:
        """How long a file must stay unchanged: longer when polling a network share."""
        if self.polling:
            return max(self.stable_seconds, self.polling_stable_seconds)
        return self.stable_seconds


class OcrSettings(BaseModel):
    """How pages are read."""

    model_config = ConfigDict(extra="forbid")

    languages: str = OCR.languages
    workers: int = Field(default=OCR.workers, ge=0)
    dpi: int = Field(default=OCR.dpi, ge=72, le=600)
    page_timeout_seconds: float = Field(default=OCR.page_timeout_seconds, gt=0)
    orientation_min_confidence: float = Field(default=OCR.orientation_min_confidence, ge=0, le=100)
    orientation_min_words: int = Field(default=OCR.orientation_min_words, ge=0)
    text_layer_min_chars: int = Field(default=OCR.text_layer_min_chars, ge=0)
    # "library": each OCR worker keeps tesseract's library loaded and reads every page in
    # it; "program": the tesseract program is started for every pass (a sixth more CPU a
    # page: a process and the model loaded each time). See scanner.tessapi.
    engine: Literal["library", "program"] = OCR.engine


class IngestSettings(BaseModel):
    """Limits on what one dropped file may cost."""

    model_config = ConfigDict(extra="forbid")

    # Identifying and filing a document once its pages are read run in this process, one at a
    # time: with 4 in flight both OCR workers often sat idle meanwhile (bench_ingest --mix).
    documents_in_flight: int = Field(default=INGEST.documents_in_flight, ge=1)
    max_file_mb: float = Field(default=INGEST.max_file_mb, gt=0)
    max_pages: int = Field(default=INGEST.max_pages, ge=1)
    max_page_megapixels: float = Field(default=INGEST.max_page_megapixels, gt=0)
