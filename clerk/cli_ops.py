"""Operations commands: read a document again, take one out of a chart, verify everything.

``documents reprocess`` and ``documents unfile`` join the ``documents`` group; ``verify`` is
a top-level command. Option values that name a status or a document type are checked here
(a typo is an error naming the allowed values, never an empty list).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from chartclerk_errors import ChartclerkError
from clerk.app import App
from clerk.cli_records import JsonFlag, app_of, documents_app
from clerk.output import print_json, print_table
from clerk.verification import run_checks
from records import operations
from records.permissions import Action


class DemoRefusedError(ChartclerkError):
    """``chartclerk demo`` was pointed at a data folder holding real records."""

    exit_code = 2


@documents_app.command("reprocess")
def documents_reprocess(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(metavar="ID")],
    force: Annotated[
        bool, typer.Option("--force", help="Read a filed or rejected document again too.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Read a document again from its archived original with today's settings, decide again.

    Works for documents in review and quarantined ones; a filed one only with --force. The
    earlier reading is kept in the document's history (``documents show``).
    """
    app = app_of(ctx, Action.REPROCESS)
    if force:
        # Reading a filed document again may take it out of its chart: supervisors only.
        app.authorize(Action.REPROCESS_FILED)
    outcome = app.ingestor.read_again(document_id, force=force, actor=app.actor)
    app.indexer.index_documents([document_id])
    row = {"id": document_id, "status": outcome.kind, "reason": outcome.reason}
    if json_out:
        print_json(row)
    else:
        typer.echo(f"document {document_id} read again: {outcome.kind}")


@documents_app.command("unfile")
def documents_unfile(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why it leaves the chart (kept).")],
) -> None:
    """Take a filed document out of its chart, back to review (then assign or reject it)."""
    app = app_of(ctx, Action.REFILE)
    summary = operations.unfile(app.store, document_id, reason, actor=app.actor)
    app.indexer.index_documents([summary.id])
    typer.echo(f"document {summary.id} unfiled, back in review")


def verify(
    ctx: typer.Context,
    json_out: JsonFlag = False,
) -> None:
    """Check archive hashes, database integrity, index against store, and the audit chain.

    Exits 1 naming what is wrong when any check fails.
    """
    app = app_of(ctx, Action.AUDIT)
    checks = run_checks(app)
    if json_out:
        print_json([c.to_json() for c in checks])
    else:
        print_table(
            "chartclerk verify",
            ["check", "result"],
            [[c.name, c.summary().split(": ", 1)[1]] for c in checks],
        )
    failed = [c for c in checks if not c.ok]
    if failed:
        for check in failed:
            typer.echo(f"chartclerk: verify: {check.summary()}", err=True)
        raise typer.Exit(1)


_DEMO_NAME = re.compile(r"demo_\d{3}\.\w+")


def made_by_demo(folder: Path) -> tuple[set[str], set[str]]:
    """The MRNs and file names earlier ``chartclerk demo`` runs put in this data folder."""
    made = folder / "made.txt"
    mrns: set[str] = set()
    names: set[str] = set()
    if made.exists():
        for line in made.read_text(encoding="utf-8").splitlines():
            kind, _, value = line.partition(" ")
            (mrns if kind == "mrn" else names).add(value)
    return mrns, names


def refuse_foreign_data(app: App, folder: Path) -> None:
    """Stop the demo when the store holds patients or documents it did not make.

    Raises:
        DemoRefusedError: real (or foreign) records are there; nothing was written.
    """
    mrns, names = made_by_demo(folder)
    patients, documents = operations.rows_not_made_by(app.store, mrns, names)
    if patients or documents:
        raise DemoRefusedError(
            f"demo refused: the data folder {app.settings.data_dir} holds {patients} "
            f"patient(s) and {documents} document(s) the demo did not make; "
            "run the demo with a config of its own (--config)"
        )


def remember_demo(folder: Path, mrns: Iterable[str], names: Iterable[str]) -> None:
    """Add what a demo run made to its list, so the next run knows them as its own."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"mrn {m}" for m in mrns] + [f"file {n}" for n in names if _DEMO_NAME.fullmatch(n)]
    with (folder / "made.txt").open("a", encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))
