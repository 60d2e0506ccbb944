"""The search index follows the record store: ingest, assign, refile, reject, rebuild."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from clerk.app import App
from clerk.config import load_config
from index import SearchFilters
from index.reference import write_plain_index
from records import review
from records.audit import Actor
from records.patients import import_patients
from synthetic import write_registry_csv
from tests.scans import patients, scan


@pytest.fixture
def stocked(app: App, tmp_path: Path) -> App:
    people = patients()
    import_patients(
        app.store, write_registry_csv(people, tmp_path / "reg.csv"), actor=Actor("t", "cli")
    )
    drop = tmp_path / "drop"
    scan(drop, people[0], "pdf_text", "one.pdf")
    scan(drop, people[1], "pdf_text", "two.pdf", doc_type="radiology_report")
    scan(drop, people[2], "pdf_text", "three.pdf", show_mrn=False, show_dob=False)
    scan(drop, people[3], "pdf_text", "four.pdf", show_mrn=False, show_dob=False)
    for path in sorted(drop.iterdir()):
        app.ingestor.ingest(path, release_source=False)
    app.indexer.flush()
    return app


def index_view(app: App, *, include_rejected: bool = True) -> dict[int, tuple[str | None, str]]:
    """For every document: (patient MRN, status) as the index reports them."""
    view = {}
    for status in ("filed", "review", "quarantined"):
        filters = SearchFilters(status=status, include_rejected=include_rejected)
        result = app.search.search("*", filters, limit=1000)
        for hit in result.hits:
            view[hit.id] = (hit.patient_mrn, status)
    return view


def store_view(app: App) -> dict[int, tuple[str | None, str]]:
    return {d.id: (d.patient_mrn, d.status) for d in app.store.list_documents()}


def test_index_agrees_with_store_after_assign_refile_and_reject(stocked: App) -> None:
    app = stocked
    assert index_view(app) == store_view(app)
    waiting = app.store.list_documents(status="review")
    assert len(waiting) >= 2
    people = patients()
    review.assign(app.store, waiting[0].id, people[2].mrn, actor=Actor("clerk", "cli"))
    review.reject(app.store, waiting[1].id, "not ours", actor=Actor("clerk", "cli"))
    filed = app.store.list_documents(status="filed", patient_mrn=people[0].mrn)[0]
    review.refile(app.store, filed.id, people[4].mrn, "wrong chart", actor=Actor("clerk", "cli"))
    # The CLI indexes after each action; the daemon's catch-up finds any it missed.
    assert app.indexer.catch_up() == 3
    assert index_view(app) == store_view(app)
    assert app.store.pending_index_ids() == []
    # A rejected document leaves search for everyone but those allowed to see rejects.
    assert waiting[1].id not in index_view(app, include_rejected=False)
    assert waiting[1].id not in {h.id for h in app.search.search("*", limit=1000).hits}
    hits = app.search.search("report", SearchFilters(patient_mrn=people[4].mrn)).hits
    assert [h.id for h in hits] == [filed.id]


def test_a_deleted_index_is_rebuilt_from_the_store(stocked: App, config_path: Path) -> None:
    before = store_view(stocked)
    stocked.close()
    shutil.rmtree(load_config(config_path).index.path)
    again = App(load_config(config_path), actor=Actor("t", "cli"))
    try:
        assert index_view(again) == before
    finally:
        again.close()


def test_a_schema_version_change_rebuilds_the_index(stocked: App, config_path: Path) -> None:
    before = store_view(stocked)
    # A document missing from the old index comes back only if the index is rebuilt.
    dropped = next(iter(before))
    assert stocked.search.remove(dropped)
    assert dropped not in index_view(stocked)
    stocked.close()
    index_path = load_config(config_path).index.path
    version_file = next(p for p in index_path.iterdir() if p.suffix == ".json")
    data = json.loads(version_file.read_text())
    data = {key: (0 if "version" in key else value) for key, value in data.items()}
    version_file.write_text(json.dumps(data))
    again = App(load_config(config_path), actor=Actor("t", "cli"))
    try:
        assert again.search.needs_rebuild is False
        assert index_view(again) == before
    finally:
        again.close()


def test_an_index_written_with_plain_whoosh_fields_is_kept_and_upgraded_at_its_next_write(
    stocked: App, config_path: Path
) -> None:
    # An index written before FoldedText (Whoosh's own TEXT fields, the same postings) holds
    # the store's documents: the next start keeps it (no rebuild: minutes per 100,000
    # documents), and its next write records the faster fields for good.
    before = store_view(stocked)
    docs = list(stocked.indexer._documents(None))  # noqa: SLF001 - the store's index view
    stocked.close()
    index_path = load_config(config_path).index.path
    shutil.rmtree(index_path)
    write_plain_index(index_path, docs)
    again = App(load_config(config_path), actor=Actor("t", "cli"))
    try:
        assert again.search.needs_rebuild is False
        assert index_view(again) == before
        assert _text_field_kinds(again) == {"TEXT"}
        # One document written again (as a review action would): same index, new fields.
        again.indexer.index_documents([next(iter(before))])
        assert _text_field_kinds(again) == {"FoldedText"}
        assert index_view(again) == before
        hits = again.search.search("report", limit=1000).hits
        assert hits and {h.id for h in hits} <= set(before)
    finally:
        again.close()


def _text_field_kinds(app: App) -> set[str]:
    schema = app.search._engine().schema  # noqa: SLF001 - what the index's contents say
    return {type(schema[name]).__name__ for name in ("text", "name", "source")}
