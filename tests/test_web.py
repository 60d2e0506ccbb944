"""The desk's routes in-process: deny by default, the role matrix, CSRF, sessions, claims."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from clerk.app import App
from clerk.web.app import all_routes, create_app
from clerk.web.security import Permission
from records.audit_report import ReportFilter, report
from records.models import Document, ReviewClaim, WebSession
from records.permissions import ROLES, allowed
from records.store import now
from tests.webkit import DeskData, cheap_password_hashing, csrf_of, seed, sign_in

# Routes that need no user: the sign-in form itself. Everything else names an Action.
PUBLIC_ROUTES = {("GET", "/login"), ("POST", "/login")}


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def desk(app: App, tmp_path: Path) -> Iterator[tuple[Any, DeskData]]:
    data = seed(app, tmp_path)
    web = create_app(app)
    yield web, data


@pytest.fixture
def client(desk: tuple[Any, DeskData]) -> Iterator[TestClient]:
    with TestClient(desk[0], base_url="http://desk.test") as c:
        yield c


def permissions_of(route: APIRoute) -> list[Permission]:
    found: list[Permission] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Permission):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def api_routes(web: Any) -> list[APIRoute]:
    return [r for r in all_routes(web.routes) if isinstance(r, APIRoute)]


def test_every_route_declares_exactly_one_permission(desk: tuple[Any, DeskData]) -> None:
    web, _ = desk
    routes = api_routes(web)
    assert len(routes) >= 25
    for route in routes:
        declared = permissions_of(route)
        assert len(declared) == 1, f"{route.path} declares {declared}"
        for method in route.methods or ():
            if declared[0].action is None:
                assert (method, route.path) in PUBLIC_ROUTES, f"{method} {route.path} is public"
    others = [r for r in all_routes(web.routes) if not isinstance(r, APIRoute)]
    # Only the static files (css, js; no PHI) are served outside the permission check.
    assert [getattr(r, "path", None) for r in others] == ["/static"]
    assert not any(r.path in ("/docs", "/redoc", "/openapi.json") for r in routes)


def _fill(path: str, data: DeskData) -> str:
    values = {
        "document_id": str(data.review_ids[-1]),
        "number": "1",
        "mrn": "10000003",
        "name": "nosuchuser",
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


def _request(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Any:
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False)
    # Empty bodies: an allowed role gets 4xx validation, never a change; a denied one 403.
    return client.request(method, url, headers=headers, follow_redirects=False)


def test_without_credentials_pages_redirect_and_the_api_answers_401(
    desk: tuple[Any, DeskData], client: TestClient
) -> None:
    web, data = desk
    for route in api_routes(web):
        for method in route.methods or ():
            if (method, route.path) in PUBLIC_ROUTES:
                continue
            url = _fill(route.path, data)
            response = _request(client, method, url, {})
            if route.path.startswith("/api/"):
                assert response.status_code == 401, f"{method} {url}"
                assert response.headers["www-authenticate"] == "Bearer"
            else:
                assert response.status_code == 303, f"{method} {url}"
                assert response.headers["location"] == "/login"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_each_route(
    desk: tuple[Any, DeskData], client: TestClient, role: str
) -> None:
    web, data = desk
    assert sign_in(client, role).status_code == 303
    csrf = csrf_of(client.get("/status").text)
    checked = 0
    for route in api_routes(web):
        action = permissions_of(route)[0].action
        if action is None or route.path == "/logout":
            continue
        for method in route.methods or ():
            url = _fill(route.path, data)
            if route.path.startswith("/api/"):
                headers = {"Authorization": f"Bearer {data.tokens[role]}"}
            else:
                headers = {"X-CSRF-Token": csrf, "Origin": "http://desk.test"}
            response = _request(client, method, url, headers)
            checked += 1
            if allowed(role, action):
                assert response.status_code not in (401, 403), f"{role} {method} {url}"
                assert response.status_code < 500, f"{role} {method} {url}"
            else:
                assert response.status_code == 403, f"{role} {method} {url}"
    assert checked >= 25


def test_the_roles_that_matter_most(desk: tuple[Any, DeskData], client: TestClient) -> None:
    _, data = desk
    image = f"/api/v1/documents/{data.filed_id}/pages/1.png"
    auditor = {"Authorization": f"Bearer {data.tokens['auditor']}"}
    viewer = {"Authorization": f"Bearer {data.tokens['viewer']}"}
    assert client.get(image, headers=auditor).status_code == 403
    assert client.get(image, headers=viewer).status_code == 200
    sign_in(client, "viewer")
    assert client.get(f"/documents/{data.filed_id}/original").status_code == 403
    assert client.get(f"/documents/{data.filed_id}/pages/1.png").status_code == 200
    assert client.get("/review").status_code == 403
    assert client.get("/audit").status_code == 403


def test_openapi_only_to_signed_in_users(desk: tuple[Any, DeskData], client: TestClient) -> None:
    _, data = desk
    assert client.get("/api/v1/openapi.json").status_code == 401
    auth = {"Authorization": f"Bearer {data.tokens['viewer']}"}
    spec = client.get("/api/v1/openapi.json", headers=auth).json()
    assert "/api/v1/documents/{document_id}" in spec["paths"]
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


def test_security_headers_and_no_store(desk: tuple[Any, DeskData], client: TestClient) -> None:
    _, data = desk
    sign_in(client, "clerk")
    for url in ["/login", "/review", f"/documents/{data.filed_id}", "/search?q=zebrafish"]:
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
    page = client.get(f"/documents/{data.filed_id}/pages/1.png")
    assert page.headers["cache-control"] == "no-store"
    html = client.get("/review").text
    assert "<script>" not in html and " on" + "click=" not in html
    assert client.get("/static/desk.js").headers.get("cache-control") != "no-store"


def test_csrf_token_and_origin_are_required(desk: tuple[Any, DeskData], client: TestClient) -> None:
    _, data = desk
    sign_in(client, "clerk")
    doc = data.review_ids[0]
    page = client.get(f"/review/{doc}").text
    csrf = csrf_of(page)
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"reason": "duplicate scan", "version": version}
    refused = client.post(f"/review/{doc}/reject", data=form, follow_redirects=False)
    assert refused.status_code == 403
    wrong = client.post(
        f"/review/{doc}/reject", data={**form, "csrf_token": "x" * 43}, follow_redirects=False
    )
    assert wrong.status_code == 403
    elsewhere = client.post(
        f"/review/{doc}/reject",
        data={**form, "csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 403
    cross_site = client.post(
        f"/review/{doc}/reject",
        data={**form, "csrf_token": csrf},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    assert client.get(f"/api/v1/documents/{doc}", headers=_bearer(data, "clerk")).json()[
        "status"
    ] == ("review")
    done = client.post(
        f"/review/{doc}/reject",
        data={**form, "csrf_token": csrf},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/review/next"
    status = client.get(f"/api/v1/documents/{doc}", headers=_bearer(data, "clerk")).json()
    assert status["status"] == "quarantined"


def test_htmx_requests_carry_the_token_in_a_header(
    desk: tuple[Any, DeskData], client: TestClient
) -> None:
    _, data = desk
    sign_in(client, "clerk")
    doc = data.review_ids[0]
    page = client.get(f"/review/{doc}").text
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        f"/review/{doc}/assign",
        data={"mrn": "10000001", "version": version},
        headers={"X-CSRF-Token": csrf_of(page), "HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def _bearer(data: DeskData, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {data.tokens[role]}"}


def test_sign_in_gives_a_new_session_id_and_sign_out_ends_it(
    app: App, desk: tuple[Any, DeskData], client: TestClient
) -> None:
    sign_in(client, "clerk")
    first = client.cookies["cc_session"]
    sign_in(client, "clerk")
    second = client.cookies["cc_session"]
    assert first != second
    with app.store.session() as s:
        stored = [row.id_hash for row in s.query(WebSession)]
    assert first not in stored and second not in stored, "only hashes are stored"
    assert len(stored) == 1, "the session replaced at sign-in is gone"
    csrf = csrf_of(client.get("/review").text)
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("cc_session", second)
    assert client.get("/review", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("column", "back"),
    [("last_seen_at", timedelta(minutes=16)), ("created_at", timedelta(hours=12, minutes=1))],
)
def test_idle_and_absolute_expiry(
    app: App, desk: tuple[Any, DeskData], client: TestClient, column: str, back: timedelta
) -> None:
    sign_in(client, "clerk")
    assert client.get("/review", follow_redirects=False).status_code == 200
    with app.store.session() as s:
        s.execute(update(WebSession).values({column: now() - back}))
    response = client.get("/review", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_wrong_passwords_slow_the_account_down(
    desk: tuple[Any, DeskData], client: TestClient
) -> None:
    for _ in range(5):
        assert sign_in(client, "clerk", "wrong").status_code == 401
    throttled = sign_in(client, "clerk")
    assert throttled.status_code == 429
    assert "cc_session" not in client.cookies


def test_opening_an_item_claims_it(
    desk: tuple[Any, DeskData], client: TestClient, app: App
) -> None:
    web, data = desk
    doc = data.review_ids[0]
    sign_in(client, "clerk")
    assert "Held for you" in client.get(f"/review/{doc}").text
    with TestClient(web, base_url="http://desk.test") as other:
        sign_in(other, "clerk2")
        page = other.get(f"/review/{doc}").text
        assert "clerk is working this item" in page
        version = re.search(r'name="version" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        refused = other.post(
            f"/review/{doc}/assign",
            data={"mrn": "10000001", "version": version, "csrf_token": csrf_of(page)},
            follow_redirects=False,
        )
        assert refused.status_code == 409
        api = other.post(
            f"/api/v1/review/{doc}/assign", json={"mrn": "10000001"}, headers=_bearer(data, "clerk")
        )
        assert api.status_code == 200, "the holder's own token may act"
        # "save and next" for the second clerk skips items the first holds
        nxt = other.get("/review/next", follow_redirects=False)
        assert nxt.headers["location"] == f"/review/{data.review_ids[1]}"


def test_a_stale_page_is_refused_not_overwritten(
    desk: tuple[Any, DeskData], client: TestClient, app: App
) -> None:
    web, data = desk
    doc = data.review_ids[0]
    sign_in(client, "clerk")
    page = client.get(f"/review/{doc}").text
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    with app.store.session() as s:  # the claim runs out while the page sits open
        s.execute(update(ReviewClaim).values(until=now() - timedelta(seconds=1)))
    with TestClient(web, base_url="http://desk.test") as other:
        sign_in(other, "clerk2")
        theirs = other.get(f"/review/{doc}").text
        their_version = re.search(r'name="version" value="([^"]+)"', theirs).group(1)  # type: ignore[union-attr]
        with app.store.session() as s:
            s.execute(update(Document).where(Document.id == doc).values(updated_at=now()))
        stale = other.post(
            f"/review/{doc}/assign",
            data={"mrn": "10000002", "version": their_version, "csrf_token": csrf_of(theirs)},
            follow_redirects=False,
        )
        assert stale.status_code == 409
    with app.store.session() as s:
        s.execute(update(ReviewClaim).values(until=now() - timedelta(seconds=1)))
    # The first clerk's page is older still: refused too, and nothing was filed.
    mine = client.post(
        f"/review/{doc}/assign",
        data={"mrn": "10000001", "version": version, "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert mine.status_code == 409
    assert "someone else acted" in mine.text
    row = client.get(f"/api/v1/documents/{doc}", headers=_bearer(data, "clerk")).json()
    assert row["status"] == "review" and row["patient_mrn"] is None


def test_pages_images_and_downloads_are_recorded(
    desk: tuple[Any, DeskData], client: TestClient, app: App
) -> None:
    _, data = desk
    sign_in(client, "clerk")
    image = client.get(f"/documents/{data.filed_id}/pages/1.png?size=thumb")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    cached = list((app.settings.data_dir / "webcache").rglob("*.png"))
    assert cached and all(p.stat().st_mode & 0o077 == 0 for p in cached)
    original = client.get(f"/documents/{data.filed_id}/original")
    assert original.content.startswith(b"%PDF")
    assert client.get(f"/documents/{data.filed_id}/pages/9.png").status_code == 404
    events = app.store.list_events(actor="clerk", limit=50)
    kinds = [e["kind"] for e in events]
    assert "page image" in kinds and "download" in kinds
    assert {e["channel"] for e in events} == {"web"}
    mine = list(report(app.store, ReportFilter(user="clerk")))
    assert mine and all(e.client == "testclient" for e in mine)


def test_search_highlights_escapes_and_records_the_ids_shown(
    desk: tuple[Any, DeskData], client: TestClient, app: App
) -> None:
    _, data = desk
    sign_in(client, "viewer")
    page = client.get("/search", params={"q": "zebrafish"}).text
    assert "<mark>zebrafish</mark>" in page.lower() or "<mark>Zebrafish</mark>" in page
    assert f'href="/documents/{data.filed_id}"' in page
    bad = client.get("/search", params={"q": 'hemoglobin AND "<script>'})
    assert "<script>alert" not in bad.text
    last = app.store.list_events(actor="viewer", limit=5)
    search = next(e for e in last if e["kind"] == "search")
    assert search["document_ids"] == [data.filed_id]


def test_api_shapes(desk: tuple[Any, DeskData], client: TestClient) -> None:
    _, data = desk
    auth = _bearer(data, "supervisor")
    rows = client.get("/api/v1/documents", params={"status": "review"}, headers=auth).json()
    assert [r["id"] for r in rows] == sorted(data.review_ids, reverse=True)
    assert set(rows[0]) == {
        "id",
        "source_name",
        "sha256",
        "status",
        "patient_mrn",
        "doc_type",
        "pages",
        "review_reason",
        "received_at",
    }
    queue = client.get("/api/v1/review", headers=auth).json()
    assert [r["id"] for r in queue] == data.review_ids, "oldest first"
    assert queue[0]["candidates"][0]["mrn"] == "10000001"
    hits = client.get("/api/v1/search", params={"q": "hemoglobin"}, headers=auth).json()
    assert {h["id"] for h in hits} == set(data.review_ids)
    assert set(hits[0]) == {"id", "source_name", "patient_mrn", "doc_type", "score", "snippet"}
    doc = data.review_ids[0]
    filed = client.post(f"/api/v1/review/{doc}/assign", json={"mrn": "10000001"}, headers=auth)
    assert filed.json()["status"] == "filed" and filed.json()["patient_mrn"] == "10000001"
    again = client.post(f"/api/v1/review/{doc}/assign", json={"mrn": "10000001"}, headers=auth)
    assert again.status_code == 409
    rejected = client.post(
        f"/api/v1/review/{data.review_ids[1]}/reject", json={"reason": "blank"}, headers=auth
    )
    assert rejected.json()["status"] == "quarantined"
    trail = client.get("/api/v1/audit", headers=_bearer(data, "auditor")).json()
    assert any(r["action"] == "search" and r["channel"] == "api" for r in trail)
    bad_token = {"Authorization": "Bearer nope"}
    assert client.get("/api/v1/documents", headers=bad_token).status_code == 401


def test_audit_page_filters_sorts_and_exports(
    desk: tuple[Any, DeskData], client: TestClient
) -> None:
    _, data = desk
    sign_in(client, "clerk")
    client.get(f"/documents/{data.filed_id}")
    sign_in(client, "auditor")
    page = client.get("/audit", params={"user": "clerk", "patient": "10000003"}).text
    assert "view" in page and "10000003" in page
    csv = client.get("/audit.csv", params={"user": "clerk", "order": "asc"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("id,at,actor,channel,client")
    assert all(",clerk," in line for line in lines[1:])


def test_supervisor_adds_and_disables_a_user_refusals_are_pages_not_errors(
    desk: tuple[Any, DeskData], client: TestClient
) -> None:
    sign_in(client, "supervisor")
    csrf = csrf_of(client.get("/users").text)
    short = client.post(
        "/users", data={"name": "cy", "role": "clerk", "password": "short", "csrf_token": csrf}
    )
    assert short.status_code in (400, 409) and "password" in short.text
    added = client.post(
        "/users",
        data={"name": "cy", "role": "viewer", "password": "a long enough pass", "csrf_token": csrf},
    )
    assert added.status_code == 200 and ">cy<" in added.text
    gone = client.post("/users/cy/disable", data={"csrf_token": csrf})
    assert gone.status_code == 200 and "disabled" in gone.text
    assert sign_in(client, "cy", "a long enough pass").status_code == 401


def test_queue_oldest_first_with_counts_and_who_holds_what(
    desk: tuple[Any, DeskData], client: TestClient
) -> None:
    web, data = desk
    with TestClient(web, base_url="http://desk.test") as other:
        sign_in(other, "clerk2")
        other.get(f"/review/{data.review_ids[1]}")
    sign_in(client, "clerk")
    page = client.get("/review").text
    assert "3 waiting" in page and "ambiguous candidates: <strong>3</strong>" in page
    order = [page.index(f'href="/review/{i}"') for i in data.review_ids]
    assert order == sorted(order), "oldest first"
    assert "with clerk2" in page
