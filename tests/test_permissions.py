"""The one permission table: every action for every role, and deny by default."""

from __future__ import annotations

import pytest

from chartclerk_errors import ChartclerkError, PermissionDenied
from records.permissions import ROLES, Action, allowed, require

A = Action
# The table, written out by hand: a change to the code's table must change this too.
EXPECTED: dict[Action, set[str]] = {
    A.SEARCH: {"clerk", "supervisor", "viewer"},
    A.VIEW: {"clerk", "supervisor", "viewer"},
    A.DOWNLOAD: {"clerk", "supervisor"},
    A.REVIEW: {"clerk", "supervisor"},
    A.REFILE: {"clerk", "supervisor"},
    A.REPROCESS: {"clerk", "supervisor"},
    A.REPROCESS_FILED: {"supervisor"},
    A.QUARANTINE: {"supervisor"},
    A.IMPORT: {"supervisor"},
    A.USERS: {"supervisor"},
    A.AUDIT: {"supervisor", "auditor"},
    A.STATUS: {"clerk", "supervisor", "viewer", "auditor"},
    A.DEFICIENCIES: {"clerk", "supervisor"},
    A.WAIVE: {"supervisor"},
}


def test_the_expected_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(Action)
    assert ROLES == ("clerk", "supervisor", "viewer", "auditor")


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_action(role: str, action: Action) -> None:
    expected = role in EXPECTED[action]
    assert allowed(role, action) is expected
    if expected:
        require(role, action)
    else:
        with pytest.raises(PermissionDenied) as caught:
            require(role, action)
        assert role in str(caught.value) and action.value in str(caught.value)


@pytest.mark.parametrize("role", [None, "", "admin", "Supervisor", "root"])
def test_no_role_or_an_unknown_role_may_do_nothing(role: str | None) -> None:
    for action in Action:
        assert not allowed(role or "", action)
        with pytest.raises(PermissionDenied):
            require(role, action)


def test_permission_denied_is_a_chartclerk_error_with_its_own_exit_code() -> None:
    codes = {
        cls.exit_code for cls in ChartclerkError.__subclasses__() if cls is not PermissionDenied
    }
    assert issubclass(PermissionDenied, ChartclerkError)
    assert PermissionDenied.exit_code not in codes
