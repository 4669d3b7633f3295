"""The public status page's live stream for a viewer whose stream opens only after the page
changed (the page drawn, then a change committed, then the browser's stream connecting): it is
sent the page as it is now at once, since the page it has names the fragment it was drawn with
(``?seen=``); one whose page is current is sent nothing until the next change."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from app.models import ComponentStatus, StatusComponent
from tests.app.test_status_public import component
from tests.support.html import parse, text_of
from tests.views.test_status_cache import _messages, live_site  # noqa: F401 (a fixture)


def feed_of(html: str) -> str:
    return parse(html).css_first("[hx-sse\\:connect]").attributes["hx-sse:connect"] or ""


async def test_a_viewer_whose_stream_opens_after_a_change_gets_the_page_as_it_is_now(
    db,
    live_site,  # noqa: F811
):
    _, url = live_site
    api = await component(db, "API")
    async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
        drawn_before = feed_of((await http.get("/status")).text)
        async with db.write() as session:
            row = await session.get(StatusComponent, api)
            assert row is not None
            row.status = ComponentStatus.MAJOR_OUTAGE
        drawn_after = feed_of((await http.get("/status")).text)
        assert drawn_after != drawn_before

        async with http.stream("GET", drawn_before) as late:
            event_id, data = await asyncio.wait_for(anext(_messages(late)), 5)
        assert "Major system outage." in text_of(parse(data).css_first("#overall"))
        assert drawn_after.endswith(f"?seen={event_id}")

        async with http.stream("GET", drawn_after) as current:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(_messages(current)), 1)
