"""Loading config.yaml into typed settings, one section per part, checked at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chartclerk_errors import ConfigError
from clerk.web.settings import WebSettings
from index import IndexSettings
from records.completeness_rules import CompletenessSettings
from records.settings import AuditSettings, FeedSettings, StoreSettings
from scanner.matching.filing import FilingSettings
from scanner.settings import IngestSettings, OcrSettings, WatchSettings


class LoggingSettings(BaseModel):
    """Where the application log goes. It never carries PHI, whatever the level."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None


class DaemonSettings(BaseModel):
    """The long-running watcher."""

    model_config = ConfigDict(extra="forbid")

    heartbeat_seconds: float = Field(default=300.0, gt=0)
    index_retry_seconds: float = Field(default=60.0, gt=0)


class Settings(BaseModel):
    """The whole configuration, each part's section typed by that part."""

    model_config = ConfigDict(extra="forbid")

    data_dir: Path
    inbox: WatchSettings
    store: StoreSettings
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    filing: FilingSettings = Field(default_factory=FilingSettings)
    index: IndexSettings
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    completeness: CompletenessSettings = Field(default_factory=CompletenessSettings)


def load_config(path: Path) -> Settings:
    """Read and check a configuration file; relative paths resolve against its folder.

    Raises:
        ConfigError: the file is missing or malformed, with the key path and a hint.
    """
    try:
        # libyaml's safe loader where PyYAML was built with it: 45 ms off every command.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: not found (use --config PATH)") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    base = path.resolve().parent
    try:
        settings = Settings.model_validate(_with_defaults(raw, base))
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from exc
    _check_key_outside(path, settings)
    return settings


def _check_key_outside(path: Path, settings: Settings) -> None:
    """The checkpoint key must not sit in the data folder it vouches for."""
    key = settings.audit.checkpoint_key.resolve()
    if key.is_relative_to(settings.data_dir.resolve()):
        raise ConfigError(
            f"{path.name}: audit.checkpoint_key: must be outside data_dir "
            "(whoever can rewrite the data folder must not hold the key)"
        )


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"config: {key}: expected a mapping, got {type(value).__name__}")
    return dict(value)


def _resolve(base: Path, value: Any) -> Any:
    if isinstance(value, str) and value:
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else base / candidate
    return value


def _with_defaults(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Fill derived paths (under data_dir) and resolve relative ones against ``base``."""
    data = dict(raw)
    data_dir = _resolve(base, data.get("data_dir") or "var")
    data["data_dir"] = data_dir
    inbox = _section(data, "inbox")
    inbox["path"] = _resolve(base, inbox.get("path") or "inbox")
    data["inbox"] = inbox
    store = _section(data, "store")
    store["database_url"] = store.get("database_url") or f"sqlite:///{data_dir / 'chartclerk.db'}"
    store["archive_dir"] = _resolve(base, store.get("archive_dir")) or data_dir / "archive"
    store["quarantine_dir"] = _resolve(base, store.get("quarantine_dir")) or data_dir / "quarantine"
    data["store"] = store
    index = _section(data, "index")
    index["path"] = _resolve(base, index.get("path")) or data_dir / "index"
    data["index"] = index
    logging_section = _section(data, "logging")
    if logging_section.get("file"):
        logging_section["file"] = _resolve(base, logging_section["file"])
    data["logging"] = logging_section
    audit = _section(data, "audit")
    if audit.get("checkpoint_key"):
        audit["checkpoint_key"] = _resolve(base, audit["checkpoint_key"])
    data["audit"] = audit
    return data


def _describe(path: Path, exc: ValidationError) -> str:
    """One line naming the first bad key, what is wrong, and what was given."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{path.name}: {where}: unknown key (check its spelling and section)"
    given = error.get("input")
    shown = f" (got {given!r})" if not isinstance(given, dict | list) else ""
    return f"{path.name}: {where}: {error['msg']}{shown}"
