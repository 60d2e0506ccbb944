"""The desk: what every route needs (the configured app, web settings, images, templates)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from clerk.app import App
from clerk.web.images import PageImages
from clerk.web.security import Principal
from clerk.web.settings import WebSettings
from index import HIGHLIGHT_CLOSE, HIGHLIGHT_OPEN
from records.store import Store

HERE = Path(__file__).parent


def highlight(snippet: str) -> Markup:
    """A search snippet with its «marks» as <mark>, everything else escaped."""
    text = str(escape(snippet))
    text = text.replace(str(escape(HIGHLIGHT_OPEN)), "<mark>").replace(
        str(escape(HIGHLIGHT_CLOSE)), "</mark>"
    )
    return Markup(text)  # noqa: S704 - built from escaped text plus our own tags


def age(stamp: datetime, now: datetime) -> str:
    """How long ago, in the largest unit that fits (3 d, 5 h, 12 min)."""
    seconds = max(0, int((now - stamp).total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


class Desk:
    """One configured desk, shared by every request of the web app."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings: WebSettings = app.settings.web
        self.images = PageImages(app.store.archive, app.settings.data_dir / "webcache")
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.filters["highlight"] = highlight
        self.templates.env.globals["age"] = age

    @property
    def store(self) -> Store:
        """The record store."""
        return self.app.store

    def render(
        self,
        request: Request,
        principal: Principal | None,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """Render a template with the signed-in user and the CSRF token in its context."""
        ctx = {"me": principal, "csrf": principal.csrf_token if principal else ""}
        ctx.update(context or {})
        return self.templates.TemplateResponse(request, name, ctx, status_code=status_code)
