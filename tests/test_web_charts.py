"""Chart completeness at the desk: worklist, encounter, complete/mark/waive, letters, report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clerk.app import App
from clerk.web.app import create_app
from records.deficiency_store import analyze
from records.encounters import import_encounters
from records.store import now
from tests.webkit import ADMIN, DeskData, cheap_password_hashing, csrf_of, seed, sign_in


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def desk(app: App, tmp_path: Path) -> Iterator[tuple[TestClient, DeskData]]:
    data = seed(app, tmp_path)
    discharged = now() - timedelta(days=10)
    admitted = discharged - timedelta(days=4)
    feed = tmp_path / "enc.csv"
    feed.write_text(
        "visit_number,mrn,class,admit_at,discharge_at,attending,procedure_start,procedure_end\n"
        f"V77,10000003,inpatient,{admitted.isoformat()},{discharged.isoformat()},D5|Hale; Iris,,\n"
    )
    import_encounters(app.store, feed, actor=ADMIN, now=now())
    analyze(app.store, app.settings.completeness, now=now())
    with TestClient(create_app(app), base_url="http://desk.test") as client:
        yield client, data


def post(client: TestClient, url: str, csrf: str, **form: Any) -> Any:
    return client.post(
        url,
        data={"csrf_token": csrf, **form},
        headers={"Origin": "http://desk.test"},
        follow_redirects=False,
    )


def test_worklist_encounter_and_the_acts(desk: tuple[TestClient, DeskData]) -> None:
    client, data = desk
    sign_in(client, "clerk")
    page = client.get("/worklist").text
    assert "V77" in page and "history physical" in page and "D5 (2)" in page
    assert client.get("/worklist?provider=D9").text.count("/encounter?visit=") == 0
    assert "V77" in client.get("/worklist?age=8-14").text
    encounter = client.get("/encounter?visit=V77")
    assert encounter.status_code == 200
    html = encounter.text
    assert "What is missing" in html and "discharge summary" in html
    assert 'action="/deficiencies/waive"' not in html  # a clerk may not waive
    # The seeded discharge summary has no visit number or date: patient-level, offered.
    assert f'<option value="{data.filed_id}"' in html
    csrf = csrf_of(html)
    rows = client.get("/worklist").text
    first = int(rows.split("<td>")[1].split("</td>")[0])  # oldest first: the first row
    done = post(
        client, "/deficiencies/complete", csrf, deficiency_id=first, document_id=data.filed_id
    )
    assert done.status_code == 303 and done.headers["location"] == "/encounter?visit=V77"
    assert "completed" in client.get("/encounter?visit=V77").text
    shown = client.get(f"/documents/{data.filed_id}").text
    assert "none (patient-level)" in shown and "service date" in shown
    assert (
        post(client, "/deficiencies/waive", csrf, deficiency_id=first, reason="x").status_code
        == 403
    )

    letter = post(client, "/letters", csrf, provider="D5")
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    assert letter.headers["content-type"] == "application/pdf"
    assert "courtesy" in client.get("/worklist").text
    none = post(client, "/letters", csrf, provider="D9")
    assert none.status_code == 409

    token = {"Authorization": f"Bearer {data.tokens['clerk']}"}
    api = client.get("/api/v1/deficiencies?encounter=V77", headers=token).json()
    assert {r["status"] for r in api} == {"open", "completed"}
    (visit,) = client.get("/api/v1/encounters?patient=10000003", headers=token).json()
    assert (visit["visit_number"], visit["attending_name"]) == ("V77", "Hale; Iris")
    auditor = {"Authorization": f"Bearer {data.tokens['auditor']}"}
    assert client.get("/api/v1/deficiencies", headers=auditor).status_code == 403

    report = client.get("/completeness").text
    assert "<svg" in report and "Delinquency rate" in report and "D5" in report


def test_a_supervisor_waives_and_a_viewer_sees_no_worklist(
    desk: tuple[TestClient, DeskData],
) -> None:
    client, _ = desk
    sign_in(client, "viewer")
    assert client.get("/worklist").status_code == 403
    assert client.get("/completeness").status_code == 403
    client.cookies.clear()
    sign_in(client, "supervisor")
    html = client.get("/encounter?visit=V77").text
    assert 'action="/deficiencies/waive"' in html
    first = int(client.get("/worklist").text.split("<td>")[1].split("</td>")[0])
    waived = post(
        client, "/deficiencies/waive", csrf_of(html), deficiency_id=first, reason="no H&P needed"
    )
    assert waived.status_code == 303
    assert "no H&amp;P needed" in client.get("/encounter?visit=V77").text
    assert client.get("/encounter?visit=NOPE").status_code == 404
