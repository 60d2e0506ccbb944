"""``chartclerk serve`` (the desk alone) and ``chartclerk run`` (the watcher and the desk)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from clerk.cli_records import app_of
from records.permissions import Action

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("chartclerk")
web_app = typer.Typer()


def desk_server(ctx: typer.Context, host: str | None, port: int | None) -> uvicorn.Server:
    """A uvicorn server for the desk of the configured app (not started)."""
    # The web stack loads only for the commands that serve: the others start faster.
    import uvicorn

    from clerk.web.app import create_app
    from records.users import prepare_sign_in

    # Serving the desk is the service's job, like watching the inbox: the account that owns
    # the data folder (a supervisor). Each person on the desk is then checked per request.
    app = app_of(ctx, Action.IMPORT)
    prepare_sign_in()
    settings = app.settings.web
    config = uvicorn.Config(
        create_app(app),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,  # our logging, which never carries PHI; no access log of URLs
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
    )
    return uvicorn.Server(config)


Host = Annotated[str | None, typer.Option(help="Listen address (default: web.host).")]
Port = Annotated[int | None, typer.Option(help="Port (default: web.port).")]


@web_app.command()
def serve(ctx: typer.Context, host: Host = None, port: Port = None) -> None:
    """The clerk's desk alone (web pages and the JSON API) until SIGTERM or Ctrl-C."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping the desk", signum)
        stop.set()

    # Our own handlers (uvicorn's re-raise the signal after shutdown, so the process would
    # end "killed by SIGTERM" instead of exiting 0 as `watch` does).
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = desk_server(ctx, host, port)
    thread = threading.Thread(target=server.run, name="desk", daemon=True)
    thread.start()
    log.info("desk listening on %s:%d", server.config.host, server.config.port)
    while not stop.wait(0.5):
        if not thread.is_alive():
            raise typer.Exit(1)  # the server could not start (port taken?); uvicorn logged why
    server.should_exit = True
    thread.join(timeout=30)


@web_app.command()
def run(ctx: typer.Context, host: Host = None, port: Port = None) -> None:
    """The watcher and the desk together (what `make run` starts)."""
    from clerk.cli import watch

    server = desk_server(ctx, host, port)
    # uvicorn installs no signal handlers off the main thread; the watcher's own handlers
    # stop it, and then the desk is told to stop too.
    thread = threading.Thread(target=server.run, name="desk", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            # The port is taken or the address wrong (uvicorn logged which): no watcher
            # without its desk, or `make run` would look fine with half the service.
            raise typer.Exit(1)
        time.sleep(0.05)
    log.info("desk listening on %s:%d", server.config.host, server.config.port)
    try:
        watch(ctx)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
