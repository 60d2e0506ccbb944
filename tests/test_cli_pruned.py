"""The command line built for one command behaves as the whole command line does for it."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from clerk.cli import cli, only_the_command


def _names() -> list[str]:
    commands = [
        info.name or typer.main.get_command_name(info.callback.__name__)  # type: ignore[union-attr]
        for info in cli.registered_commands
    ]
    groups = [info.name for info in cli.registered_groups if info.name]
    return sorted({*commands, *groups})


def _run(app: typer.Typer, args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def test_every_command_and_group_is_found_by_name() -> None:
    names = _names()
    assert {"ingest", "status", "search", "documents", "review", "verify"} <= set(names)
    for name in names:
        pruned = only_the_command([name])
        assert pruned is not cli, name
        # Only that command or group, and the groups whose commands sit at the top.
        kept = [i.name for i in pruned.registered_groups if i.name]
        assert kept in ([name], []), name
        assert len(pruned.registered_commands) <= 1, name
    assert len(cli.registered_commands) > 1  # the whole command line is left as it was


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["--config", "x.yaml"],
        ["--config=x.yaml", "--help"],
        ["no-such-command"],
        ["ingset", "a.pdf"],
        ["--verbose", "ingest"],
    ],
)
def test_anything_but_a_command_gets_the_whole_command_line(args: list[str]) -> None:
    assert only_the_command(args) is cli


@pytest.mark.parametrize("name", _names())
def test_help_and_usage_errors_are_the_same(name: str, tmp_path: Path) -> None:
    config = ["--config", str(tmp_path / "missing.yaml")]
    for args in (
        [name, "--help"],
        [*config, name, "--help"],
        [f"--config={tmp_path / 'missing.yaml'}", name, "--no-such-option"],
        [*config, name, "list", "--help"],
        [*config, name, "--json", "--json", "extra", "arguments"],
    ):
        assert _run(only_the_command(args), args) == _run(cli, args), args


def test_a_command_runs_the_same(tmp_path: Path) -> None:
    # A command that reaches the configuration: the same error, the same exit code.
    args = ["--config", str(tmp_path / "missing.yaml"), "status", "--json"]
    pruned = _run(only_the_command(args), args)
    assert pruned == _run(cli, args)
    assert pruned[0] != 0
