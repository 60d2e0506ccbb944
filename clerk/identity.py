"""Who runs the command line, and with which role.

The actor is the operating-system account of the process's uid (``pwd``), never an
environment variable or an option: nobody can type another name into the audit trail.
The role follows one rule (README, "Who may use the command line"):

- the OS account that owns the data folder (the service account, the one that ran
  ``make run``) acts as ``supervisor``: it can read every file of the data folder anyway;
- any other OS account acts with the role of the chartclerk user of the same name, and is
  refused when there is none or it is disabled.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from records.audit import Actor
from records.store import Store
from records.users import get_user

NO_LOGIN_UID = 4294967295  # (uid_t)-1: no login session (daemons, containers)


def _account(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid-{uid}"


def _login_uid() -> int | None:
    """The uid of the person's login session, which sudo and su keep (Linux audit)."""
    try:
        value = int(Path("/proc/self/loginuid").read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return None if value == NO_LOGIN_UID else value


def os_actor() -> Actor:
    """The command line's actor: the OS account of this process's uid, channel ``cli``.

    When a person reached that account through sudo or su, their own login account is kept
    as the entry's client (``login=alice``), from the kernel's login uid, not from the
    environment.
    """
    uid = os.getuid()
    login = _login_uid()
    client = f"login={_account(login)}" if login is not None and login != uid else None
    return Actor(_account(uid), "cli", client)


def cli_role(actor: Actor, data_dir: Path, store: Store) -> str | None:
    """The role the command line acts with (None: refused), by the rule above."""
    try:
        owner = data_dir.stat().st_uid
    except OSError:
        owner = None
    if owner is not None and owner == os.getuid():
        return "supervisor"
    user = get_user(store, actor.name)
    if user is None or user.disabled:
        return None
    return user.role
