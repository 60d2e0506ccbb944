"""Benchmark the clerk's desk: the review item page, the first page image, 20 clerks at once.

    .venv/bin/python benchmarks/bench_web.py [--items 1000] [--seconds 30] [--clerks 20]

Prints, each with the reference it is a ratio to (the machine is shared and noisy):

* server time of the review item page (p50/p95) with ``--items`` waiting and a 20-page
  document, against a static file served by the same app (the framework's floor);
  target p95 <= 150 ms;
* the first (uncached) page image of a 300-dpi letter scan at screen size, against Pillow
  decoding the same file alone; target <= 300 ms;
* ``--clerks`` clerks at once against 127.0.0.1 for ``--seconds`` (open the next item,
  its page image, a patient search, a text search, file it): p50/p95 per request, errors;
  target p95 <= 300 ms, no errors;
* keystrokes to file one review item from the queue (counted by the browser test).

Synthetic patients and documents only.
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from clerk.app import App  # noqa: E402
from clerk.config import load_config  # noqa: E402
from clerk.web.app import create_app  # noqa: E402
from clerk.web.images import PageImages  # noqa: E402
from records import users  # noqa: E402
from records.store import NewDocument, NewPage, now  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.deskserver import free_port  # noqa: E402
from tests.webkit import ADMIN, PASSWORD, archive, pdf_bytes, scan_bytes, seed  # noqa: E402

THINK = [0.0]  # seconds a clerk waits before each request (--think)
KEYSTROKES_TO_FILE = 2  # Enter on "start with the oldest", then 1; asserted in the browser test
VERSION = re.compile(r'name="version" value="([^"]+)"')
CSRF = re.compile(r'name="csrf-token" content="([^"]*)"')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def fill_queue(app: App, folder: Path, items: int) -> int:
    """``items`` documents waiting in review; the oldest is a 20-page PDF. Returns its id."""
    texts = [[f"PROGRESS NOTE page {p}", "Patient: QUILL, ADA", "Platelets 250"] for p in range(20)]
    big = app.store.add_document(
        NewDocument(
            sha256=archive(app, pdf_bytes(texts), folder),
            source_name="twenty-pages.pdf",
            source_path="/inbox/twenty-pages.pdf",
            status="review",
            doc_type="progress_note",
            review_reason="ambiguous candidates",
            decision={
                "candidates": [
                    {"mrn": "10000001", "score": 12.5, "reasons": ["last name exact"]},
                    {"mrn": "10000002", "score": 9.0, "reasons": ["last name exact"]},
                ]
            },
            pages=[NewPage(i + 1, "\n".join(t), None, "text") for i, t in enumerate(texts)],
            identifiers=[("name", "QUILL, ADA", 1)],
            received_at=now() - timedelta(days=3),
        )
    )
    for n in range(items - 1):
        # Each its own bytes (the archive is content-addressed): a number in the text.
        data = pdf_bytes([[f"LAB REPORT {n}", "Patient: QUILL, ADA", "Hemoglobin 13.2"]])
        app.store.add_document(
            NewDocument(
                sha256=archive(app, data, folder),
                source_name=f"scan-{n:05d}.pdf",
                source_path=f"/inbox/scan-{n:05d}.pdf",
                status="review",
                doc_type="lab_report",
                review_reason="low match score" if n % 3 else "ambiguous candidates",
                decision={"candidates": [{"mrn": "10000001", "score": 8.0, "reasons": ["dob"]}]},
                pages=[NewPage(1, "LAB REPORT hemoglobin", None, "text")],
                received_at=now() - timedelta(minutes=items - n),
            )
        )
    return big


def bench_item_page(app: App, big: int) -> None:
    with TestClient(create_app(app), base_url="http://desk.bench") as client:
        page = client.get("/login").text
        token = re.search(r'name="login_token" value="([^"]+)"', page)
        assert token
        client.post(
            "/login", data={"username": "clerk", "password": PASSWORD, "login_token": token[1]}
        )
        assert client.get(f"/review/{big}").status_code == 200
        item = timed(lambda: client.get(f"/review/{big}"), 60)
        queue = timed(lambda: client.get("/review"), 20)
        static = timed(lambda: client.get("/static/desk.css"), 60)
    print(
        f"review item page (20 pages, {app.store.counts_by_status()['review']} waiting): "
        f"p50 {pct(item, 0.5):.1f} ms, p95 {pct(item, 0.95):.1f} ms (target <= 150); "
        f"static file p95 {pct(static, 0.95):.1f} ms; "
        f"ratio {pct(item, 0.95) / pct(static, 0.95):.1f}x"
    )
    print(f"review queue page: p50 {pct(queue, 0.5):.1f} ms, p95 {pct(queue, 0.95):.1f} ms")


def bench_first_image(app: App, folder: Path) -> None:
    shas = [archive(app, scan_bytes(300, (f"SCAN {i}",)), folder) for i in range(5)]
    width = app.settings.web.page_width
    images = app_images(app)
    first = []
    decode = []
    for sha in shas:
        start = time.perf_counter()
        images.png(sha, 1, width)
        first.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with Image.open(app.store.archive.path_for(sha)) as im:
            im.load()
        decode.append((time.perf_counter() - start) * 1000)
    cached = timed(lambda: images.png(shas[0], 1, width), 20)
    print(
        f"first page image, 300-dpi letter scan at {width} px: median "
        f"{statistics.median(first):.0f} ms, max {max(first):.0f} ms (target <= 300); "
        f"Pillow decode alone {statistics.median(decode):.0f} ms, ratio "
        f"{statistics.median(first) / statistics.median(decode):.1f}x; "
        f"cached {pct(cached, 0.5):.1f} ms"
    )


def app_images(app: App) -> PageImages:
    return PageImages(app.store.archive, app.settings.data_dir / "webcache-bench")


def clerk_loop(
    base: str,
    name: str,
    stop: threading.Event,
    lat: dict[str, list[float]],
    errors: list[str],
) -> None:
    with httpx2.Client(base_url=base, timeout=30, follow_redirects=False) as http:
        page = http.get("/login").text
        token = re.search(r'name="login_token" value="([^"]+)"', page)
        assert token
        http.post("/login", data={"username": name, "password": PASSWORD, "login_token": token[1]})

        def get(url: str, label: str) -> httpx2.Response:
            stop.wait(THINK[0])  # a person reads before the next key
            start = time.perf_counter()
            response = http.get(url)
            lat.setdefault(label, []).append((time.perf_counter() - start) * 1000)
            if response.status_code >= 400:
                errors.append(f"GET {url.split('?')[0]} {response.status_code}")
            return response

        while not stop.is_set():
            nxt = get("/review/next", "next")
            where = nxt.headers.get("location", "/review")
            if not where.startswith("/review/"):
                get("/review", "queue")
                continue
            item = get(where, "item")
            if item.status_code == 303:
                continue  # filed by someone else between "next" and the page: go on
            doc = where.rsplit("/", 1)[1]
            get(f"/documents/{doc}/pages/1.png?size=page", "image")
            get(f"/review/{doc}/patients?q=Quill", "patients")
            get("/search?q=hemoglobin", "search")
            version = VERSION.search(item.text)
            csrf = CSRF.search(item.text)
            if not version or not csrf:
                errors.append("item page without a form")
                continue
            stop.wait(THINK[0])
            start = time.perf_counter()
            done = http.post(
                f"/review/{doc}/assign",
                data={"mrn": "10000001", "version": version[1], "csrf_token": csrf[1]},
            )
            lat.setdefault("assign", []).append((time.perf_counter() - start) * 1000)
            if done.status_code != 303:
                errors.append(f"assign {done.status_code}")


@contextmanager
def desk_process(config: Path) -> Iterator[str]:
    """`chartclerk serve` in its own process (clients here must not share its GIL)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from clerk.entry import main; main()"]
        + ["--config", str(config), "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the desk did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def static_loop(
    base: str, _name: str, stop: threading.Event, lat: dict[str, list[float]], _e: list[str]
) -> None:
    with httpx2.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            start = time.perf_counter()
            http.get("/static/desk.css")
            lat.setdefault("static", []).append((time.perf_counter() - start) * 1000)


