"""Sign in and out, and the home page."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from clerk.web.security import (
    LOGIN_COOKIE,
    PUBLIC,
    SESSION_COOKIE,
    Permission,
    Principal,
    client_of,
    desk_of,
    new_login_token,
)
from records import web_sessions
from records.permissions import Action
from records.users import AccountThrottled, AuthError, authenticate

router = APIRouter()
Public = Annotated[None, Depends(PUBLIC)]


@router.get("/login")
def login_page(request: Request, _p: Public) -> Response:
    """The sign-in form, with a fresh token tied to a cookie (no session exists yet)."""
    token = new_login_token()
    response = desk_of(request).render(request, None, "login.html", {"login_token": token})
    _set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
def login(
    request: Request,
    _p: Public,
    username: Annotated[str, Form(max_length=120)],
    password: Annotated[str, Form(max_length=1024)],
    login_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the password (five failures slow the account down) and start a new session."""
    desk = desk_of(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, login_token):
        return _login_again(request, "The sign-in form expired; try again.", 403)
    try:
        user = authenticate(desk.store, username.strip(), password, actor_client=client_of(request))
    except AccountThrottled as exc:
        return _login_again(
            request, f"Too many failed sign-ins. Try again in {exc.retry_after_seconds} s.", 429
        )
    except AuthError:
        return _login_again(request, "Wrong user name or password.", 401)
    token, _session = web_sessions.start_session(
        desk.store,
        user.name,
        client=client_of(request),
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    response = RedirectResponse("/", status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, token, max_age=None)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(
    request: Request, _me: Annotated[Principal, Depends(Permission(Action.STATUS))]
) -> Response:
    """End the session (the row goes; the cookie is cleared)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        web_sessions.end_session(desk_of(request).store, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(me: Annotated[Principal, Depends(Permission(Action.STATUS))]) -> Response:
    """Each role's first page: the queue for clerks, search for viewers, audit for auditors."""
    if me.may(Action.REVIEW):
        return RedirectResponse("/review", status_code=303)
    if me.may(Action.SEARCH):
        return RedirectResponse("/search", status_code=303)
    if me.may(Action.AUDIT):
        return RedirectResponse("/audit", status_code=303)
    return RedirectResponse("/status", status_code=303)


def _login_again(request: Request, message: str, status: int) -> Response:
    token = new_login_token()
    response = desk_of(request).render(
        request, None, "login.html", {"login_token": token, "error": message}, status
    )
    _set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


def _set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=desk_of(request).settings.secure_cookies,
    )
