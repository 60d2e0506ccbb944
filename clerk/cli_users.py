"""``chartclerk users``: people, their roles, passwords and API tokens (supervisors only)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from chartclerk_errors import StoreError
from clerk.cli_records import JsonFlag, app_of
from clerk.output import print_json, print_table
from records import users
from records.permissions import ROLES, Action

users_app = typer.Typer(
    help="People who use chartclerk and their roles (supervisor).", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The user's name (like an OS login).")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def _password(from_stdin: bool) -> str:
    """The new password, never echoed, never an argument (it would show in `ps`)."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise StoreError("no password on stdin")
        return line.rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Name,
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user with a role; the password is asked twice (or read from stdin)."""
    app = app_of(ctx, Action.USERS)
    users.check_name(name)
    users.check_role(role)
    view = users.add_user(app.store, name, role, _password(password_stdin), actor=app.actor)
    typer.echo(f"user {view.name} added ({view.role})")


@users_app.command("list")
def users_list(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Every user with their role, whether disabled, and their last sign-in."""
    app = app_of(ctx, Action.USERS)
    rows = [u.to_json() for u in users.list_users(app.store)]
    if json_out:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} user(s)",
        ["name", "role", "disabled", "created", "last sign-in"],
        [[r["name"], r["role"], r["disabled"], r["created_at"], r["last_login_at"]] for r in rows],
    )


@users_app.command("disable")
def users_disable(ctx: typer.Context, name: Name) -> None:
    """Disable a user: no more sign-ins, and their tokens stop working."""
    app = app_of(ctx, Action.USERS)
    users.disable_user(app.store, name, actor=app.actor)
    typer.echo(f"user {name} disabled")


@users_app.command("set-role")
def users_set_role(
    ctx: typer.Context,
    name: Name,
    role: Annotated[str, typer.Argument(metavar="ROLE", help=f"One of {', '.join(ROLES)}.")],
) -> None:
    """Give a user another role."""
    app = app_of(ctx, Action.USERS)
    view = users.set_role(app.store, name, role, actor=app.actor)
    typer.echo(f"user {view.name} is now {view.role}")


@users_app.command("reset-password")
def users_reset_password(
    ctx: typer.Context, name: Name, password_stdin: PasswordStdin = False
) -> None:
    """Set a new password for a user (asked twice, or read from stdin)."""
    app = app_of(ctx, Action.USERS)
    if users.get_user(app.store, name) is None:
        raise StoreError(f"no user named {name}")
    users.reset_password(app.store, name, _password(password_stdin), actor=app.actor)
    typer.echo(f"password of {name} reset")


@users_app.command("token")
def users_token(ctx: typer.Context, name: Name) -> None:
    """Issue an API token for a user and print it once (only its hash is kept)."""
    app = app_of(ctx, Action.USERS)
    token = users.new_token(app.store, name, actor=app.actor)
    typer.echo(token)
    typer.echo("(shown once: store it now; `users revoke-tokens` cancels it)", err=True)


@users_app.command("revoke-tokens")
def users_revoke_tokens(ctx: typer.Context, name: Name) -> None:
    """Revoke every API token of a user."""
    app = app_of(ctx, Action.USERS)
    count = users.revoke_tokens(app.store, name, actor=app.actor)
    typer.echo(f"{count} token(s) of {name} revoked")
