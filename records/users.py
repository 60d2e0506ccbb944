"""STUB of the issue-9 users API, in memory (replaced by branch i9 at merge)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from chartclerk_errors import ChartclerkError
from records.audit import Actor
from records.store import Store, now


class AuthError(ChartclerkError):
    """Wrong name or password, or a disabled account."""


class AccountThrottled(ChartclerkError):
    """Too many failures: wait."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class UserView:
    """A user as shown."""

    name: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


_USERS: dict[str, dict[str, tuple[UserView, str]]] = {}
_TOKENS: dict[str, dict[str, str]] = {}
_FAILS: dict[str, dict[str, int]] = {}


def _db(store: Store) -> dict[str, tuple[UserView, str]]:
    return _USERS.setdefault(store.settings.database_url, {})


def _hash(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def add_user(store: Store, name: str, role: str, password: str, *, actor: Actor) -> UserView:
    """Add a user."""
    view = UserView(name, role, False, now(), None)
    _db(store)[name] = (view, _hash(password))
    return view


def get_user(store: Store, name: str) -> UserView | None:
    """A user by name."""
    found = _db(store).get(name)
    return found[0] if found else None


def list_users(store: Store) -> list[UserView]:
    """Every user."""
    return [v for v, _ in _db(store).values()]


def disable_user(store: Store, name: str, *, actor: Actor) -> UserView:
    """Disable a user."""
    view, pw = _db(store)[name]
    view = replace(view, disabled=True)
    _db(store)[name] = (view, pw)
    return view


def authenticate(
    store: Store, name: str, password: str, *, actor_client: str | None = None
) -> UserView:
    """Check a password."""
    fails = _FAILS.setdefault(store.settings.database_url, {})
    if fails.get(name, 0) >= 5:
        raise AccountThrottled(30)
    found = _db(store).get(name)
    if found is None or found[1] != _hash(password) or found[0].disabled:
        fails[name] = fails.get(name, 0) + 1
        raise AuthError("wrong user name or password")
    fails[name] = 0
    return found[0]


def new_token(store: Store, name: str, *, actor: Actor) -> str:
    """A new API token."""
    token = secrets.token_urlsafe(32)
    _TOKENS.setdefault(store.settings.database_url, {})[_hash(token)] = name
    return token


def user_for_token(store: Store, token: str) -> UserView | None:
    """The user holding this token."""
    name = _TOKENS.get(store.settings.database_url, {}).get(_hash(token))
    user = get_user(store, name) if name else None
    return user if user and not user.disabled else None
