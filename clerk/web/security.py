"""Who is asking, and may they: sessions, bearer tokens, CSRF, the Origin check, headers.

Deny by default: every route takes exactly one :class:`Permission` dependency naming the
action it needs (or :data:`PUBLIC`), and a test walks ``app.routes`` to prove it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from records import web_sessions
from records.audit import Actor
from records.permissions import Action, allowed
from records.users import UserView, get_user, user_for_token
from records.web_sessions import SessionView

if TYPE_CHECKING:
    from clerk.web.desk import Desk

SESSION_COOKIE = "cc_session"
LOGIN_COOKIE = "cc_login"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class NotSignedIn(Exception):
    """No live session (HTML: 303 to /login) or no valid token (API: 401)."""


class Forbidden(Exception):
    """Signed in, but the role lacks the action (403)."""

    def __init__(self, action: Action) -> None:
        super().__init__(str(action))
        self.action = action


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token or from another origin."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request, as the audit trail names them."""

    user: UserView
    actor: Actor
    session: SessionView | None = None

    @property
    def csrf_token(self) -> str:
        """The token forms and htmx requests must send back ('' for API callers)."""
        return self.session.csrf_token if self.session else ""

    def may(self, action: Action | str) -> bool:
        """True when this user's role may do ``action`` (for showing links)."""
        return allowed(self.user.role, Action(action))


def client_of(request: Request) -> str | None:
    """The client's address (uvicorn applies X-Forwarded-For from a trusted proxy)."""
    return request.client.host if request.client else None


def is_api(request: Request) -> bool:
    """API routes answer 401/403 in JSON; pages redirect to the sign-in page."""
    return request.url.path.startswith("/api/")


def desk_of(request: Request) -> Desk:
    """The desk the app was built around."""
    desk: Desk = request.app.state.desk
    return desk


class Permission:
    """The one dependency every route declares: the action it needs, or None for public.

    Called by FastAPI for each request: finds the user (session cookie for pages, bearer
    token for the API), checks the role, and for state-changing page requests the CSRF
    token and the Origin. Returns the :class:`Principal` (None on public routes).
    """

    def __init__(self, action: Action | None) -> None:
        self.action = action

    def __repr__(self) -> str:
        return f"Permission({self.action})"

    async def __call__(self, request: Request) -> Principal | None:
        """Check the request; raise NotSignedIn, Forbidden or CsrfRejected, or return who."""
        if self.action is None:
            if request.method in UNSAFE_METHODS:
                check_origin(request)
            return None
        desk = desk_of(request)
        if is_api(request):
            principal = await run_in_threadpool(_api_principal, desk, request)
        else:
            principal = await run_in_threadpool(_session_principal, desk, request)
        if principal is None:
            raise NotSignedIn()
        request.state.principal = principal
        if not allowed(principal.user.role, self.action):
            raise Forbidden(self.action)
        if principal.session is not None and request.method in UNSAFE_METHODS:
            check_origin(request)
            await check_csrf(request, principal.session.csrf_token)
        return principal


PUBLIC = Permission(None)


def _api_principal(desk: Desk, request: Request) -> Principal | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = user_for_token(desk.store, token.strip())
    if user is None or user.disabled:
        return None
    return Principal(user, Actor(user.name, "api", client_of(request)))


def _session_principal(desk: Desk, request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    session = web_sessions.current_session(
        desk.store,
        token,
        idle=timedelta(minutes=desk.settings.session_idle_minutes),
        absolute=timedelta(hours=desk.settings.session_absolute_hours),
    )
    if session is None:
        return None
    user = get_user(desk.store, session.user_name)
    if user is None or user.disabled:
        web_sessions.end_session(desk.store, token)
        return None
    return Principal(user, Actor(user.name, "web", client_of(request)), session)


def check_origin(request: Request) -> None:
    """Refuse a state-changing request that another site made the browser send.

    Browsers mark every request with Sec-Fetch-Site; where it is missing (older clients)
    the Origin must name this host. With ``Referrer-Policy: no-referrer`` a browser sends
    ``Origin: null`` even on our own forms, so Sec-Fetch-Site is asked first.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site not in ("same-origin", "none"):
            raise CsrfRejected()
        return
    origin = request.headers.get("origin")
    if origin is None:
        # No browser sends a cross-site POST without Origin; the CSRF token still has to match.
        return
    if origin == "null" or urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfRejected()


async def check_csrf(request: Request, expected: str) -> None:
    """The session's token must come back in the X-CSRF-Token header or the form."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form: FormData = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRejected()


def new_login_token() -> str:
    """A token for the sign-in form, matched against a cookie (no session exists yet)."""
    return secrets.token_urlsafe(24)


class SecurityHeaders:
    """Pure ASGI middleware: CSP, frame denial, no referrer, and no-store outside /static."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if not static:
                    # Every page but the static files may show PHI: never keep a copy.
                    headers = [h for h in headers if h[0].lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
