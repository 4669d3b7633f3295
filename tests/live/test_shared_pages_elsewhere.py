"""Shared page drawings across processes (PostgreSQL): a change another process commits reaches
this process's stored drawings through the event hub (``NOTIFY`` on ``Touched.PAGES``), so the
dashboard and the incident page show it within moments, not when the stored drawing would have
been drawn again anyway (``page_cache.FRESH_FOR``, 15 s)."""

from __future__ import annotations

import time

import pytest

from app.services import declarations, incidents
from tests.pages.conftest import dev_app, signed_in
from tests.support.html import parse, texts
from tests.support.servers import free_port, serving
from views.page_cache import FRESH_FOR

BOARD = "#board .incident-row .title a"
WAIT = 5.0  # seconds: well inside FRESH_FOR, so only the hub's word can make it


async def shown(http, path, check) -> float:
    """Seconds until ``check`` holds for the page at ``path`` (asked again until it does)."""
    started = time.monotonic()
    while not check(parse((await http.get(path)).text)):
        assert time.monotonic() - started < WAIT, f"{path} was still served stale"
    return time.monotonic() - started


async def test_a_change_written_elsewhere_is_not_served_stale(db, people):
    if db.is_sqlite:
        pytest.skip("NOTIFY is PostgreSQL's; one process writes a SQLite database")
    assert WAIT < FRESH_FOR
    port = free_port()
    app = dev_app(db.url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}", MUSTER_RUN_JOBS="0")
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    page = f"/incidents/{incident.reference}"
    update = "Rolled back the release."
    with serving(app, port) as url:
        async with signed_in(url, people.viewer) as http:
            assert texts(parse((await http.get("/")).text), BOARD) == ["Checkout down"]
            assert update not in (await http.get(page)).text  # both drawn and stored

            # `db` is another process's: this app hears of its writes only by NOTIFY.
            await declarations.declare(db, actor=people.member, name="Payments failing")
            await incidents.share_update(
                db, actor=people.member, incident_id=incident.id, message=update,
                next_update_in_minutes=30,
            )  # fmt: skip
            both = ["Checkout down", "Payments failing"]
            await shown(http, "/", lambda tree: sorted(texts(tree, BOARD)) == both)
            await shown(http, page, lambda tree: update in tree.html)
