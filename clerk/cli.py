"""The command line: ``chartclerk``. Its commands and JSON shapes are a contract (DESIGN.md)."""

from __future__ import annotations

import copy
import itertools
import json
import logging
import os
import signal
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

import typer

from chartclerk_errors import ChartclerkError, ConfigError, NotReadyError, error_origin
from clerk import cli_ops, options
from clerk.app import App, check_private, setup_logging
from clerk.cli_audit import audit_app
from clerk.cli_charts import (
    completeness_app,
    deficiencies_app,
    encounters_app,
    letters,
    nightly_analysis,
)
from clerk.cli_records import JsonFlag, LazyApp, documents_app, patients_app, review_app
from clerk.cli_records import app_of as _app
from clerk.cli_users import users_app
from clerk.cli_web import web_app
from clerk.config import load_config
from clerk.identity import os_actor
from clerk.output import console, print_json, print_table
from clerk.status import gather_status
from clerk.verification import heartbeat_checks
from index import SearchFilters
from records import patients as patient_index
from records.audit import record_access
from records.permissions import Action, allowed
from scanner.dropped.stability import files_in
from scanner.dropped.watcher import InboxWatcher, inbox_problem
from scanner.pipeline import Outcome
from scanner.reading.workers import worker_count

log = logging.getLogger("chartclerk")

cli = typer.Typer(
    name="chartclerk",
    help="Scan, identify, file and index paper for a medical records department.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.add_typer(documents_app, name="documents")
cli.add_typer(review_app, name="review")
cli.add_typer(patients_app, name="patients")
cli.add_typer(web_app)
cli.add_typer(users_app, name="users")
cli.add_typer(audit_app, name="audit")
cli.command("verify")(cli_ops.verify)
cli.add_typer(encounters_app, name="encounters")
cli.add_typer(deficiencies_app, name="deficiencies")
cli.add_typer(completeness_app, name="completeness")
cli.command("letters")(letters)


@cli.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", help="The configuration file.")] = Path(
        "config.yaml"
    ),
) -> None:
    """Scan, identify, file and index paper for a medical records department."""

    def load() -> App:
        # On first use, not here: `chartclerk documents list --help` needs no config file.
        settings = load_config(config)
        check_private(settings.data_dir)
        # Who acts is the OS account of this process's uid; no option can name anyone else.
        app = App(settings, os_actor())
        setup_logging(app.settings.logging)
        ctx.call_on_close(app.close)
        return app

    ctx.obj = LazyApp(load)


