"""End to end in Debian's chromium, driven by Playwright: a clerk's morning, by keyboard.

Skipped where /usr/bin/chromium (or Playwright) is missing; `make test` installs both.
Screenshots go to a temporary folder, or to $CHARTCLERK_SCREENSHOTS when set (the README's
pictures come from ``CHARTCLERK_SCREENSHOTS=docs/screenshots``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clerk.app import App
from tests.deskserver import running_desk
from tests.webkit import PASSWORD, DeskData, cheap_password_hashing, seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MAJOR = 156  # the major of Debian's chromium that playwright==1.64.1 bundles too
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CHARTCLERK_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'username'")
    page.keyboard.type(name)  # the user name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_browser_is_debians_chromium_of_the_pinned_major(browser: Any) -> None:
    assert int(browser.version.split(".")[0]) == CHROMIUM_MAJOR


def test_a_clerk_files_by_keyboard_finds_it_and_the_auditor_sees_it(
    app: App, tmp_path: Path, browser: Any, shots: Path
) -> None:
    data: DeskData = seed(app, tmp_path)
    oldest = data.review_ids[0]
    errors: list[str] = []
    with running_desk(app) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{base}/login")
        page.screenshot(path=shots / "login.png")
        sign_in(page, base, "clerk")
        assert page.url == f"{base}/review"
        page.screenshot(path=shots / "review-queue.png")

        keys = 0
        page.keyboard.press("Enter")  # "start with the oldest" has the focus
        keys += 1
        page.wait_for_url(f"{base}/review/{oldest}")
        page.wait_for_selector("#page-image")
        page.wait_for_function("document.getElementById('page-image').complete")
        page.keyboard.press("]")  # next page, without a reload
        assert page.text_content("#page-no") == "2"
        page.keyboard.press("[")
        page.keyboard.press("/")
        page.keyboard.type("Quill")
        page.wait_for_selector("#patients form.assign")
        page.keyboard.press("Escape")
        page.screenshot(path=shots / "review-item.png")
        page.keyboard.press("1")  # file to the first candidate, then the next item opens
        keys += 1
        page.wait_for_url(f"{base}/review/{data.review_ids[1]}")
        assert keys == 2

        page.goto(f"{base}/search")
        # Type only once the autofocused field has the focus, or the first letters go astray.
        page.wait_for_function("document.activeElement && document.activeElement.id === 'search-q'")
        page.keyboard.type("hemoglobin")
        page.keyboard.press("Enter")
        page.wait_for_selector("ol.hits")
        for _ in range(60):  # the index takes a filing within a second (batched writer)
            if page.locator("ol.hits a[href='/patients/10000001']").count():
                break
            page.wait_for_timeout(250)
            page.reload()
        page.screenshot(path=shots / "search.png")
        assert page.locator("mark").count() >= 1
        page.click("ol.hits a[href='/patients/10000001']")
        page.wait_for_url(f"{base}/patients/10000001")
        assert page.locator(f"a[href='/documents/{oldest}']").count() == 1
        page.screenshot(path=shots / "chart.png")
        page.click(f"a[href='/documents/{oldest}']")
        page.wait_for_selector("#page-image")
        page.screenshot(path=shots / "document.png")
        page.click("button:has-text('Sign out')")
        page.wait_for_url(f"{base}/login")

        sign_in(page, base, "auditor")
        page.goto(f"{base}/audit?user=clerk&order=asc")
        rows = page.locator("table.audit tbody tr").all_text_contents()
        assert any("view" in r and str(oldest) in r for r in rows)
        assert any("search" in r for r in rows)
        assert any("page image" in r for r in rows)
        page.screenshot(path=shots / "audit.png", full_page=False)
        page.click("button:has-text('Sign out')")

        sign_in(page, base, "supervisor")
        for name in ("quarantine", "users", "status"):
            page.goto(f"{base}/{name}")
            page.screenshot(path=shots / f"{name}.png")
        context.close()
    assert not errors, errors  # no CSP violation, no script error
    filed = app.store.get_document(oldest).summary
    assert (filed.status, filed.patient_mrn) == ("filed", "10000001")
