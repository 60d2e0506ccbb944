"""Command groups for chart completeness: encounters, deficiencies, letters, the report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from chartclerk_errors import ChartclerkError
from clerk.app import App
from clerk.cli_records import JsonFlag, app_of, documents_app
from clerk.output import print_json, print_table
from records import deficiency_worklist as worklist
from records import encounters as encounter_store
from records.audit import record_access
from records.completeness_report import BUCKETS, completeness_report
from records.deficiency_store import analyze
from records.permissions import Action

log = logging.getLogger("chartclerk.charts")
encounters_app = typer.Typer(help="Encounters (visits) from the ADT feed.", no_args_is_help=True)
deficiencies_app = typer.Typer(
    help="Chart deficiencies: what discharged charts lack.", no_args_is_help=True
)
completeness_app = typer.Typer(help="Chart completeness figures.", no_args_is_help=True)

AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluate as of this UTC time (YYYY-MM-DD[THH:MM]); default now."),
]


def now_utc(as_of: str | None = None) -> datetime:
    """The time commands run at: now in UTC (naive, as the store keeps it), or ``--as-of``."""
    if as_of is None:
        return datetime.now(UTC).replace(tzinfo=None)
    try:
        return datetime.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of: expected YYYY-MM-DD[THH:MM], got {as_of!r}") from exc


def reanalyze(app: App, mrns: set[str], now: datetime, document_ids: tuple[int, ...] = ()) -> None:
    """Analyse these patients' charts again after a change (filing, link, import)."""
    if mrns or document_ids:
        analyze(
            app.store,
            app.settings.completeness,
            now=now,
            mrns=mrns,
            document_ids=document_ids,
            actor=app.actor,
        )


def nightly_analysis(app: App) -> Callable[[object], None]:
    """The daemon's periodic task: analyse every chart (on the watcher's own thread)."""

    def run(_watcher: object) -> None:
        try:
            report = analyze(app.store, app.settings.completeness, now=now_utc())
        except ChartclerkError as exc:
            # The store may be locked or the disk full: the next run tries again.
            log.error("chart analysis failed, left to the next run: %s", exc)
            return
        log.info(
            "chart analysis: %d encounters, %d opened, %d auto-closed, %d reopened in %.2f s",
            report.encounters,
            report.opened,
            report.auto_closed,
            report.reopened,
            report.seconds,
        )

    return run


@encounters_app.command("import")
def encounters_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="HL7 v2 ADT messages or an encounter CSV.")],
    json_out: JsonFlag = False,
) -> None:
    """Load or update encounters; discharged charts are analysed for deficiencies."""
    app = app_of(ctx, Action.IMPORT)
    now = now_utc()
    report = encounter_store.import_encounters(app.store, file, actor=app.actor, now=now)
    reanalyze(app, report.touched, now)
    data = report.to_json()
    if json_out:
        print_json(data)
        return
    typer.echo(
        f"{report.format}: added {report.added}, updated {report.updated}, unchanged "
        f"{report.unchanged}, discharged {report.discharged}, cancelled {report.cancelled}, "
        f"discharges cancelled {report.discharges_cancelled}, errors {len(report.errors)}"
    )
    for line, message in report.errors[:50]:
        typer.echo(f"  line {line}: {message}", err=True)


@encounters_app.command("list")
def encounters_list(
    ctx: typer.Context,
    patient: Annotated[str | None, typer.Option("--patient", help="Only this MRN.")] = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    json_out: JsonFlag = False,
) -> None:
    """Encounters, newest admission first."""
    app = app_of(ctx, Action.VIEW)
    rows = [
        e.to_json()
        for e in encounter_store.list_encounters(app.store, patient_mrn=patient, limit=limit)
    ]
    record_access(
        app.store,
        app.actor,
        "encounters listed",
        mrns=sorted({str(r["patient_mrn"]) for r in rows}),
        detail=f"{len(rows)} encounter(s)",
    )
    if json_out:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} encounter(s)",
        ["visit", "mrn", "class", "admit", "discharge", "attending", "status"],
        [
            [
                r["visit_number"],
                r["patient_mrn"],
                r["patient_class"],
                r["admit_at"],
                r["discharge_at"],
                r["attending_name"] or r["attending_id"],
                r["status"],
            ]
            for r in rows
        ],
    )


@documents_app.command("link")
def documents_link(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(metavar="ID")],
    encounter: Annotated[
        str | None, typer.Option("--encounter", help="The visit number it belongs to.")
    ] = None,
    patient_level: Annotated[
        bool, typer.Option("--patient-level", help="It belongs to no one encounter.")
    ] = False,
) -> None:
    """Link a filed document to one of its patient's encounters (a clerk's choice sticks)."""
    if (encounter is None) == (not patient_level):
        raise typer.BadParameter("give either --encounter V or --patient-level")
    app = app_of(ctx, Action.DEFICIENCIES)
    now = now_utc()
    mrn = encounter_store.set_link(app.store, document_id, encounter, actor=app.actor, now=now)
    reanalyze(app, {mrn}, now)
    typer.echo(f"document {document_id} linked to {encounter or 'the patient (no encounter)'}")


@deficiencies_app.command("analyze")
def deficiencies_analyze(
    ctx: typer.Context, as_of: AsOf = None, json_out: JsonFlag = False
) -> None:
    """Analyse every chart now (the daemon does this nightly and on every filing)."""
    app = app_of(ctx, Action.DEFICIENCIES)
    report = analyze(app.store, app.settings.completeness, now=now_utc(as_of), actor=app.actor)
    if json_out:
        print_json(report.to_json())
        return
    typer.echo(
        f"{report.encounters} encounter(s): opened {report.opened}, reopened {report.reopened}, "
        f"auto-closed {report.auto_closed}, withdrawn {report.withdrawn}, "
        f"links changed {report.links_changed} ({report.seconds:.2f} s)"
    )


