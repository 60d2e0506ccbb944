"""Building the web app: routes, static files, error pages and security headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from chartclerk_errors import ChartclerkError, NotFoundError, SearchIndexError, StoreError
from clerk.app import App
from clerk.web import (
    api,
    api_charts,
    routes_admin,
    routes_auth,
    routes_charts,
    routes_records,
    routes_review,
)
from clerk.web.desk import HERE, Desk
from clerk.web.security import (
    CsrfRejected,
    Forbidden,
    NotSignedIn,
    Permission,
    Principal,
    SecurityHeaders,
    desk_of,
    is_api,
)
from records.audit import record_access
from records.permissions import Action, PermissionDenied


def create_app(app: App) -> FastAPI:
    """The desk's ASGI app around a configured chartclerk."""
    web = FastAPI(
        title="chartclerk",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, to signed-in users only
    )
    web.state.desk = Desk(app)
    web.add_middleware(SecurityHeaders)
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    routes = (routes_auth, routes_review, routes_records, routes_charts, routes_admin, api)
    for module in (*routes, api_charts):
        web.include_router(module.router)

    @web.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi(
        _me: Annotated[Principal, Depends(Permission(Action.STATUS))],
    ) -> JSONResponse:
        return JSONResponse(
            get_openapi(title="chartclerk", version="1", routes=all_routes(web.routes))
        )

    _error_handlers(web)
    return web


def all_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Every route the app answers, with included routers opened up (what the test walks).

    FastAPI keeps an included router as one entry; its routes already carry their full
    paths because the routers here are included without a prefix.
    """
    found: list[BaseRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found.extend(all_routes(inner.routes))
        else:
            found.append(route)
    return found


def _error_handlers(web: FastAPI) -> None:
    @web.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: Exception) -> Response:
        if is_api(request):
            return JSONResponse(
                {"error": "sign in required"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if request.headers.get("hx-request"):
            # htmx follows redirects inside the page; send the whole window to sign-in.
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    @web.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Exception) -> Response:
        principal = getattr(request.state, "principal", None)
        return _problem(request, 403, "Your role may not do this.", principal)

    @web.exception_handler(CsrfRejected)
    async def csrf(request: Request, _exc: Exception) -> Response:
        return _problem(request, 403, "The form was stale or came from elsewhere; reload.", None)

    @web.exception_handler(NotFoundError)
    async def not_found(request: Request, _exc: Exception) -> Response:
        return _problem(request, 404, "Not found.", getattr(request.state, "principal", None))

    @web.exception_handler(StoreError)
    async def conflict(request: Request, exc: Exception) -> Response:
        return _problem(request, 409, str(exc), getattr(request.state, "principal", None))

    @web.exception_handler(PermissionDenied)
    async def denied(request: Request, _exc: Exception) -> Response:
        principal = getattr(request.state, "principal", None)
        return _problem(request, 403, "Your role may not do this.", principal)

    @web.exception_handler(ChartclerkError)
    async def refused(request: Request, exc: Exception) -> Response:
        # Anything else the records refuse (a bad password length, an unknown role): the
        # message is the one the command line prints, never a traceback.
        return _problem(request, 400, str(exc), getattr(request.state, "principal", None))

    @web.exception_handler(SearchIndexError)
    async def bad_query(request: Request, exc: Exception) -> Response:
        return _problem(request, 400, str(exc), getattr(request.state, "principal", None))


def _problem(request: Request, status: int, message: str, principal: Principal | None) -> Response:
    if is_api(request):
        return JSONResponse({"error": message}, status_code=status)
    desk = desk_of(request)
    if status == 403 and principal is not None:
        record_access(
            desk.store, principal.actor, "denied", outcome="denied", detail=request.url.path
        )
    return desk.render(request, principal, "error.html", {"message": message}, status)
