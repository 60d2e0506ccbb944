"""The record store's own settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class StoreSettings(BaseModel):
    """Where the record store keeps its database, archive and quarantine."""

    model_config = ConfigDict(extra="forbid")

    database_url: str
    archive_dir: Path
    quarantine_dir: Path


class FeedSettings(BaseModel):
    """Which identifiers of an HL7 v2 or FHIR feed are this hospital's MRNs.

    Attributes:
        mrn_type_codes: HL7 table 0203 identifier type codes that mark an MRN (PID-3's CX.5,
            a FHIR identifier's ``type.coding.code``), e.g. ``MR`` and ``PI``.
        assigning_authorities: this facility's assigning authorities (CX.4's namespace or
            universal id; a FHIR identifier's ``system``, or its assigner's display or
            identifier). An identifier assigned by anyone else is not taken as an MRN.
            Empty: any authority (a feed from one facility).
    """

    model_config = ConfigDict(extra="forbid")

    mrn_type_codes: list[str] = Field(default_factory=lambda: ["MR"], min_length=1)
    assigning_authorities: list[str] = Field(default_factory=list)

    def is_mrn(self, type_code: str | None, authorities: list[str | None]) -> bool:
        """Whether an identifier of this type, assigned by one of these names, is an MRN."""
        codes = {code.strip().upper() for code in self.mrn_type_codes}
        if (type_code or "").strip().upper() not in codes:
            return False
        return self.ours(authorities)

    def ours(self, authorities: list[str | None]) -> bool:
        """Whether one of these names is this facility's (always, when none is configured)."""
        if not self.assigning_authorities:
            return True
        wanted = {a.strip().casefold() for a in self.assigning_authorities}
        return any(a and a.strip().casefold() in wanted for a in authorities)


class AuditSettings(BaseModel):
    """The audit trail's checkpoints."""

    model_config = ConfigDict(extra="forbid")

    # The HMAC key signing checkpoints; must live outside the data folder (checked at start).
    checkpoint_key: Path = Path("~/.config/chartclerk/audit-checkpoint.key").expanduser()
