"""Command groups for the record store: documents, the review queue, the patient index."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn

from clerk.app import App
from clerk.output import print_json, print_table
from records import patients as patient_index
from records import review

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

documents_app = typer.Typer(help="Documents in the record store.", no_args_is_help=True)
review_app = typer.Typer(
    help="The review queue: documents a clerk must place.", no_args_is_help=True
)
patients_app = typer.Typer(help="The patient master index.", no_args_is_help=True)


def app_of(ctx: typer.Context) -> App:
    """The configured app the main callback put on the context."""
    app: App = ctx.obj
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
    json_out: JsonFlag = False,
) -> None:
    """One row per document, newest first."""
    app = app_of(ctx)
    rows = [d.to_json() for d in app.store.list_documents(status=status, patient_mrn=patient)]
    app.store.add_event(
        None,
        "documents listed",
        {"status": status, "patient": patient},
        actor=app.actor,
        is_access=True,
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
    app = app_of(ctx)
    detail = app.store.get_document(document_id)
    app.store.add_event(document_id, "viewed", None, actor=app.actor, is_access=True)
    data = detail.to_json()
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
    app = app_of(ctx)
    summary = review.refile(app.store, document_id, mrn, reason, actor=app.actor)
    app.indexer.index_documents([summary.id])
    typer.echo(f"document {summary.id} refiled")


@review_app.command("list")
def review_list(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Documents waiting for a clerk, each with its reason and up to 5 candidates."""
    app = app_of(ctx)
    rows = []
    for summary in app.store.list_documents(status="review"):
        detail = app.store.get_document(summary.id)
        row = summary.to_json()
        row["candidates"] = (detail.decision or {}).get("candidates", [])[:5]
        rows.append(row)
    app.store.add_event(
        None, "review queue listed", {"count": len(rows)}, actor=app.actor, is_access=True
    )
    if json_out:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} document(s) in review",
        ["id", "file", "type", "reason", "candidates"],
        [
            [
                r["id"],
                r["source_name"],
                r["doc_type"],
                r["review_reason"],
                ", ".join(f"{c['mrn']} ({c['score']:.1f})" for c in r["candidates"]),
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
    app = app_of(ctx)
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
    app = app_of(ctx)
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
    app = app_of(ctx)
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
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    data = asdict(report)
    if json_out:
        print_json(data)
    else:
        typer.echo(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"merged {report.merged}, errors {len(report.errors)}"
        )
        for line, message in report.errors[:50]:
            typer.echo(f"  line {line}: {message}", err=True)
    if report.merged or report.updated:
        app.indexer.catch_up()


@patients_app.command("list")
def patients_list(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Option(help="Part of a name or MRN.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    json_out: JsonFlag = False,
) -> None:
    """Patients of the master index."""
    app = app_of(ctx)
    rows = [p.to_json() for p in patient_index.list_patients(app.store, query=query, limit=limit)]
    app.store.add_event(
        None, "patients listed", {"count": len(rows)}, actor=app.actor, is_access=True
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
    app = app_of(ctx)
    data = patient_index.get_patient(app.store, mrn).to_json()
    data["documents"] = [d.to_json() for d in app.store.list_documents(patient_mrn=mrn)]
    app.store.add_event(None, "patient viewed", {"mrn": mrn}, actor=app.actor, is_access=True)
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
