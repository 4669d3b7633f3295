"""The public status page stays up when everyone opens it at once: it is drawn once per change
(no database work for the next visitors, whatever query string they add), revalidated with an
ETag (304), sent gzipped once compressed, drawn again the moment a change commits, limited per
client address, and live over server-sent events for anonymous viewers, every one of them sent
the same bytes."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx2
import pytest
from sqlalchemy import event

from app.models import ComponentStatus, TokenScope
from app.services import status_components, tokens
from tests.app.test_status_public import component, status_incident
from tests.pages.conftest import SITE, dev_app, hearing
from tests.support.html import parse, text_of
from tests.support.servers import free_port, serving
from views.address_limits import client_key
from views.status_cache import Drawn, StatusPages

S = ComponentStatus


@contextlib.contextmanager
def statements(app):
    """The SQL statements the app's own database runs meanwhile."""
    run: list[str] = []
    engine = app.state.services.db.engine.sync_engine

    def record(_conn, _cursor, statement, *_args):
        run.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield run
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
async def site(db, database_url):
    app = hearing(db, dev_app(database_url))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=SITE) as http:
        yield app, http
    await app.state.services.db.dispose()


PAGES = [
    "/status",
    "/status/history",
    "/status/feed.atom",
    "/status/api/v2/summary.json",
    "/status/api/v2/components.json",
    "/status/api/v2/incidents.json",
]


async def test_each_page_is_drawn_once_and_then_served_without_the_database(db, site):
    app, http = site
    api = await component(db, "API", status=S.PARTIAL_OUTAGE)
    await status_incident(db, "Slow API", affected=[(api, S.PARTIAL_OUTAGE)], messages=["Slow."])
    first = {path: (await http.get(path)).content for path in PAGES}
    with statements(app) as run:
        for path in PAGES:
            for query in ("", "?x=1", "?utm_source=mail&x=2"):
                again = await http.get(path + query)
                assert again.status_code == 200 and again.content == first[path]
        asked = await asyncio.gather(*(http.get("/status") for _ in range(20)))
    assert all(a.content == first["/status"] for a in asked)
    assert run == []
    # A query the page reads is drawn once, then stored too.
    with statements(app) as run:
        assert (await http.get("/status/history?after=no")).status_code == 303
    assert run
    with statements(app) as run:
        assert (await http.get("/status/history?after=no&x=1")).status_code == 303
    assert run == []


async def test_a_change_is_served_at_once_and_concurrent_visitors_share_one_drawing(
    db, people, site
):
    app, http = site
    api = await component(db, "API")
    before = await http.get("/status")
    assert "All systems operational" in text_of(parse(before.text).css_first("#overall"))
    await status_components.update_component(
        db, actor=people.admin, component_id=api, status=S.MAJOR_OUTAGE
    )
    with statements(app) as run:
        asked = await asyncio.gather(*(http.get("/status") for _ in range(30)))
    assert {a.content for a in asked} == {asked[0].content}
    assert text_of(parse(asked[0].text).css_first("#overall")) == "Major system outage."
    assert asked[0].headers["etag"] != before.headers["etag"]
    with statements(app) as once:
        await http.get("/status/api/v2/status.json")
    assert len(run) <= len(once) + 2  # thirty visitors, one drawing (give or take a ping)


