import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from chartclerk_errors import ConfigError
from clerk.config import Settings, load_config
from tests.conftest import ROOT


def test_default_config_loads_and_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    copy = tmp_path / "site" / "config.yaml"
    copy.parent.mkdir()
    copy.write_text((ROOT / "config.yaml").read_text())
    settings = load_config(copy)
    assert settings.inbox.path == copy.parent / "inbox"
    assert settings.data_dir == copy.parent / "var"
    assert settings.store.database_url == f"sqlite:///{copy.parent / 'var' / 'chartclerk.db'}"
    assert settings.index.path == copy.parent / "var" / "index"
    assert settings.store.quarantine_dir == copy.parent / "var" / "quarantine"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("ocr:\n  dpi: lots\n", "ocr.dpi"),
        ("ocr:\n  languages: eng\n  colour: blue\n", "ocr.colour: unknown key"),
        ("wibble: 1\n", "wibble: unknown key"),
        ("inbox:\n  stable_seconds: -1\n", "inbox.stable_seconds"),
        ("filing:\n  matching:\n    margin: -3\n", "filing.matching.margin"),
    ],
)
def test_bad_keys_are_named_in_one_line(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(extra)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_and_malformed_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("inbox: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def _key_lines(text: str) -> list[tuple[int, str]]:
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*[A-Za-z_][\w]*:", line):
            keys.append((number, line))
    return keys


def test_every_key_in_config_yaml_carries_a_comment() -> None:
    text = (ROOT / "config.yaml").read_text()
    undocumented = [f"line {n}: {line.strip()}" for n, line in _key_lines(text) if "#" not in line]
    assert not undocumented, "undocumented keys:\n" + "\n".join(undocumented)


def _flatten(data: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        keys.add(path)
        if isinstance(value, dict):
            keys |= _flatten(value, path + ".")
    return keys


def _model_keys(model: Any, prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        keys.add(path)
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys |= _model_keys(annotation, path + ".")
    return keys


def test_every_setting_of_the_service_sections_is_in_config_yaml() -> None:
    documented = _flatten(yaml.safe_load((ROOT / "config.yaml").read_text()))
    known = _model_keys(Settings)
    assert documented <= known, f"keys no setting reads: {sorted(documented - known)}"
    # Long keyword and label tables keep their defaults in code; everything else is shown.
    tables = ("filing.classify.keywords", "filing.classify.loinc", "filing.matching.weights")
    missing = {k for k in known - documented if not (k.startswith(tables) or k.endswith("_labels"))}
    assert not missing, f"settings missing from config.yaml: {sorted(missing)}"
