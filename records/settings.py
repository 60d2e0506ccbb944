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


class AuditSettings(BaseModel):
    """The audit trail's checkpoints."""

    model_config = ConfigDict(extra="forbid")

    # The HMAC key signing checkpoints; must live outside the data folder (checked at start).
    checkpoint_key: Path = Path("~/.config/chartclerk/audit-checkpoint.key").expanduser()
