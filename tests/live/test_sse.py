"""Server-sent events through a real uvicorn (in a thread, so the test can look at the hub)."""

import json

import httpx2

from app.models import TokenScope
from app.services import catalog, declarations, incidents
from tests.live.conftest import sse_messages, until


async def messages(response, count, wait=10):
    """Parse SSE messages (id, event, data) until ``count`` data messages arrived."""
    return await sse_messages(response.aiter_lines(), count, wait)


async def test_stream_resume_and_teardown(in_process, db, people, token):
    server = in_process()
    hub, url = server.hub, server.url
    secret = await token(people.viewer, TokenScope.READ)
    headers = {"Authorization": f"Bearer {secret}"}
    incident = await declarations.declare(db, actor=people.member, name="Streaming")
    async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
        async with http.stream("GET", "/live/events", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            await server.feeds_started()
            await incidents.add_note(
                db, actor=people.member, incident_id=incident.id, message="one"
            )
            [first] = await messages(response, 1)
        data = json.loads(first["data"])
        assert data["incidentEvents"]["summary"] == "Note: one"
        assert first["id"] == data["incidentEvents"]["cursor"]
        # The browser left: its subscription ended with it.
        await until(lambda: not hub.subscribers)
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="two")
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="three")
        resumed = {**headers, "Last-Event-ID": first["id"]}
        async with http.stream("GET", "/live/events", headers=resumed) as response:
            got = await messages(response, 2)
    assert [json.loads(m["data"])["incidentEvents"]["summary"] for m in got] == [
        "Note: two",
        "Note: three",
    ]


async def test_one_incident_and_privacy(in_process, db, people, token):
    server = in_process()
    url = server.url
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
            await server.feeds_started()
            await incidents.add_note(
                db, actor=people.member, incident_id=secret_incident.id, message="hush"
            )
            await incidents.add_note(db, actor=people.member, incident_id=public.id, message="hi")
            [only] = await messages(response, 1)
        assert json.loads(only["data"])["incidentEvents"]["summary"] == "Note: hi"


async def test_refusals(in_process, people, token):
    url = in_process().url
    secret = await token(people.viewer)
    async with httpx2.AsyncClient(base_url=url) as http:
        assert (await http.get("/live/events")).status_code == 401
        # Even with good credentials, a page of another site may not open a stream.
        stranger = await http.get(
            "/live/events",
            headers={"Origin": "https://evil.example", "Authorization": f"Bearer {secret}"},
        )
        assert stranger.status_code == 403
