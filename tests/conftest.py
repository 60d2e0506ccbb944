"""Shared fixtures: a configured chartclerk in a temporary folder, and leak checks."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from clerk.app import App
from clerk.config import load_config

ROOT = Path(__file__).resolve().parent.parent
HAS_TESSERACT = shutil.which("tesseract") is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip tests that run tesseract where it is not installed (CI installs it)."""
    if HAS_TESSERACT:
        return
    skip = pytest.mark.skip(reason="tesseract is not installed")
    for item in items:
        if "needs_tesseract" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def no_leaked_threads_or_processes() -> Iterator[None]:
    """Fail a test that leaves threads or child processes running after it."""
    threads_before = set(threading.enumerate())
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    leaked_threads = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    for thread in leaked_threads:
        thread.join(timeout=5)
    leaked_threads = [t for t in leaked_threads if t.is_alive()]
    assert not leaked_threads, f"threads left running: {leaked_threads}"
    children = [
        p
        for p in psutil.Process().children(recursive=True)
        if p.pid not in children_before and _counts_as_leak(p)
    ]
    if children:
        gone, alive = psutil.wait_procs(children, timeout=5)
        assert not alive, f"child processes left running: {[p.pid for p in alive]}"


def _counts_as_leak(process: psutil.Process) -> bool:
    # multiprocessing starts one resource tracker per interpreter on first use and keeps it
    # for the interpreter's life by design; it is not a leak of the test's.
    try:
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return not any("resource_tracker" in part for part in process.cmdline())
    except psutil.NoSuchProcess:
        return False


def write_config(folder: Path, extra: str = "") -> Path:
    """A config.yaml in ``folder`` with its own inbox and data, fast settings for tests."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("stable_seconds: 2 ", "stable_seconds: 0.3 ")
    text = text.replace("workers: 0 ", "workers: 2 ")
    path = folder / "config.yaml"
    path.write_text(text + extra, encoding="utf-8")
    # As in a fresh clone, the inbox is there (a missing one is an error, not made anew).
    (folder / "inbox").mkdir(exist_ok=True)
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A test configuration in a fresh folder."""
    return write_config(tmp_path)


@pytest.fixture
def app(config_path: Path) -> Iterator[App]:
    """A chartclerk app on a fresh data folder; closed after the test."""
    instance = App(load_config(config_path), actor="test-clerk")
    yield instance
    instance.close()