async def test_etag_304_and_gzip(db, site):
    _, http = site
    await component(db, "API")
    plain = await http.get("/status", headers={"Accept-Encoding": "identity"})
    etag = plain.headers["etag"]
    assert plain.headers["cache-control"].startswith("public")
    assert "content-encoding" not in plain.headers
    again = await http.get("/status", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = await http.get("/status", headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200
    packed = await http.get("/status", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # as httpx decoded it
    raw = packed.headers.get("content-length")
    assert raw is not None and int(raw) < len(plain.content) / 2
    summary = await http.get("/status/api/v2/summary.json")
    assert json.loads(summary.content)["status"]["indicator"] == "none"


async def test_a_rendering_is_drawn_again_when_the_clock_moves_on():
    now = [0.0]
    pages = StatusPages(fresh_for=15, clock=lambda: now[0])
    drawn: list[int] = []

    async def draw():
        from starlette.responses import HTMLResponse

        drawn.append(1)
        return Drawn(HTMLResponse(f"<p>{len(drawn)}</p>"), live=f"<b>{len(drawn)}</b>")

    first = await pages.stored("/status", draw)
    assert (await pages.stored("/status", draw)) is first
    now[0] = 14.9
    assert (await pages.stored("/status", draw)) is first
    now[0] = 15.0
    second = await pages.stored("/status", draw)
    assert second.body == b"<p>2</p>" and second.live_id != first.live_id
    waiting = pages.next_change()
    pages.changed()
    await asyncio.wait_for(waiting, 1)
    assert (await pages.stored("/status", draw)).body == b"<p>3</p>"


async def test_who_asks_after_a_change_never_gets_a_drawing_begun_before_it():
    pages = StatusPages()
    data = ["before"]
    started, again, go_on = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def draw():
        from starlette.responses import HTMLResponse

        read = data[0]  # what the database held when the drawing read it
        (again if started.is_set() else started).set()
        await go_on.wait()
        return Drawn(HTMLResponse(f"<p>{read}</p>"), live=f"<b>{read}</b>")

    slow = asyncio.ensure_future(pages.stored("/status", draw))  # a viewer's, under way
    await started.wait()
    data[0] = "after"  # a change commits meanwhile
    pages.changed()
    woken = asyncio.ensure_future(pages.stored("/status", draw))  # a live viewer, woken by it
    # It draws anew while the first drawing is still under way (joining it, it would never).
    await asyncio.wait_for(again.wait(), 1)
    go_on.set()
    assert (await asyncio.wait_for(woken, 1)).body == b"<p>after</p>"
    assert (await slow).body == b"<p>before</p>"  # its own asker gets it, and it is not kept
    assert (await pages.stored("/status", draw)).body == b"<p>after</p>"


async def test_keys_are_bounded():
    pages = StatusPages(entries=3)

    async def draw():
        from starlette.responses import HTMLResponse

        return HTMLResponse("x")

    for n in range(10):
        await pages.stored(f"/status/incidents/{n}", draw)
    assert len(pages.drawings) == 3


def test_client_addresses_are_counted_by_host_and_ipv6_by_64():
    assert client_key("203.0.113.9") == "203.0.113.9"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert client_key(None) == "unknown"


async def test_requests_are_limited_per_address(db, database_url):
    app = dev_app(database_url, MUSTER_STATUS_REQUESTS_PER_MINUTE="5")
    await component(db, "API")
    try:
        one = httpx2.ASGITransport(app=app, client=("203.0.113.9", 1000))
        other = httpx2.ASGITransport(app=app, client=("198.51.100.7", 1000))
        async with (
            httpx2.AsyncClient(transport=one, base_url=SITE) as http,
            httpx2.AsyncClient(transport=other, base_url=SITE) as elsewhere,
        ):
            answers = [await http.get("/status") for _ in range(5)]
            assert [a.status_code for a in answers] == [200] * 5
            refused = await http.get("/status/api/v2/status.json")
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert (await elsewhere.get("/status")).status_code == 200
            assert (await http.get("/healthz")).status_code == 200  # only the public pages
            assert (await http.get("/status/internal")).status_code != 429
    finally:
        await app.state.services.db.dispose()


@pytest.fixture
def live_site(db, database_url):
    port = free_port()
    app = hearing(db, dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}"))
    with serving(app, port) as url:
        yield app, url


async def _messages(response):
    """Parsed server-sent events: (id, data) as they come."""
    found: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line.startswith("id: "):
            found["id"] = line[4:]
        elif line.startswith("data: "):
            found["data"] = found.get("data", "") + line[6:] + "\n"
        elif line == "" and "data" in found:
            yield found["id"], found["data"]
            found = {}


async def test_anonymous_viewers_get_each_change_live_the_same_bytes(db, people, live_site):
    app, url = live_site
    await component(db, "API")
    async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
        page = parse((await http.get("/status")).text)
        feed = page.css_first("[hx-sse\\:connect]").attributes["hx-sse:connect"]
        assert feed.startswith("/status/live?seen=")
        async with contextlib.AsyncExitStack() as stack:
            streams = [await stack.enter_async_context(http.stream("GET", feed)) for _ in range(3)]
            assert all(s.status_code == 200 for s in streams)
            assert streams[0].headers["content-type"].startswith("text/event-stream")
            assert "set-cookie" not in streams[0].headers
            readers = [_messages(s) for s in streams]
            # Support changes it through the API, as a person would (served by the same app).
            _, secret = await tokens.create_token(
                db, user=people.admin, name="t", scope=TokenScope.READ_WRITE
            )
            bearer = {"Authorization": f"Bearer {secret}"}
            found = await http.post("/graphql", json={"query": "{ statusComponents { id } }"},
                                    headers=bearer)  # fmt: skip
            [row] = found.json()["data"]["statusComponents"]
            changed = await http.post("/graphql", headers=bearer, json={
                "query": "mutation($id: ID!) { updateStatusComponent(input: {componentId: $id, "
                         "status: MAJOR_OUTAGE}) { userErrors { message } } }",
                "variables": {"id": row["id"]},
            })  # fmt: skip
            assert changed.json()["data"]["updateStatusComponent"]["userErrors"] == []
            got = [await asyncio.wait_for(anext(r), 10) for r in readers]
        assert len({data for _, data in got}) == 1  # the same message for everyone
        event_id, data = got[0]
        partial = parse(data)
        assert "Major system outage." in text_of(partial.css_first("#overall"))
        assert partial.css_first("hx-partial").attributes["hx-target"] == "#status-live"
        # Coming back with what one has: nothing is sent until the next change.
        async with http.stream("GET", "/status/live", headers={"Last-Event-ID": event_id}) as s:
            reader = _messages(s)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(reader), 1)
        # Coming back with something older: the page as it is now, at once.
        async with http.stream("GET", "/status/live?seen=old") as s:
            assert (await asyncio.wait_for(anext(_messages(s)), 5))[0] == event_id
        missing = await http.get("/status/incidents/nothing-here/live")
        assert missing.status_code == 204  # nothing to watch: the browser does not come back
    assert app.state.services.status_pages.watching == 0


async def test_live_viewers_are_capped_per_process(db, database_url):
    port = free_port()
    app = dev_app(
        database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}", MUSTER_STATUS_LIVE_VIEWERS="1"
    )
    await component(db, "API")
    with serving(app, port) as url:
        async with (
            httpx2.AsyncClient(base_url=url, timeout=20) as http,
            http.stream("GET", "/status/live") as first,
        ):
            assert first.status_code == 200
            second = await http.get("/status/live")
            assert second.status_code == 503 and second.headers["retry-after"]
