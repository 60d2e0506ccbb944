"""Command groups for the record store: documents, the review queue, the patient index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from clerk import options
from clerk.app import App
from clerk.output import print_json, print_table
from records import operations, review
from records import patients as patient_index
from records.audit import record_access
from records.permissions import Action

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

documents_app = typer.Typer(help="Documents in the record store.", no_args_is_help=True)
review_app = typer.Typer(
    help="The review queue: documents a clerk must place.", no_args_is_help=True
)
patients_app = typer.Typer(help="The patient master index.", no_args_is_help=True)


class LazyApp:
    """The app the main callback promises: configured on first use, once."""

    def __init__(self, load: Callable[[], App]) -> None:
        self._load = load
        self._app: App | None = None

    def get(self) -> App:
        """The configured app (loading the config file now, the first time)."""
        if self._app is None:
            self._app = self._load()
        return self._app


def app_of(ctx: typer.Context, action: Action) -> App:
    """The configured app the main callback put on the context, once ``action`` is allowed.

    Every command names the permission it needs here (deny by default: there is no way to
    get the app without naming one). The app (and its config file) is loaded on first use,
    so ``--help`` works without one.

    Raises:
        PermissionDenied: the command line's role does not allow ``action``.
    """
    holder: LazyApp = ctx.obj
    app = holder.get()
    app.authorize(action)
    return app


def _summary_rows(rows: list[dict[str, object]]) -> list[list[object]]:
    return [
        [
            r["id"],
            r["status"],
            r["patient_mrn"],
            r["doc_type"],
            r["pages"],
            r["source_name"],
            r["review_reason"],
        ]
        for r in rows
    ]


SUMMARY_COLUMNS = ["id", "status", "mrn", "type", "pages", "file", "reason"]


@documents_app.command("list")
def documents_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="filed, review or quarantined.")] = None,
    patient: Annotated[str | None, typer.Option(help="Only this patient's MRN.")] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="Only this document type.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Received at or after: YYYY-MM-DD or ISO 8601 time (UTC if no offset)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many rows.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """One row per document, newest first."""
    app = app_of(ctx, Action.VIEW)
    summaries = app.store.list_documents(
        status=options.check_status(status),
        patient_mrn=patient,
        limit=limit,
        doc_type=options.check_choice(doc_type, options.document_types(app), "--type"),
        since=options.parse_since(since),
    )
    rows = [d.to_json() for d in summaries]
    record_access(
        app.store,
        app.actor,
        "documents listed",
        mrns=[r["patient_mrn"] for r in rows if r["patient_mrn"]] + ([patient] if patient else []),
        document_ids=[r["id"] for r in rows],
        detail=f"status={status}" if status else None,
    )
    if json_out:
        print_json(rows)
    else:
        print_table(f"{len(rows)} document(s)", SUMMARY_COLUMNS, _summary_rows(rows))


@documents_app.command("show")
def documents_show(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(metavar="ID")],
    json_out: JsonFlag = False,
) -> None:
    """A document with its text, identifiers, candidates and history."""
    app = app_of(ctx, Action.VIEW)
    detail = app.store.get_document(document_id)
    mrn = detail.summary.patient_mrn
    candidates = [c.get("mrn") for c in (detail.decision or {}).get("candidates", [])]
    record_access(
        app.store,
        app.actor,
        "viewed",
        mrns=[m for m in [mrn, *candidates] if isinstance(m, str)],
        document_ids=[document_id],
    )
    data = detail.to_json()
    data["earlier_readings"] = operations.earlier_readings(app.store, document_id)
    if json_out:
        print_json(data)
        return
    print_table(
        f"document {document_id}", SUMMARY_COLUMNS, _summary_rows([detail.summary.to_json()])
    )
    print_table(
        "identifiers",
        ["kind", "value", "page"],
        [[i["kind"], i["value"], i["page"]] for i in data["identifiers"]],
    )
    print_table(
        "candidates",
        ["mrn", "score", "reasons"],
        [[c["mrn"], c["score"], "; ".join(c["reasons"])] for c in data["candidates"]],
    )
    if data["people"]:
        print_table(
            "other people named (not the patient)",
            ["role", "kind", "value", "page"],
            [[p["role"], p["kind"], p["value"], p["page"]] for p in data["people"]],
        )
    for why in data["set_aside"]:
        typer.echo(f"set aside: {why}")
    for page in data["page_texts"]:
        typer.echo(
            f"--- page {page['number']} ({page['source']}, confidence {page['confidence']}) ---"
        )
        typer.echo(page["text"])


@documents_app.command("refile")
def documents_refile(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(metavar="ID")],
    mrn: Annotated[str, typer.Argument(metavar="MRN")],
    reason: Annotated[str, typer.Option("--reason", help="Why it moves (kept in its history).")],
) -> None:
    """Move a filed document to another patient; the earlier filing stays in its history."""
    app = app_of(ctx, Action.REFILE)
    summary = review.refile(app.store, document_id, mrn, reason, actor=app.actor)
    app.indexer.index_documents([summary.id])
    typer.echo(f"document {summary.id} refiled")


@review_app.command("list")
def review_list(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Documents waiting for a clerk, each with its reason and up to 5 candidates."""
    app = app_of(ctx, Action.REVIEW)
    rows = []
    for summary in app.store.list_documents(status="review"):
        detail = app.store.get_document(summary.id)
        row = summary.to_json()
        row["candidates"] = (detail.decision or {}).get("candidates", [])[:5]
        row["set_aside"] = (detail.decision or {}).get("set_aside", [])
        rows.append(row)
    record_access(
        app.store,
        app.actor,
        "review queue listed",
        mrns=[c["mrn"] for r in rows for c in r["candidates"] if c.get("mrn")],
        document_ids=[r["id"] for r in rows],
    )
    if json_out:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} document(s) in review",
        ["id", "file", "type", "reason", "candidates", "set aside"],
        [
            [
                r["id"],
                r["source_name"],
                r["doc_type"],
                r["review_reason"],
                ", ".join(f"{c['mrn']} ({c['score']:.1f})" for c in r["candidates"]),
                "; ".join(r["set_aside"]),
            ]
            for r in rows
        ],
    )


