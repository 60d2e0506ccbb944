"""Who acts on the command line, what they may do, what the trail records, files at rest.

Commands run through the console script's own entry point (``clerk.cli.main``: the one
error handler, exit codes, the umask), in this process to keep the module fast; ingest and
the interactive password prompt run as a subprocess, as a user runs them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import pwd
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clerk.app import App
from clerk.cli import main
from records import users
from records.audit import SYSTEM, Actor
from records.settings import StoreSettings
from records.store import Store
from synthetic import write_registry_csv
from tests.conftest import write_config
from tests.scans import patients, scan

CHARTCLERK = str(Path(sys.executable).with_name("chartclerk"))
ME = pwd.getpwuid(os.getuid()).pw_name
PASSWORD = "a long enough password"


def site_config(folder: Path) -> Path:
    """A test config whose checkpoint key lives beside the site, outside its data folder."""
    config = write_config(folder)
    text = config.read_text().replace(
        "~/.config/chartclerk/audit-checkpoint.key", str(folder / "keys" / "checkpoint.key")
    )
    config.write_text(text)
    return config


def run(
    config: Path, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``chartclerk --config CONFIG ARGS`` through ``clerk.cli.main`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    argv, stdin_before, umask_before = sys.argv, sys.stdin, os.umask(0o022)
    handlers, level = logging.root.handlers[:], logging.root.level
    sys.argv = [CHARTCLERK, "--config", str(config), *args]
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        sys.argv, sys.stdin = argv, stdin_before
        os.umask(umask_before)
        for handler in logging.root.handlers:
            if handler not in handlers:
                handler.close()
        logging.root.handlers, logging.root.level = handlers, level
    result = subprocess.CompletedProcess(sys.argv, code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"{args}: exit {code}: {result.stderr}")
    return result


def run_process(
    config: Path,
    *args: str,
    check: bool = True,
    stdin: str | None = None,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the console script in a subprocess (OCR workers, a real stdin, its own umask)."""
    preexec: Callable[[], Any] | None = (lambda: os.umask(umask)) if umask is not None else None
    result = subprocess.run(
        [CHARTCLERK, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
        preexec_fn=preexec,  # noqa: PLW1509 - only sets the umask
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args}: exit {result.returncode}: {result.stderr}")
    return result


def run_json(config: Path, *args: str) -> Any:
    return json.loads(run(config, *args, "--json").stdout)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry and two text-layer PDFs ingested: one filed, one in review."""
    folder = tmp_path_factory.mktemp("access")
    config = site_config(folder)
    people = patients()
    run(config, "patients", "import", str(write_registry_csv(people, folder / "reg.csv")))
    scan(folder / "drop", people[0], "pdf_text", "lab.pdf")
    scan(folder / "drop", people[2], "pdf_text", "no-ids.pdf", show_mrn=False, show_dob=False)
    run_process(config, "ingest", str(folder / "drop"))
    return config


def test_no_option_writes_another_name(site: Path) -> None:
    result = run(site, "--user", "chartclerk", "documents", "list", check=False)
    assert result.returncode == 2 and "No such option: --user" in result.stderr
    run(site, "status")
    received = run_json(site, "audit", "--limit", "500")
    ingest = [e for e in received if e["kind"] == "received"]
    assert ingest and {(e["actor"], e["channel"]) for e in ingest} == {(ME, "cli")}


def test_views_lists_and_searches_record_the_ids_shown(site: Path) -> None:
    mrn = patients()[0].mrn
    docs = run_json(site, "documents", "list")
    hits = run_json(site, "search", "report")
    shown = run_json(site, "patients", "list", "--limit", "3")
    patient = run_json(site, "patients", "show", mrn)
    queue = run_json(site, "review", "list")
    one = docs[0]["id"]
    history = run_json(site, "documents", "show", str(one))["history"]
    trail = run_json(site, "audit", "--limit", "6")[::-1]  # the six reads, oldest first
    assert [e["kind"] for e in trail] == [
        "documents listed",
        "search",
        "patients listed",
        "patient viewed",
        "review queue listed",
        "viewed",
    ]
    assert {(e["actor"], e["channel"], e["access"]) for e in trail} == {(ME, "cli", True)}
    listed, searched, patients_listed, viewed_patient, reviewed, viewed = trail
    assert listed["document_ids"] == sorted(d["id"] for d in docs)
    assert mrn in listed["mrns"]
    assert searched["detail"]["query"] == "report"
    assert searched["document_ids"] == sorted(h["id"] for h in hits) and hits
    assert patients_listed["mrns"] == sorted(p["mrn"] for p in shown)
    assert viewed_patient["mrns"] == [mrn]
    assert viewed_patient["document_ids"] == [d["id"] for d in patient["documents"]]
    assert reviewed["document_ids"] == sorted(r["id"] for r in queue) and queue
    assert viewed["document_ids"] == [one]
    # The document's history reads from the same trail: its own acts and who saw it.
    assert [h["kind"] for h in history][:2] == ["received", "read"]
    assert "documents listed" in {h["kind"] for h in history}


def test_errors_name_no_mrn(site: Path) -> None:
    queue = run_json(site, "review", "list")
    result = run(site, "review", "assign", str(queue[0]["id"]), "99999917", check=False)
    assert result.returncode == 6
    assert "99999917" not in result.stderr and "no patient with the MRN given" in result.stderr


def test_users_commands(site: Path) -> None:
    run(site, "users", "add", "ann", "--role", "clerk", "--password-stdin", stdin=PASSWORD + "\n")
    run_process(site, "users", "add", "abe", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    bad = run(site, "users", "add", "al", "--role", "boss", "--password-stdin", check=False)
    assert bad.returncode == 5 and "unknown role" in bad.stderr
    listed = {u["name"]: u for u in run_json(site, "users", "list")}
    assert {n: u["role"] for n, u in listed.items()} == {"abe": "viewer", "ann": "clerk"}
    run(site, "users", "set-role", "abe", "auditor")
    run(site, "users", "reset-password", "ann", "--password-stdin", stdin="another password\n")
    first = run(site, "users", "token", "ann").stdout.strip()
    second = run(site, "users", "token", "ann").stdout.strip()
    assert first.startswith("cct_") and first != second
    assert "2 token(s)" in run(site, "users", "revoke-tokens", "ann").stdout
    run(site, "users", "disable", "abe")
    listed = {u["name"]: u for u in run_json(site, "users", "list")}
    assert (listed["abe"]["role"], listed["abe"]["disabled"]) == ("auditor", True)
    kinds = [e["action"] for e in run_json(site, "audit", "report", "--user", ME)]
    for kind in ("user added", "role changed", "password reset", "token issued", "user disabled"):
        assert kind in kinds
    trail = run(site, "audit", "report", "--csv").stdout
    assert PASSWORD not in trail and first not in trail


def test_report_filters_and_formats(site: Path) -> None:
    mrn = patients()[0].mrn
    run(site, "search", "report")
    about = run_json(site, "audit", "report", "--patient", mrn)
    assert about and all(mrn in e["mrns"] for e in about)
    searches = run_json(site, "audit", "report", "--action", "search", "--user", ME)
    assert searches and {e["action"] for e in searches} == {"search"}
    assert run_json(site, "audit", "report", "--from", "2999-01-01") == []
    today = run_json(site, "audit", "report", "--to", "2999-01-01", "--sort", "action")
    assert [e["action"] for e in today] == sorted(e["action"] for e in today)
    csv_text = run(site, "audit", "report", "--action", "search", "--csv").stdout
    header, *rows = csv_text.splitlines()
    assert header.startswith("id,at,actor,channel") and len(rows) >= len(searches)
    bad = run(site, "audit", "report", "--sort", "mrn", check=False)
    assert bad.returncode == 2


def test_verify_checkpoint_and_a_tampered_trail(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    run(config, "patients", "import", str(write_registry_csv(patients(), tmp_path / "r.csv")))
    run(config, "patients", "list")
    result = run_json(config, "audit", "verify")
    assert result["ok"] and result["count"] == 2
    cp = tmp_path / "cp.json"
    run(config, "audit", "checkpoint", "--out", str(cp))
    key = tmp_path / "keys" / "checkpoint.key"
    assert key.stat().st_mode & 0o777 == 0o600 and cp.stat().st_mode & 0o777 == 0o600
    assert "checkpoint" in run(config, "audit", "verify", "--checkpoint", str(cp)).stdout

    db = sqlite3.connect(tmp_path / "var" / "chartclerk.db", isolation_level=None)
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = 2")
    db.close()
    broken = run(config, "audit", "verify", check=False)
    assert broken.returncode == 9
    assert broken.stderr.strip() == (
        "chartclerk: audit trail broken at entry 2: altered (its content does not match its hash)"
    )
    as_json = run(config, "audit", "verify", "--json", check=False)
    assert as_json.returncode == 9 and json.loads(as_json.stdout)["ok"] is False
    refused = run(config, "audit", "checkpoint", "--out", str(tmp_path / "cp2.json"), check=False)
    assert refused.returncode == 9 and not (tmp_path / "cp2.json").exists()


def test_a_checkpoint_key_inside_the_data_folder_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    text = config.read_text().replace(
        "~/.config/chartclerk/audit-checkpoint.key", str(tmp_path / "var" / "cp.key")
    )
    config.write_text(text)
    result = run(config, "status", check=False)
    assert result.returncode == 2 and "checkpoint_key: must be outside data_dir" in result.stderr


def test_a_data_folder_others_can_read_is_refused(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    run(config, "status")
    data = tmp_path / "var"
    data.chmod(0o755)
    result = run(config, "status", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"chartclerk: data folder {data} is open to group or others (mode 0755); "
        f"run: chmod 700 {data}"
    )
    data.chmod(0o700)
    run(config, "status")


def test_files_are_private_whatever_the_callers_umask(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    config.write_text(
        config.read_text().replace("  file: null ", f"  file: {tmp_path}/log/cc.log ")
    )
    scan(tmp_path / "drop", patients()[0], "pdf_text", "lab.pdf")
    run(config, "patients", "import", str(write_registry_csv(patients(), tmp_path / "r.csv")))
    run_process(config, "ingest", str(tmp_path / "drop"), umask=0o022)
    run_process(config, "search", "report", umask=0o022)
    modes = {}
    for base in (tmp_path / "var", tmp_path / "log"):
        for path in [base, *base.rglob("*")]:
            modes[path] = path.stat().st_mode & 0o777
    assert tmp_path / "log" / "cc.log" in modes
    assert any("archive" in str(p) for p in modes) and any("index" in str(p) for p in modes)
    assert any("quarantine" in str(p) for p in modes)
    loose = {str(p): oct(m) for p, m in modes.items() if m & 0o077}
    assert not loose, f"readable by others: {loose}"


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give the data folder away")
def test_another_os_account_acts_with_its_chartclerk_role(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    run(config, "patients", "import", str(write_registry_csv(patients(), tmp_path / "r.csv")))
    data = tmp_path / "var"
    os.chown(data, 4321, 4321)  # now this process's account is not the service account
    try:
        refused = run(config, "documents", "list", check=False)
        assert refused.returncode == 10
        assert refused.stderr.strip() == "chartclerk: no chartclerk role: not allowed to view"
        store = Store(
            StoreSettings(
                database_url=f"sqlite:///{data / 'chartclerk.db'}",
                archive_dir=data / "archive",
                quarantine_dir=data / "quarantine",
            )
        )
        try:
            users.add_user(store, ME, "viewer", PASSWORD, actor=Actor("setup", "cli"))
            run(config, "documents", "list")
            run(config, "search", "anything")
            for args in (("users", "list"), ("audit", "verify"), ("patients", "import", "x")):
                denied = run(config, *args, check=False)
                assert denied.returncode == 10, args
                assert "role viewer is not allowed" in denied.stderr
            users.set_role(store, ME, "auditor", actor=Actor("setup", "cli"))
            run(config, "audit", "verify")
            assert run(config, "documents", "list", check=False).returncode == 10
            users.disable_user(store, ME, actor=Actor("setup", "cli"))
            assert run(config, "audit", "verify", check=False).returncode == 10
        finally:
            store.close()
    finally:
        os.chown(data, os.getuid(), os.getgid())
    denied = run_json(config, "audit", "report", "--action", "permission denied")
    assert len(denied) == 6 and {e["outcome"] for e in denied} == {"denied"}


def test_the_daemon_files_as_system(app: App) -> None:
    assert app.actor == Actor("test-clerk", "cli")
    app.act_as_daemon()
    assert app.actor == SYSTEM
    assert app.ingestor.actor == SYSTEM
    with pytest.raises(RuntimeError):
        app.act_as_daemon()  # too late once the pipeline exists: it would keep the old actor
