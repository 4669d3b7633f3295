"""Numbers in forms are ASCII digits: a Unicode digit is a clear form error, never a 500, and
never read as another number (``"٢١"`` is not 21)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Incident
from app.services import declarations
from tests.live.conftest import free_port, serving
from tests.pages.conftest import csrf_of, database_url, dev_app, signed_in  # noqa: F401


@pytest.fixture
def served(db, database_url):  # noqa: F811
    port = free_port()
    with serving(dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}"), port) as url:
        yield url


async def _row(db, incident_id: int) -> Incident:
    async with db.read() as session:
        return (
            await session.execute(select(Incident).where(Incident.id == incident_id))
        ).scalar_one()


@pytest.mark.parametrize("version", ["²", "٢", "\uff11", " 1", "1_0", "-1"])
async def test_a_version_in_other_digits_is_a_form_error(served, db, people, version):
    incident = await declarations.declare(db, actor=people.member, name="Disk full")
    async with signed_in(served, people.member) as http:
        csrf = csrf_of((await http.get("/incidents/INC-1")).text)
        answer = await http.post(
            "/incidents/INC-1/details",
            data={"csrf_token": csrf, "name": "Renamed", "summary": "", "version": version},
            headers={"Origin": served},
        )
    assert answer.status_code == 422
    assert "Muster could not read this form" in answer.text
    row = await _row(db, incident.id)
    assert (row.name, row.version) == ("Disk full", 1)


@pytest.mark.parametrize("promise", ["٢١", "²", "\uff11\uff15", "15 "])
async def test_a_promise_in_other_digits_is_a_form_error(served, db, people, promise):
    incident = await declarations.declare(db, actor=people.member, name="Slow search")
    async with signed_in(served, people.member) as http:
        csrf = csrf_of((await http.get("/incidents/INC-1")).text)
        answer = await http.post(
            "/incidents/INC-1/updates",
            data={"csrf_token": csrf, "message": "Looking", "next": promise},
            headers={"Origin": served},
        )
    assert answer.status_code == 422
    assert "Choose when the next update is due." in answer.text
    row = await _row(db, incident.id)
    assert (row.version, row.next_update_due_at) == (1, None)


async def test_a_rank_in_other_digits_is_a_form_error(served, db, people):
    async with signed_in(served, people.admin) as http:
        csrf = csrf_of((await http.get("/settings/severities")).text)
        answer = await http.post(
            "/settings/severities",
            data={"csrf_token": csrf, "name": "SEV9", "description": "", "rank": "٣"},
            headers={"Origin": served},
        )
        assert answer.status_code == 422
        assert "Rank must be a whole number" in answer.text
        assert "SEV9" not in (await http.get("/settings/severities")).text
