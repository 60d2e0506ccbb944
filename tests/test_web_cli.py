"""`chartclerk serve` and `chartclerk run` start the desk, answer, and stop on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from tests.deskserver import free_port

ROOT = Path(__file__).resolve().parent.parent


def _start(config: Path, command: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from clerk.entry import main; main()"]
        + ["--config", str(config), command, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the desk did not start"
            time.sleep(0.1)


@pytest.mark.parametrize(
    "command", ["serve", pytest.param("run", marks=pytest.mark.needs_tesseract)]
)
def test_the_desk_starts_answers_and_stops(config_path: Path, command: str) -> None:
    port = free_port()
    process = _start(config_path, command, port)
    try:
        _wait_for(port, process)
        login = httpx2.get(f"http://127.0.0.1:{port}/login")
        assert login.status_code == 200
        assert login.headers["x-frame-options"] == "DENY"
        assert "server" not in login.headers
        page = httpx2.get(f"http://127.0.0.1:{port}/review", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
        if process.stderr:
            process.stderr.close()
    assert code == 0
