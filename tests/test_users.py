"""Users, roles, Argon2id passwords, hashed tokens and sign-in throttling."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from chartclerk_errors import AccountThrottled, AuthError, NotFoundError, StoreError
from records import users
from records.audit import Actor, verify
from records.models import ApiToken, User
from records.settings import StoreSettings
from records.store import Store, now

BOSS = Actor("boss", "cli")
PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    instance = Store(
        StoreSettings(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
            archive_dir=tmp_path / "archive",
            quarantine_dir=tmp_path / "quarantine",
        )
    )
    yield instance
    instance.close()


def test_add_list_and_the_password_is_stored_only_as_argon2id(store: Store) -> None:
    view = users.add_user(store, "ann", "clerk", PASSWORD, actor=BOSS)
    assert (view.name, view.role, view.disabled, view.last_login_at) == (
        "ann",
        "clerk",
        False,
        None,
    )
    assert view.created_at.tzinfo is not None
    users.add_user(store, "abe", "viewer", PASSWORD, actor=BOSS)
    assert [u.name for u in users.list_users(store)] == ["abe", "ann"]
    with store.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.name == "ann"))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    trail = store.list_events()
    assert [(r["actor"], r["kind"]) for r in trail] == [("boss", "user added")] * 2
    assert all(PASSWORD not in str(r) for r in trail)


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("Ann", "clerk", PASSWORD, "user name"),
        ("a b", "clerk", PASSWORD, "user name"),
        ("", "clerk", PASSWORD, "user name"),
        ("ann", "admin", PASSWORD, "unknown role"),
        ("ann", "clerk", "short", "at least"),
    ],
)
def test_bad_input_is_refused(
    store: Store, name: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        users.add_user(store, name, role, password, actor=BOSS)
    assert users.list_users(store) == []


def test_a_name_is_taken_once(store: Store) -> None:
    users.add_user(store, "ann", "clerk", PASSWORD, actor=BOSS)
    with pytest.raises(StoreError, match="already exists"):
        users.add_user(store, "ann", "viewer", PASSWORD, actor=BOSS)


def test_authenticate_role_change_reset_and_disable(store: Store) -> None:
    users.add_user(store, "ann", "clerk", PASSWORD, actor=BOSS)
    signed_in = users.authenticate(store, "ann", PASSWORD, actor_client="10.1.1.1")
    assert signed_in.last_login_at is not None
    assert users.set_role(store, "ann", "supervisor", actor=BOSS).role == "supervisor"
    users.reset_password(store, "ann", "another long one", actor=BOSS)
    with pytest.raises(AuthError):
        users.authenticate(store, "ann", PASSWORD)
    users.authenticate(store, "ann", "another long one")
    users.disable_user(store, "ann", actor=BOSS)
    with pytest.raises(AuthError) as caught:
        users.authenticate(store, "ann", "another long one")
    assert str(caught.value) == "wrong user name or password"
    logins = [r for r in store.list_events() if r["kind"] == "login"]
    assert [(r["actor"], r["channel"], r["outcome"]) for r in reversed(logins)] == [
        ("ann", "web", "ok"),
        ("ann", "web", "failed"),
        ("ann", "web", "ok"),
        ("ann", "web", "failed"),
    ]
    with pytest.raises(NotFoundError):
        users.set_role(store, "nobody", "clerk", actor=BOSS)


def test_unknown_names_fail_like_wrong_passwords_and_are_not_written(store: Store) -> None:
    with pytest.raises(AuthError) as caught:
        users.authenticate(store, "Robert'); DROP", PASSWORD)
    assert str(caught.value) == "wrong user name or password"
    entry = store.list_events()[0]
    assert (entry["actor"], entry["outcome"]) == ("(unknown)", "failed")
    assert "DROP" not in str(entry)


def test_five_failures_in_a_row_slow_the_account_down(store: Store) -> None:
    users.add_user(store, "ann", "clerk", PASSWORD, actor=BOSS)
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(AuthError) as caught:
            users.authenticate(store, "ann", "wrong password!")
        assert not isinstance(caught.value, AccountThrottled)
    with pytest.raises(AccountThrottled) as throttled:
        users.authenticate(store, "ann", PASSWORD)  # even the right password waits
    assert 0 < throttled.value.retry_after_seconds <= users.THROTTLE_BASE_SECONDS
    # Once the wait is over, the right password works and clears the count.
    with store.session() as s:
        s.execute(update(User).values(last_failed_at=now() - timedelta(seconds=60)))
    users.authenticate(store, "ann", PASSWORD)
    with pytest.raises(AuthError) as again:
        users.authenticate(store, "ann", "wrong password!")
    assert not isinstance(again.value, AccountThrottled)


def test_tokens_are_shown_once_stored_hashed_and_revocable(store: Store) -> None:
    users.add_user(store, "api", "viewer", PASSWORD, actor=BOSS)
    token = users.new_token(store, "api", actor=BOSS)
    second = users.new_token(store, "api", actor=BOSS)
    assert token != second and len(token) > 40
    with store.session() as s:
        stored = list(s.scalars(select(ApiToken.token_hash)))
    assert hashlib.sha256(token.encode()).hexdigest() in stored and token not in stored
    view = users.user_for_token(store, token)
    assert view is not None and view.name == "api"
    assert users.user_for_token(store, token + "x") is None
    assert users.revoke_tokens(store, "api", actor=BOSS) == 2
    assert users.user_for_token(store, token) is None
    third = users.new_token(store, "api", actor=BOSS)
    users.disable_user(store, "api", actor=BOSS)
    assert users.user_for_token(store, third) is None
    with pytest.raises(StoreError, match="disabled"):
        users.new_token(store, "api", actor=BOSS)
    assert all(token not in str(r) for r in store.list_events())
    assert verify(store.engine).count == 6
