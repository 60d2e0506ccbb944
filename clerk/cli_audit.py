"""``chartclerk audit``: the trail's listing, and verify, checkpoint and report."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from chartclerk_errors import AuditChainError
from clerk.app import App
from clerk.cli_records import JsonFlag, app_of
from clerk.options import parse_day
from clerk.output import print_json, print_table
from records import audit, checkpoint
from records.audit_report import SORT_FIELDS, ReportFilter, report
from records.permissions import Action

audit_app = typer.Typer(
    help="The audit trail: who looked at or changed what (supervisor, auditor).",
    invoke_without_command=True,
)


@audit_app.callback()
def audit_list(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--by", help="Only what this user did.")] = None,
    document: Annotated[int | None, typer.Option("--document", help="Only this document.")] = None,
    access: Annotated[bool, typer.Option("--access", help="Only views and searches.")] = False,
    limit: Annotated[int, typer.Option(min=1)] = 200,
    json_out: JsonFlag = False,
) -> None:
    """The audit trail, newest first (without a subcommand); or verify, checkpoint, report."""
    if ctx.invoked_subcommand is not None:
        return
    app = app_of(ctx, Action.AUDIT)
    rows = app.store.list_events(actor=user, document_id=document, access_only=access, limit=limit)
    if json_out:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} event(s)",
        ["id", "at", "user", "channel", "what", "documents", "detail"],
        [
            [r["id"], r["at"], r["actor"], r["channel"], r["kind"], r["document_ids"], r["detail"]]
            for r in rows
        ],
    )


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    json_out: JsonFlag = False,
    checkpoint_file: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Also prove nothing up to this checkpoint changed."),
    ] = None,
) -> None:
    """Recompute the hash chain: exit 0 with the count, or 9 naming the first broken entry."""
    app = app_of(ctx, Action.AUDIT)
    key = app.settings.audit.checkpoint_key
    try:
        result = checkpoint.verify_with(app.store.engine, checkpoint_file, key)
    except AuditChainError as exc:
        _note(app, "audit verified", "failed", str(exc))
        if json_out:
            print_json({"ok": False, "error": str(exc)})
        raise
    _note(app, "audit verified", "ok", f"count={result.count}")
    if json_out:
        print_json(result.to_json())
    else:
        against = f", checkpoint {checkpoint_file} holds" if checkpoint_file else ""
        typer.echo(
            f"audit trail intact: {result.count} entries, head {result.head_id} "
            f"({result.head_hash[:16]}…){against}"
        )


@audit_app.command("checkpoint")
def audit_checkpoint(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Write the signed checkpoint here.")],
) -> None:
    """Verify, then write the signed head (id, hash, count); ship it to write-once storage."""
    app = app_of(ctx, Action.AUDIT)
    payload = checkpoint.cut(app.store.engine, app.settings.audit.checkpoint_key, out)
    _note(app, "audit checkpoint", "ok", f"head={payload['head_id']} count={payload['count']}")
    typer.echo(f"checkpoint of entry {payload['head_id']} ({payload['count']} entries) in {out}")


def _note(app: App, action: str, outcome: str, detail: str) -> None:
    with app.store.session() as s:
        audit.record(s, app.actor, action, outcome=outcome, detail=detail)


CSV_COLUMNS = [
    "id", "at", "actor", "channel", "client", "action", "access", "outcome", "mrns",
    "document_ids", "detail",
]  # fmt: skip


def _opt(name: str, text: str) -> typer.models.OptionInfo:
    return typer.Option(name, help=text)


FromOpt = Annotated[str | None, _opt("--from", "On or after YYYY-MM-DD (UTC).")]
ToOpt = Annotated[str | None, _opt("--to", "On or before YYYY-MM-DD (UTC).")]
UserOpt = Annotated[str | None, _opt("--user", "Only what this user did.")]
PatientOpt = Annotated[str | None, _opt("--patient", "Only entries about this MRN.")]
ActionOpt = Annotated[str | None, _opt("--action", "Only this action, e.g. viewed.")]
SortOpt = Annotated[str, _opt("--sort", f"One of {', '.join(SORT_FIELDS)}.")]
CsvFlag = Annotated[bool, _opt("--csv", "Print CSV for a spreadsheet.")]


@audit_app.command("report")
def audit_report(
    ctx: typer.Context,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    user: UserOpt = None,
    patient: PatientOpt = None,
    action: ActionOpt = None,
    sort: SortOpt = "id",
    json_out: JsonFlag = False,
    csv_out: CsvFlag = False,
) -> None:
    """Who did what to whom, for a privacy officer: filtered, sorted, as a table, JSON or CSV."""
    app = app_of(ctx, Action.AUDIT)
    if sort not in SORT_FIELDS:
        raise typer.BadParameter(f"--sort: one of {', '.join(SORT_FIELDS)}, got {sort!r}")
    if json_out and csv_out:
        raise typer.BadParameter("--json and --csv: choose one")
    wanted = ReportFilter(
        parse_day(date_from, "--from"), parse_day(date_to, "--to"), user, patient, action, sort
    )
    # The report itself is an access to PHI: recorded before it is shown.
    detail = {k: v for k, v in vars(wanted).items() if v is not None}
    audit.record_access(
        app.store,
        app.actor,
        "audit report",
        mrns=[patient] if patient else [],
        detail=json.dumps(detail, default=str, sort_keys=True),
    )
    entries = report(app.store, wanted)
    if csv_out:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for e in entries:
            row = e.to_json()
            row["mrns"] = " ".join(e.mrns)
            row["document_ids"] = " ".join(str(d) for d in e.document_ids)
            writer.writerow([row[c] for c in CSV_COLUMNS])
        return
    if json_out:
        print_json([e.to_json() for e in entries])
        return
    rows = [
        [e.id, e.at.isoformat(timespec="seconds"), e.actor, e.channel, e.action, e.outcome,
         " ".join(e.mrns), " ".join(map(str, e.document_ids))]
        for e in entries
    ]  # fmt: skip
    print_table(
        f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}",
        ["id", "at (UTC)", "user", "channel", "action", "outcome", "patients", "documents"],
        rows,
    )
