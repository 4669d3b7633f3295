"""Server-sent events through a real uvicorn (in a thread, so the test can look at the hub)."""

import asyncio
import json

import httpx2
import pytest

from app.config import Settings
from app.models import TokenScope
from app.services import catalog, declarations, incidents
from tests.live.conftest import sse_messages
from tests.support.servers import free_port, serving
from views.app import create_app


@pytest.fixture
def served(db, database_url):
    app = create_app(Settings(database_url=database_url, secret_key="s" * 32))
    with serving(app, free_port()) as url:
        yield app, url


async def messages(response, count, wait=10):
    """Parse SSE messages (id, event, data) until ``count`` data messages arrived."""
    return await sse_messages(response.aiter_lines(), count, wait)


async def test_stream_resume_and_teardown(served, db, people, token):
    app, url = served
    hub = app.state.hub
    secret = await token(people.viewer, TokenScope.READ)
    headers = {"Authorization": f"Bearer {secret}"}
    incident = await declarations.declare(db, actor=people.member, name="Streaming")
    async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
        async with http.stream("GET", "/live/events", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            await asyncio.sleep(0.5)
            assert len(hub.subscribers) == 1
            await incidents.add_note(
                db, actor=people.member, incident_id=incident.id, message="one"
            )
            [first] = await messages(response, 1)
        data = json.loads(first["data"])
        assert data["incidentEvents"]["summary"] == "Note: one"
        assert first["id"] == data["incidentEvents"]["cursor"]
        # The browser left: its subscription ended with it.
        for _ in range(50):
            if not hub.subscribers:
                break
            await asyncio.sleep(0.1)
        assert not hub.subscribers
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="two")
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="three")
        resumed = {**headers, "Last-Event-ID": first["id"]}
        async with http.stream("GET", "/live/events", headers=resumed) as response:
            got = await messages(response, 2)
    assert [json.loads(m["data"])["incidentEvents"]["summary"] for m in got] == [
        "Note: two",
        "Note: three",
    ]


async def test_one_incident_and_privacy(served, db, people, token):
    _, url = served
    async with db.read() as session:
        security = next(
            t for t in await catalog.list_incident_types(session) if t.name == "Security"
        )
    secret_incident = await declarations.declare(
        db, actor=people.member, name="Hush", type_id=security.id
    )
    public = await declarations.declare(db, actor=people.member, name="Open")
    from schema import ids

    outsider = {"Authorization": f"Bearer {await token(people.admin, TokenScope.READ)}"}
    async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
        hidden = await http.get(
            "/live/events", params={"incident": ids.encode("Incident", secret_incident.id)},
            headers=outsider,
        )  # fmt: skip
        missing = await http.get(
            "/live/events", params={"incident": ids.encode("Incident", 99_999)}, headers=outsider
        )
        assert hidden.text.replace("\r", "") == missing.text.replace("\r", "")
        assert "No incident with that id" in hidden.text
        async with http.stream("GET", "/live/events", headers=outsider) as response:
            await asyncio.sleep(0.5)
            await incidents.add_note(
                db, actor=people.member, incident_id=secret_incident.id, message="hush"
            )
            await incidents.add_note(db, actor=people.member, incident_id=public.id, message="hi")
            [only] = await messages(response, 1)
        assert json.loads(only["data"])["incidentEvents"]["summary"] == "Note: hi"


async def test_refusals(served, people, token):
    _, url = served
    secret = await token(people.viewer)
    async with httpx2.AsyncClient(base_url=url) as http:
        assert (await http.get("/live/events")).status_code == 401
        # Even with good credentials, a page of another site may not open a stream.
        stranger = await http.get(
            "/live/events",
            headers={"Origin": "https://evil.example", "Authorization": f"Bearer {secret}"},
        )
        assert stranger.status_code == 403