@review_app.command("assign")
def review_assign(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(metavar="ID")],
    mrn: Annotated[str, typer.Argument(metavar="MRN")],
) -> None:
    """File a document from the review queue to a patient."""
    app = app_of(ctx, Action.REVIEW)
    summary = review.assign(app.store, document_id, mrn, actor=app.actor)
    app.indexer.index_documents([summary.id])
    typer.echo(f"document {summary.id} filed")


@review_app.command("reject")
def review_reject(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why it belongs in no chart.")],
) -> None:
    """Keep a document out of every chart (it is set aside, never deleted)."""
    app = app_of(ctx, Action.REVIEW)
    summary = review.reject(app.store, document_id, reason, actor=app.actor)
    app.indexer.index_documents([summary.id])
    typer.echo(f"document {summary.id} rejected")


@patients_app.command("import")
def patients_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, FHIR Bundle/ndjson, or HL7 v2 ADT file.")],
    json_out: JsonFlag = False,
) -> None:
    """Load or update the patient master index; bad rows are reported and skipped."""
    app = app_of(ctx, Action.IMPORT)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn

    # A bar on stderr (a million patients take a while); gone when done, absent if piped.
    with Progress(
        "{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=json_out,
    ) as bar:
        task = bar.add_task("importing", total=None)
        report = patient_index.import_patients(
            app.store,
            file,
            actor=app.actor,
            feeds=app.settings.feeds,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    data = asdict(report)
    if json_out:
        print_json(data)
    else:
        typer.echo(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"merged {report.merged}, renamed {report.renamed}, errors {len(report.errors)}, "
            f"not handled {len(report.not_handled)}"
        )
        for number, message in report.errors[:50]:
            typer.echo(f"  {report.numbered_by} {number}: {message}", err=True)
        for number, message in report.not_handled[:50]:
            typer.echo(f"  {report.numbered_by} {number}: {message}", err=True)
    if report.merged or report.updated or report.renamed:
        app.indexer.catch_up()


@patients_app.command("list")
def patients_list(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Option(help="Part of a name or MRN.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    json_out: JsonFlag = False,
) -> None:
    """Patients of the master index."""
    app = app_of(ctx, Action.VIEW)
    rows = [p.to_json() for p in patient_index.list_patients(app.store, query=query, limit=limit)]
    record_access(
        app.store,
        app.actor,
        "patients listed",
        mrns=[r["mrn"] for r in rows],
        detail=f"query={query}" if query else None,
    )
    if json_out:
        print_json(rows)
    else:
        print_table(
            f"{len(rows)} patient(s)",
            ["mrn", "last", "first", "dob", "sex", "merged into"],
            [
                [r["mrn"], r["last_name"], r["first_name"], r["dob"], r["sex"], r["merged_into"]]
                for r in rows
            ],
        )


@patients_app.command("show")
def patients_show(
    ctx: typer.Context,
    mrn: Annotated[str, typer.Argument(metavar="MRN")],
    json_out: JsonFlag = False,
) -> None:
    """A patient and the documents filed to them."""
    app = app_of(ctx, Action.VIEW)
    data = patient_index.get_patient(app.store, mrn).to_json()
    data["documents"] = [d.to_json() for d in app.store.list_documents(patient_mrn=mrn)]
    record_access(
        app.store,
        app.actor,
        "patient viewed",
        mrns=[mrn],
        document_ids=[d["id"] for d in data["documents"]],
    )
    if json_out:
        print_json(data)
        return
    typer.echo(
        f"{data['mrn']}  {data['last_name']}, {data['first_name']}  "
        f"born {data['dob']}  {data['sex']}"
    )
    print_table(
        f"{len(data['documents'])} document(s)", SUMMARY_COLUMNS, _summary_rows(data["documents"])
    )
