"""THE permission table: which role may do which action, for every face (CLI, web, API).

Deny by default: an action missing from a role's row, an unknown role or no role at all is
refused. The command line, the web desk and the API all ask :func:`require` with the same
:class:`Action`; a test walks the whole table.
"""

from __future__ import annotations

import enum

from chartclerk_errors import PermissionDenied

__all__ = ["ROLES", "TABLE", "Action", "PermissionDenied", "allowed", "require"]

ROLES: tuple[str, ...] = ("clerk", "supervisor", "viewer", "auditor")


class Action(enum.StrEnum):
    """Everything a person can do in chartclerk, as the permission table knows it."""

    SEARCH = "search"  # search documents
    VIEW = "view"  # list/show documents, patients, page images
    DOWNLOAD = "download"  # the original file
    REVIEW = "review"  # review queue: list, claim, assign, reject
    REFILE = "refile"  # refile / unfile a filed document
    REPROCESS = "reprocess"  # read again from the archive
    REPROCESS_FILED = "reprocess_filed"  # read again a document already filed (--force)
    QUARANTINE = "quarantine"  # see quarantine, retry, set aside
    IMPORT = "import"  # patients/encounters import, ingest
    USERS = "users"  # manage users and tokens
    AUDIT = "audit"  # audit report, verify, checkpoint
    STATUS = "status"  # service status counts
    DEFICIENCIES = "deficiencies"  # chart completeness worklist, complete, mark, letters
    WAIVE = "waive"  # waive a deficiency


_VIEWER = frozenset({Action.SEARCH, Action.VIEW, Action.STATUS})
_CLERK = _VIEWER | {
    Action.DOWNLOAD,
    Action.REVIEW,
    Action.REFILE,
    Action.REPROCESS,
    Action.DEFICIENCIES,
}
_SUPERVISOR = _CLERK | {
    Action.REPROCESS_FILED,
    Action.QUARANTINE,
    Action.IMPORT,
    Action.USERS,
    Action.AUDIT,
    Action.WAIVE,
}
_AUDITOR = frozenset({Action.AUDIT, Action.STATUS})

TABLE: dict[str, frozenset[Action]] = {
    "clerk": frozenset(_CLERK),
    "supervisor": frozenset(_SUPERVISOR),
    "viewer": _VIEWER,
    "auditor": _AUDITOR,
}


def allowed(role: str, action: Action) -> bool:
    """True when ``role`` may do ``action`` (unknown roles may do nothing)."""
    return action in TABLE.get(role, frozenset())


def require(role: str | None, action: Action) -> None:
    """Refuse ``action`` unless ``role`` allows it.

    Raises:
        PermissionDenied: no role, an unknown role, or a role without this action.
    """
    if role is None:
        raise PermissionDenied(f"no chartclerk role: not allowed to {action.value}")
    if not allowed(role, action):
        raise PermissionDenied(f"role {role} is not allowed to {action.value}")
