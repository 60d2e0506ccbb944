"""The record store's own settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class StoreSettings(BaseModel):
    """Where the record store keeps its database, archive and quarantine."""

    model_config = ConfigDict(extra="forbid")

    database_url: str
    archive_dir: Path
    quarantine_dir: Path