def run_clients(
    base: str, clerks: int, seconds: float, loop: Callable[..., None]
) -> tuple[dict[str, list[float]], list[str]]:
    lat: dict[str, list[float]] = {}
    errors: list[str] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=loop, args=(base, f"bench{i:02d}", stop, lat, errors))
        for i in range(clerks)
    ]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    return lat, errors


def bench_clerks(app: App, config: Path, clerks: int, seconds: float) -> None:
    for i in range(clerks):
        users.add_user(app.store, f"bench{i:02d}", "clerk", PASSWORD, actor=ADMIN)
    app.indexer.flush()
    filed_before = app.store.counts_by_status()["filed"]
    with desk_process(config) as base:
        floor, _ = run_clients(base, clerks, min(seconds, 10.0), static_loop)
        lat, errors = run_clients(base, clerks, seconds, clerk_loop)
    filed = app.store.counts_by_status()["filed"] - filed_before
    every = [v for values in lat.values() for v in values]
    ref = floor["static"]
    print(
        f"{clerks} clerks for {seconds:.0f} s against 127.0.0.1 (desk in its own process, "
        f"{THINK[0]:g} s between requests): "
        f"{len(every)} requests, p50 {pct(every, 0.5):.0f} ms, p95 {pct(every, 0.95):.0f} ms "
        f"(target <= 300), errors {len(errors)}"
        f"{' ' + str(sorted(set(errors))[:5]) if errors else ''}; {filed} items filed"
    )
    print(
        f"  reference: {clerks} clients fetching a static file: p95 {pct(ref, 0.95):.0f} ms; "
        f"ratio {pct(every, 0.95) / max(pct(ref, 0.95), 0.1):.1f}x"
    )
    for label, values in sorted(lat.items()):
        print(
            f"  {label:9} n={len(values):5} "
            f"p50 {pct(values, 0.5):5.0f} ms p95 {pct(values, 0.95):5.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clerks", type=int, default=20)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds each clerk waits before each request (0: back to back, a stress test)",
    )
    args = parser.parse_args()
    THINK[0] = args.think
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder)
        app = App(load_config(config), actor="bench")
        try:
            seed(app, folder, review_items=0)
            start = time.perf_counter()
            big = fill_queue(app, folder, args.items)
            print(f"queue of {args.items} filled in {time.perf_counter() - start:.1f} s")
            bench_item_page(app, big)
            bench_first_image(app, folder)
            bench_clerks(app, config, args.clerks, args.seconds)
            print(f"keystrokes to file one review item from the queue: {KEYSTROKES_TO_FILE}")
        finally:
            app.close()


if __name__ == "__main__":
    main()
