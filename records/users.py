"""People who use chartclerk: accounts, roles, Argon2id passwords and hashed API tokens.

Passwords are hashed with Argon2id (argon2-cffi's defaults) and never logged or stored in
clear; a token is shown once and only its sha256 is kept. Every change is one audit entry
in the same transaction; sign-ins are recorded too, failed ones included.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chartclerk_errors import AccountThrottled, AuthError, NotFoundError, StoreError
from records import audit
from records.audit import Actor
from records.models import ApiToken, User
from records.permissions import ROLES
from records.store import Store, now

__all__ = [
    "AccountThrottled",
    "AuthError",
    "UserView",
    "prepare_sign_in",
    "add_user",
    "authenticate",
    "disable_user",
    "get_user",
    "list_users",
    "new_token",
    "reset_password",
    "revoke_tokens",
    "set_role",
    "user_for_token",
]

NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_.-]{0,63}")
MIN_PASSWORD = 10
# After this many failed sign-ins in a row the account slows down: each further attempt
# waits THROTTLE_BASE_SECONDS, doubled per failure, at most THROTTLE_MAX_SECONDS.
MAX_FAILURES = 5
THROTTLE_BASE_SECONDS = 15.0
THROTTLE_MAX_SECONDS = 900.0
TOKEN_PREFIX = "cct_"

_hasher = PasswordHasher()  # Argon2id with argon2-cffi's current recommended parameters


def prepare_sign_in() -> None:
    """Make the hash unknown names are checked against now, before the first sign-in.

    A server calls this at start: made on the first unknown name instead, it would make that
    one attempt slower than a wrong password and tell the name is unknown.
    """
    _dummy_hash()


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown names, so a wrong name costs as long as a wrong password.

    Made on first use: hashing costs a third of a second, which every command paid at start.
    """
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class UserView:
    """A user as the faces see it (never the password hash)."""

    name: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    def to_json(self) -> dict[str, object]:
        """The user as JSON-ready values."""
        return {
            "name": self.name,
            "role": self.role,
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
            "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None,
        }

    @classmethod
    def of(cls, row: User) -> UserView:
        """Copy a users row (times given back in UTC with their offset)."""
        return cls(
            row.name,
            row.role,
            bool(row.disabled),
            _aware(row.created_at),
            _aware(row.last_login_at) if row.last_login_at else None,
        )


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def check_name(name: str) -> None:
    """Refuse a user name that is not like an OS account name (the CLI maps one to the other).

    Raises:
        StoreError: the name is not 1-64 of a-z, 0-9, ``_ . -``, starting with a letter or _.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise StoreError(
            "a user name is 1-64 lower-case letters, digits, '_', '.' or '-', "
            "starting with a letter or '_'"
        )


def check_role(role: str) -> None:
    """Refuse a role outside records.permissions.ROLES."""
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}; one of {', '.join(ROLES)}")


def check_password(password: str) -> None:
    """Refuse a password shorter than MIN_PASSWORD characters."""
    if len(password) < MIN_PASSWORD:
        raise StoreError(f"a password needs at least {MIN_PASSWORD} characters")


def _row(session: Session, name: str) -> User:
    row = session.scalar(select(User).where(User.name == name))
    if row is None:
        raise NotFoundError(f"no user named {name}")
    return row


def add_user(store: Store, name: str, role: str, password: str, *, actor: Actor) -> UserView:
    """Create a user with a role and a password (hashed with Argon2id).

    Raises:
        StoreError: bad name, role or password, or the name is taken.
    """
    check_name(name)
    check_role(role)
    check_password(password)
    hashed = _hasher.hash(password)
    with store.session() as s:
        if s.scalar(select(User.id).where(User.name == name)) is not None:
            raise StoreError(f"a user named {name} already exists")
        row = User(
            name=name,
            role=role,
            password_hash=hashed,
            disabled=False,
            created_at=now(),
            failed_logins=0,
        )
        s.add(row)
        s.flush()
        audit.record(s, actor, "user added", detail=f"user={name} role={role}")
        return UserView.of(row)


def get_user(store: Store, name: str) -> UserView | None:
    """The user of this name, or None."""
    with store.session() as s:
        row = s.scalar(select(User).where(User.name == name))
        return UserView.of(row) if row else None


def list_users(store: Store) -> list[UserView]:
    """Every user, by name."""
    with store.session() as s:
        return [UserView.of(row) for row in s.scalars(select(User).order_by(User.name))]


def disable_user(store: Store, name: str, *, actor: Actor) -> UserView:
    """Disable an account: it can no longer sign in, and its tokens stop working.

    Raises:
        NotFoundError: no such user.
    """
    with store.session() as s:
        row = _row(s, name)
        row.disabled = True
        audit.record(s, actor, "user disabled", detail=f"user={name}")
        return UserView.of(row)


def set_role(store: Store, name: str, role: str, *, actor: Actor) -> UserView:
    """Give a user another role.

    Raises:
        NotFoundError: no such user.
        StoreError: unknown role.
    """
    check_role(role)
    with store.session() as s:
        row = _row(s, name)
        before, row.role = row.role, role
        audit.record(s, actor, "role changed", detail=f"user={name} from={before} to={role}")
        return UserView.of(row)


def reset_password(store: Store, name: str, password: str, *, actor: Actor) -> UserView:
    """Set a new password (and clear the failed sign-in count).

    Raises:
        NotFoundError: no such user.
        StoreError: the password is too short.
    """
    check_password(password)
    hashed = _hasher.hash(password)
    with store.session() as s:
        row = _row(s, name)
        row.password_hash, row.failed_logins, row.last_failed_at = hashed, 0, None
        audit.record(s, actor, "password reset", detail=f"user={name}")
        return UserView.of(row)


def _throttle_left(row: User, at: datetime) -> float:
    """Seconds the account must still wait before the next attempt (0 when it may try)."""
    if row.failed_logins < MAX_FAILURES or row.last_failed_at is None:
        return 0.0
    wait = min(
        THROTTLE_BASE_SECONDS * 2 ** (row.failed_logins - MAX_FAILURES), THROTTLE_MAX_SECONDS
    )
    left = (row.last_failed_at + timedelta(seconds=wait) - at).total_seconds()
    return max(left, 0.0)


def _password_matches(encoded: str, password: str) -> bool:
    try:
        return _hasher.verify(encoded, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(
    store: Store, name: str, password: str, *, actor_client: str | None = None
) -> UserView:
    """Check a name and password for the web desk; every attempt is an audit entry.

    Raises:
        AuthError: unknown name, wrong password or disabled account (one message for all).
        AccountThrottled: MAX_FAILURES failures in a row; wait ``retry_after_seconds``.
    """
    at = now()
    with store.session() as s:
        row = s.scalar(select(User).where(User.name == name))
        if row is None:
            _password_matches(_dummy_hash(), password)
            # The typed name is not written: the trail holds only names that exist.
            who = Actor("(unknown)", "web", actor_client)
            audit.record(s, who, "login", outcome="failed", detail="unknown user name")
            failure: AuthError = AuthError("wrong user name or password")
        else:
            who = Actor(row.name, "web", actor_client)
            left = _throttle_left(row, at)
            if left > 0:
                audit.record(s, who, "login", outcome="throttled")
                failure = AccountThrottled(left)
            elif _password_matches(row.password_hash, password) and not row.disabled:
                if _hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = _hasher.hash(password)
                row.failed_logins, row.last_failed_at, row.last_login_at = 0, None, at
                audit.record(s, who, "login")
                return UserView.of(row)
            else:
                row.failed_logins, row.last_failed_at = row.failed_logins + 1, at
                reason = "disabled" if row.disabled else "wrong password"
                audit.record(s, who, "login", outcome="failed", detail=reason)
                failure = AuthError("wrong user name or password")
    # Raised after the session committed, so the failure's audit entry is kept.
    raise failure


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(store: Store, name: str, *, actor: Actor) -> str:
    """A new API token for a user; returned once, only its sha256 is stored.

    Raises:
        NotFoundError: no such user.
        StoreError: the user is disabled.
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as s:
        row = _row(s, name)
        if row.disabled:
            raise StoreError(f"user {name} is disabled")
        s.add(ApiToken(user_id=row.id, token_hash=_token_hash(token), created_at=now()))
        audit.record(s, actor, "token issued", detail=f"user={name}")
    return token


def user_for_token(store: Store, token: str) -> UserView | None:
    """The user a bearer token belongs to; None if unknown, revoked or the user disabled."""
    with store.session() as s:
        row = s.scalar(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
        )
        if row is None or row.disabled:
            return None
        return UserView.of(row)


def revoke_tokens(store: Store, name: str, *, actor: Actor) -> int:
    """Revoke every live token of a user; returns how many.

    Raises:
        NotFoundError: no such user.
    """
    with store.session() as s:
        row = _row(s, name)
        result = s.execute(
            update(ApiToken)
            .where(ApiToken.user_id == row.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        audit.record(s, actor, "tokens revoked", detail=f"user={name} count={count}")
        return count
