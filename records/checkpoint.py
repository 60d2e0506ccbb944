"""Signed checkpoints of the audit trail's head.

Anyone with the database file can rewrite the whole chain and recompute every hash; a
checkpoint (last id, its hash, the count) signed with HMAC-SHA256 by a key kept outside
the data folder, and shipped to write-once storage, pins everything up to that entry:
``audit verify --checkpoint FILE`` fails when the chain up to it was rewritten or its tail
was cut off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from chartclerk_errors import AuditChainError, ConfigError
from records.audit import Pin, VerifyResult, verify

KEY_BYTES = 32
FORMAT = "chartclerk-audit-checkpoint/1"


def load_key(path: Path) -> bytes:
    """The checkpoint key at ``path``, created (0600, in a 0700 folder) on first use.

    Raises:
        ConfigError: the key file is readable by others, or cannot be read or created.
    """
    try:
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(KEY_BYTES) + "\n")
        if path.stat().st_mode & 0o077:
            raise ConfigError(f"{path}: the audit checkpoint key is readable by others; chmod 600")
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot use the audit checkpoint key: {exc}") from exc
    if len(key) < 16:
        raise ConfigError(f"{path}: the audit checkpoint key is too short")
    return key


def _signed_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(payload: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of a checkpoint's fields (without its signature), hex."""
    return hmac.new(key, _signed_bytes(payload), hashlib.sha256).hexdigest()


def cut(engine: Engine, key_path: Path, out: Path) -> dict[str, Any]:
    """Verify the chain, then write a signed checkpoint of its head to ``out`` (0600).

    Raises:
        AuditChainError: the chain is already broken (no checkpoint of a broken chain).
        ConfigError: the key cannot be used.
    """
    key = load_key(key_path)
    result = verify(engine)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "head_id": result.head_id,
        "hash": result.head_hash,
        "count": result.count,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    payload["hmac_sha256"] = sign(payload, key)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(payload, indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return payload


def read(path: Path, key_path: Path) -> Pin:
    """A checkpoint file whose signature holds, as the pin :func:`verify` checks.

    Raises:
        AuditChainError: the file is not a checkpoint or its signature does not match.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        signature = data.pop("hmac_sha256")
        pin = Pin(int(data["head_id"]), str(data["hash"]), int(data["count"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AuditChainError(f"{path}: not a readable audit checkpoint") from exc
    if not hmac.compare_digest(str(signature), sign(data, load_key(key_path))):
        raise AuditChainError(
            f"{path}: checkpoint signature does not match (altered, or another key)"
        )
    return pin


def verify_with(engine: Engine, checkpoint: Path | None, key_path: Path) -> VerifyResult:
    """Verify the chain, and when a checkpoint is given, that it still holds up to it."""
    pin = read(checkpoint, key_path) if checkpoint is not None else None
    return verify(engine, pin)