def _files_under(paths: list[Path], ignore: list[str]) -> list[Path]:
    """The files named, and those found in the folders named, as the watcher would see them.

    In a folder, hidden and temp names are skipped and links to folders are not followed;
    a file named on the command line is always taken.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            files.extend(sorted(files_in(path, ignore)))
        else:
            files.append(path)
    return files


@cli.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to take in.")],
    json_out: JsonFlag = False,
) -> None:
    """Run files through the daemon's pipeline once; exit 0 when every file is accounted for.

    Files inside the configured inbox leave it as the daemon's do; files elsewhere are kept.
    """
    app = _app(ctx, Action.IMPORT)
    inbox = app.settings.inbox.path.resolve()
    if any(p.resolve() == inbox for p in paths):
        # The inbox itself: what a crash left in its processing folder is taken too.
        app.ingestor.take_left_claims()
    files = _files_under(paths, app.settings.inbox.ignore_patterns)
    missing = [p for p in files if not p.exists() and not p.is_symlink()]
    with ThreadPoolExecutor(app.settings.ingest.documents_in_flight) as pool:
        futures = [
            (path, pool.submit(app.ingestor.ingest, path, release_source=_inside(path, inbox)))
            for path in files
            if path not in missing
        ]
        _near_the_end(app, [future for _, future in futures])
        rows = [_ingest_row(path, future) for path, future in futures]
    rows += [
        {"path": str(p), "outcome": "missing", "id": None, "reason": "no such file"}
        for p in missing
    ]
    if json_out:
        print_json(rows)
    else:
        print_table(
            "ingest",
            ["file", "outcome", "id", "reason"],
            [[r["path"], r["outcome"], r["id"], r["reason"]] for r in rows],
        )
    if any(r["outcome"] in ("missing", "error", "waiting") for r in rows):
        raise typer.Exit(1)


def _near_the_end(app: App, futures: list[Future[Outcome]]) -> None:
    """Have the index write what it holds once only the last files are being read.

    Those are as many as there are OCR workers: the commit then runs beside their reading
    rather than after it (see ``StoreIndexer.flush_soon``).
    """
    left = len(futures) - worker_count(app.settings.ocr.workers)
    if left <= 0:
        return
    done = itertools.count(1)  # its next() is one step: threads cannot both take a number

    def finished(_: Future[Outcome]) -> None:
        if next(done) == left:
            app.indexer.flush_soon()

    for future in futures:
        future.add_done_callback(finished)


def _ingest_row(path: Path, future: Future[Outcome]) -> dict[str, object]:
    try:
        outcome = future.result()
    except NotReadyError as exc:
        # The world, not the file: it stays where it is and the next run takes it.
        return {"path": str(path), "outcome": "waiting", "id": None, "reason": str(exc)}
    except ChartclerkError as exc:
        # The file stays where it is (nothing was released); the next run takes it again.
        return {"path": str(path), "outcome": "error", "id": None, "reason": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one file's surprise must not hide the others'
        log.error("ingest of one file failed unexpectedly: %s", error_origin(exc))
        return {"path": str(path), "outcome": "error", "id": None, "reason": type(exc).__name__}
    return {
        "path": str(path),
        "outcome": outcome.kind,
        "id": outcome.document_id,
        "reason": outcome.reason,
    }


def _inside(path: Path, folder: Path) -> bool:
    try:
        # The folder holding the entry, not where a link points: a link in the inbox is
        # the inbox's entry.
        (path.parent.resolve() / path.name).relative_to(folder)
    except ValueError:
        return False
    return True


@cli.command()
def watch(ctx: typer.Context) -> None:
    """The daemon: catch up on the inbox, then watch it until SIGTERM or Ctrl-C."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: finishing the files in hand, then stopping", signum)
        stop.set()

    # Before anything slow, so a stop during start-up is a clean stop too.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    app = _app(ctx, Action.IMPORT)
    # The daemon files what it finds as the service itself: `system`, channel `daemon`.
    app.act_as_daemon()
    problem = inbox_problem(app.settings.inbox)
    if problem is not None:
        # An unmounted share must stop the daemon, not leave it watching an empty folder.
        raise ConfigError(problem)
    app.health.path = app.health_file
    ingestor = app.ingestor
    indexer = app.indexer
    taken = ingestor.take_left_claims()
    if taken:
        log.info("took %d file(s) a crash left in the processing folder", taken)
    swept = app.store.archive.sweep_temp()
    if swept:
        log.info("removed %d temporary archive file(s) left by a crash", swept)
    indexed = indexer.catch_up()
    if indexed:
        log.info("indexed %d document(s) left pending", indexed)
    # Once at start too: a daemon restarted more often than the interval would never run it.
    analyse_charts = nightly_analysis(app)
    analyse_charts(None)

    def heartbeat(watcher: InboxWatcher) -> None:
        present = watcher.check_inbox()
        app.health.beat()
        waits = ",".join(sorted(app.health.snapshot()["waiting_on"])) or "-"
        counts = app.store.counts_by_status()
        log.info(
            "heartbeat: inbox=%s waiting_on=%s waiting=%d in_flight=%d filed=%d review=%d "
            "quarantined=%d index_pending=%d",
            "ok" if present else "MISSING",
            waits,
            watcher.tracker.pending(),
            len(watcher.in_flight),
            counts["filed"],
            counts["review"],
            counts["quarantined"],
            len(app.store.pending_index_ids()),
        )
        heartbeat_checks(app)

    daemon = app.settings.daemon
    watcher = InboxWatcher(
        app.settings.inbox,
        ingestor.ingest,
        app.settings.ingest.documents_in_flight,
        periodic=[
            (daemon.heartbeat_seconds, heartbeat),
            (daemon.index_retry_seconds, lambda _w: indexer.catch_up()),
            (app.settings.completeness.analyze_every_hours * 3600, analyse_charts),
        ],
        on_missing=app.health.inbox_missing,
    )
    app.health.beat()
    log.info("watching %s", app.settings.inbox.path)
    watcher.run(stop)


