"""The start-up check of tesseract and its language packs (``scanner.ocr.check_tesseract``)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from chartclerk_errors import ConfigError, MissingDependencyError
from scanner.ocr import check_tesseract


def _fake_tesseract(folder: Path, languages: list[str]) -> None:
    """A `tesseract` on PATH that lists these languages as the real one does."""
    folder.mkdir(exist_ok=True)
    program = folder / "tesseract"
    listing = "\n".join(languages)
    program.write_text(
        "#!/bin/sh\n"
        f"echo 'List of available languages in \"{folder}/\" ({len(languages)}):'\n"
        f"printf '%s\\n' '{listing}'\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)


def test_the_installed_languages_are_read_from_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tesseract(tmp_path / "bin", ["deu", "eng", "osd"])
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    check_tesseract("eng+deu")  # all there: no error
    with pytest.raises(ConfigError, match="ocr.languages: 'fra' is not installed"):
        check_tesseract("eng+fra")


def test_a_listing_on_stderr_with_exit_1_counts_as_tesseract_3_gives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "tesseract"
    program.write_text(
        "#!/bin/sh\n"
        "echo 'List of available languages (3):' >&2\n"
        "printf 'eng\\nosd\\nscript/Latin\\n' >&2\n"
        "exit 1\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(folder))
    check_tesseract("eng+script/Latin")
    program.write_text("#!/bin/sh\necho 'Error opening data file' >&2\nexit 2\n")
    with pytest.raises(MissingDependencyError, match="could not list its languages"):
        check_tesseract("eng")


def test_missing_orientation_data_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tesseract(tmp_path / "bin", ["eng"])
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(MissingDependencyError, match="tesseract-ocr-osd"):
        check_tesseract("eng")


def test_no_tesseract_on_path_is_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(MissingDependencyError, match="apt-get install tesseract-ocr"):
        check_tesseract("eng")


@pytest.mark.needs_tesseract
def test_the_real_program_has_english_and_orientation_data() -> None:
    check_tesseract("eng")