@deficiencies_app.command("list")
def deficiencies_list(
    ctx: typer.Context,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Assigned to this provider id.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, completed, auto_closed or waived.")
    ] = None,
    delinquent: Annotated[
        bool, typer.Option("--delinquent", help="Only open and delinquent.")
    ] = False,
    encounter: Annotated[
        str | None, typer.Option("--encounter", help="Only this visit number.")
    ] = None,
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """The worklist: deficiencies, oldest discharge first."""
    app = app_of(ctx, Action.DEFICIENCIES)
    views = worklist.list_deficiencies(
        app.store,
        now=now_utc(as_of),
        provider=provider,
        status=status,
        delinquent=delinquent,
        visit_number=encounter,
    )
    rows = [v.to_json() for v in views]
    record_access(
        app.store,
        app.actor,
        "deficiencies listed",
        mrns=sorted({v.patient_mrn for v in views}),
        document_ids=sorted(
            {d for v in views for d in (v.document_id, v.suggested_document_id) if d}
        ),
        detail=f"{len(rows)} deficiency(ies)",
    )
    if json_out:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} deficiency(ies)",
        ["id", "visit", "mrn", "missing", "assigned", "status", "age", "delinquent", "doc"],
        [
            [
                r["id"],
                r["visit_number"],
                r["patient_mrn"],
                r["doc_type"] or r["kind"],
                r["assigned_to"],
                r["status"],
                r["age_days"],
                "yes" if r["delinquent"] else "",
                r["document_id"] or _suggestion(r["suggested_document_id"]),
            ]
            for r in rows
        ],
    )


def _suggestion(document_id: int | None) -> str:
    return f"suggest {document_id}" if document_id else ""


@deficiencies_app.command("complete")
def deficiencies_complete(
    ctx: typer.Context,
    deficiency_id: Annotated[int, typer.Argument(metavar="ID")],
    document: Annotated[int, typer.Option("--document", help="The document that satisfies it.")],
) -> None:
    """Close a deficiency with the document that satisfies it."""
    app = app_of(ctx, Action.DEFICIENCIES)
    view = worklist.complete(app.store, deficiency_id, document, actor=app.actor, now=now_utc())
    typer.echo(f"deficiency {view.id} completed by document {document}")


@deficiencies_app.command("waive")
def deficiencies_waive(
    ctx: typer.Context,
    deficiency_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is waived (kept in the trail).")],
) -> None:
    """Waive a deficiency (supervisors)."""
    app = app_of(ctx, Action.WAIVE)
    view = worklist.waive(
        app.store, deficiency_id, reason, actor=app.actor, role=app.role, now=now_utc()
    )
    typer.echo(f"deficiency {view.id} waived")


@deficiencies_app.command("mark")
def deficiencies_mark(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(metavar="DOC")],
    kind: Annotated[str, typer.Option("--kind", help="missing_signature or missing_datetime.")],
    clear: Annotated[bool, typer.Option("--clear", help="The document was fixed.")] = False,
) -> None:
    """Mark a filed document as lacking a signature or a date/time, or clear the mark."""
    app = app_of(ctx, Action.DEFICIENCIES)
    view = worklist.mark(
        app.store,
        document_id,
        kind,
        app.settings.completeness,
        actor=app.actor,
        now=now_utc(),
        clear=clear,
    )
    typer.echo(f"deficiency {view.id} ({kind}) {'cleared' if clear else 'open'}")


def letters(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder the PDF letters are written to.")],
    provider: Annotated[
        str | None, typer.Option("--provider", help="Only this provider id.")
    ] = None,
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Write one request letter (PDF) per provider with open deficiencies."""
    app = app_of(ctx, Action.DEFICIENCIES)
    from records.letters import send_letters  # reportlab: only this command needs it

    sent = send_letters(
        app.store,
        app.settings.completeness,
        out,
        now=now_utc(as_of),
        actor=app.actor,
        provider=provider,
    )
    rows = [
        {"provider": s.provider_id, "level": s.level, "items": s.items, "path": str(s.path)}
        for s in sent
    ]
    if json_out:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} letter(s)",
        ["provider", "level", "items", "file"],
        [[r["provider"], r["level"], r["items"], r["path"]] for r in rows],
    )


@completeness_app.command("report")
def completeness_report_command(
    ctx: typer.Context, as_of: AsOf = None, json_out: JsonFlag = False
) -> None:
    """Open and delinquent deficiencies by provider and age; delinquency rate."""
    app = app_of(ctx, Action.DEFICIENCIES)
    report = completeness_report(app.store, app.settings.completeness, now=now_utc(as_of))
    if json_out:
        print_json(report)
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    names = [name for name, _, _ in BUCKETS]
    print_table(
        "open deficiencies by provider and days since discharge",
        ["provider", "open", "delinquent", *names],
        [
            [p, e["open"], e["delinquent"], *(e["by_age"][n] for n in names)]
            for p, e in report["by_provider"].items()
        ],
    )
    print_table(
        "chart completeness",
        ["figure", "value"],
        [
            [key, report[key]]
            for key in (
                "open", "delinquent", "delinquent_charts", "average_monthly_discharges",
                "delinquency_rate", "median_days_to_completion", "auto_close_rate",
            )
        ],
    )  # fmt: skip