@cli.command()
def status(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """What an operator checks: counts by status, the inbox, quarantine, index, last error."""
    report = gather_status(_app(ctx, Action.STATUS))
    if json_out:
        print_json(report)
        return
    rows = [[key, value] for key, value in report.items() if not isinstance(value, dict)]
    rows += [[f"documents {k}", v] for k, v in report["documents"].items()]
    rows += [[f"WAITING: {k}", v.get("advice", "")] for k, v in report["waiting_on"].items()]
    print_table("chartclerk status", ["what", "value"], rows)


@cli.command()
def reindex(ctx: typer.Context) -> None:
    """Rebuild the search index from the record store."""
    app = _app(ctx, Action.IMPORT)
    total = app.store.count_documents()
    from rich.progress import Progress

    with Progress(console=console(), transient=True) as progress:
        task = progress.add_task("reindexing", total=total or None)
        count = app.indexer.rebuild(progress=lambda n: progress.update(task, completed=n))
    console().print(f"reindexed {count} document(s)")


@cli.command()
def search(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Argument(help='Whoosh query: words, "phrases", AND/OR/NOT, field:value, fuzzy~')
    ],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    page: Annotated[int, typer.Option(min=1)] = 1,
    patient: Annotated[str | None, typer.Option("--patient", help="Only this MRN.")] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="Only this document type.")] = None,
    status_filter: Annotated[
        str | None, typer.Option("--status", help="filed, review or quarantined.")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Service date on or after YYYY-MM-DD.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Service date on or before YYYY-MM-DD.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Search every document's text; ranked hits with a snippet («marks» around matches)."""
    app = _app(ctx, Action.SEARCH)
    filters = SearchFilters(
        patient_mrn=patient,
        doc_type=options.check_choice(doc_type, options.document_types(app), "--type"),
        status=options.check_status(status_filter),
        date_from=options.parse_day(date_from, "--from"),
        date_to=options.parse_day(date_to, "--to"),
        # Rejected documents (set aside, in no chart) are found only by those who may see
        # what is set aside: supervisors.
        include_rejected=allowed(app.role or "", Action.QUARANTINE),
    )
    result = app.search.search(query, filters, limit=limit, page=page)
    # The ids and patients of the hits shown, not only the query.
    record_access(
        app.store,
        app.actor,
        "search",
        mrns=[h.patient_mrn for h in result.hits if h.patient_mrn],
        document_ids=[h.id for h in result.hits],
        detail=json.dumps({"query": query, "hits": result.total, "page": page}),
    )
    hits = [h.to_json() for h in result.hits]
    if json_out:
        print_json(hits)
        return
    print_table(
        f"{result.total} hit(s)",
        ["id", "file", "mrn", "type", "score", "snippet"],
        [
            [h["id"], h["source_name"], h["patient_mrn"], h["doc_type"], h["score"], h["snippet"]]
            for h in hits
        ],
    )


@cli.command()
def demo(
    ctx: typer.Context,
    documents: Annotated[int, typer.Option(min=3, max=200, help="How many scans to drop.")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
) -> None:
    """Load synthetic patients and drop synthetic scans into the inbox (never real PHI)."""
    app = _app(ctx, Action.IMPORT)
    folder = app.settings.data_dir / "demo"
    # A synthetic MRN may collide with a real patient's: never load the demo beside real data.
    cli_ops.refuse_foreign_data(app, folder)
    registry = folder / "registry.csv"
    from synthetic import write_demo_set  # the generator loads for the demo alone

    dropped = write_demo_set(registry, app.settings.inbox.path, n_docs=documents, seed=seed)
    mrns = [line.split(",", 1)[0] for line in registry.read_text(encoding="utf-8").splitlines()[1:]]
    cli_ops.remember_demo(folder, mrns, [path.name for path, _ in dropped])
    report = patient_index.import_patients(app.store, registry, actor=app.actor)
    console().print(
        f"loaded {report.added + report.updated + report.unchanged} synthetic patients; "
        f"dropped {len(dropped)} scans into {app.settings.inbox.path}"
    )
    console().print(
        "run `make run` (or `chartclerk watch`) to file them, then "
        "`chartclerk documents list`, `chartclerk review list`, `chartclerk search hemoglobin`"
    )


def only_the_command(args: list[str]) -> typer.Typer:
    """The command line with only the command or group that ``args`` name, when they name one.

    Typer builds every command's options from its signature on every run (about 0.03 s of
    CPU for this command line's 40 commands, each time any command is run); this builds the
    one asked for. The command line is otherwise ``cli`` itself: the same global options,
    and for a command named in ``args`` the same options, help and errors. Anything else
    (no command, ``--help``, an unknown name or option) gets the whole command line.
    Groups added without a name (their commands sit at the top) are always kept.
    """
    name = _command_named(args)
    if name is None:
        return cli
    commands = [
        info
        for info in cli.registered_commands
        if (info.name or typer.main.get_command_name(getattr(info.callback, "__name__", "")))
        == name
    ]
    groups = [info for info in cli.registered_groups if info.name in (name, None, "")]
    if not commands and not any(info.name == name for info in groups):
        return cli
    pruned = copy.copy(cli)
    pruned.registered_commands = commands
    pruned.registered_groups = groups
    return pruned


def _command_named(args: list[str]) -> str | None:
    """The command ``args`` name after the global options, or None."""
    rest = iter(args)
    for arg in rest:
        if arg == "--config":
            next(rest, None)
        elif arg.startswith("--config="):
            continue
        elif arg.startswith("-"):
            return None  # --help, or an option the command line reports itself
        else:
            return arg
    return None


def main() -> None:
    """Entry point: run the CLI; a ChartclerkError prints one line and exits with its code."""
    # Before anything is created: the database, archive, index, quarantine and log are
    # private to the service account (0700 folders, 0600 files).
    os.umask(0o077)
    try:
        code = only_the_command(sys.argv[1:])(standalone_mode=False)
    except ChartclerkError as exc:
        print(f"chartclerk: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("chartclerk: aborted", file=sys.stderr)
        sys.exit(130)
    except typer.TyperException as exc:
        # Usage errors: typer prints them with a hint, as it would standalone.
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            print(f"chartclerk: {exc}", file=sys.stderr)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except Exception as exc:
        # A bug, not the user's doing: where it came from, never its message (it may be PHI).
        log.critical("chartclerk: unexpected error: %s", error_origin(exc))
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
