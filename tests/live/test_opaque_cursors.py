"""SSE feeds on a real server resume only from cursors the server gave out: a forged or
Unicode-digit ``Last-Event-ID`` starts the feed from now (never a 500, never a replay of events
the forger picked)."""

import base64

import httpx2
import pytest

from app.config import Settings
from app.models import TokenScope
from app.services import declarations, incidents
from tests.live.test_sse import messages
from tests.support.servers import free_port, serving, started, until
from views.app import create_app


@pytest.fixture
def served(db, database_url):
    app = create_app(Settings(database_url=database_url, secret_key="s" * 32))
    with serving(app, free_port()) as url:
        yield app, url


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_a_forged_last_event_id_starts_from_now(served, db, people, token):
    app, url = served
    headers = {"Authorization": f"Bearer {await token(people.viewer, TokenScope.READ)}"}
    incident = await declarations.declare(db, actor=people.member, name="Streaming")
    await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="old")
    async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
        for forged in (b64("e:0"), b64("e:²"), b64("e:" + "9" * 40), "e:1", "x" * 500):
            resume = {**headers, "Last-Event-ID": forged}
            async with http.stream("GET", "/live/events", headers=resume) as response:
                assert response.status_code == 200, forged
                await until(
                    lambda: started(app.state.services.hub) == 1
                )  # the feed follows the hub: a note now is news
                await incidents.add_note(
                    db, actor=people.member, incident_id=incident.id, message=forged[:8]
                )
                [first] = await messages(response, 1)
            assert f'"Note: {forged[:8]}"' in first["data"], forged  # not a replay of "old"
            await until(lambda: not app.state.services.hub.subscribers)
