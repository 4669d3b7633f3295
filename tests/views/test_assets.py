"""Static files and compression on a real uvicorn: every page links content-hashed URLs that are
cached for a year, other URLs are revalidated; HTML, JSON and static files are compressed, and
an event stream through the whole middleware stack is not (its first event comes at once)."""

from __future__ import annotations

import hashlib
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest

from app.services import declarations, incidents
from tests.live.conftest import free_port, serving
from tests.pages.conftest import Feed, database_url, dev_app, signed_in  # noqa: F401

STATIC = Path(__file__).resolve().parents[2] / "static"
GZIP = {"Accept-Encoding": "gzip"}
CATALOG = "{ severities { id name description rank } statuses { id name category } }"


class Links(HTMLParser):
    """The URLs a page loads: stylesheets, icons and scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "link" and found.get("href"):
            self.urls.append(found["href"])
        if tag == "script":
            assert found.get("src"), "no inline script"
            self.urls.append(found["src"])


def links(page: str) -> list[str]:
    parser = Links()
    parser.feed(page)
    return parser.urls


@pytest.fixture
def served(db, database_url):  # noqa: F811
    port = free_port()
    app = dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}", MUSTER_GRAPHIQL="1")
    with serving(app, port) as url:
        yield url


async def test_pages_link_hashed_urls_cached_for_a_year(served, db, people):
    await declarations.declare(db, actor=people.member, name="Disk full")
    async with signed_in(served, people.member) as http:
        seen = set()
        for path in ("/", "/incidents", "/incidents/INC-1", "/incidents/new", "/me",
                     "/settings", "/auth/sign-in"):  # fmt: skip
            page = await http.get(path)
            assert page.status_code == 200, path
            seen.update(links(page.text))
        graphiql = await http.get("/graphql", headers={"Accept": "text/html"})
        seen.update(links(graphiql.text))
        assert len(seen) >= 12
        for url in seen:
            parts = urlsplit(url)
            assert parts.path.startswith("/static/"), url
            file = STATIC / parts.path.removeprefix("/static/")
            version = parse_qs(parts.query)["v"][0]
            assert version == hashlib.sha256(file.read_bytes()).hexdigest()[:12], url
            answer = await http.get(url)
            assert answer.status_code == 200
            assert answer.content == file.read_bytes()
            assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        # The same file without its hash, or with a stale one, is served but revalidated.
        for url in ("/static/muster.css", "/static/muster.css?v=0123456789ab"):
            answer = await http.get(url)
            assert answer.status_code == 200
            assert answer.content == (STATIC / "muster.css").read_bytes()
            assert answer.headers["cache-control"] == "no-cache"


async def test_html_json_and_static_files_are_compressed(served, db, people):
    async with signed_in(served, people.member) as http:
        for path, kind in (("/", "text/html"), ("/static/muster.css", "text/css"),
                           ("/static/vendor/htmx.min.js", "text/javascript"),
                           ("/graphql?" + urlencode({"query": CATALOG}), "application/json")):  # fmt: skip
            answer = await http.get(path, headers=GZIP)
            assert answer.status_code == 200, path
            assert answer.headers["content-type"].startswith(kind), path
            assert answer.headers["content-encoding"] == "gzip", path
            assert "accept-encoding" in answer.headers["vary"].lower(), path
        answer = await http.get("/graphql", params={"query": CATALOG}, headers=GZIP)
        assert int(answer.headers["content-length"]) < len(answer.content)  # sent smaller
        assert len(answer.json()["data"]["statuses"]) > 3


async def test_an_event_stream_is_not_compressed_and_comes_at_once(served, db, people):
    incident = await declarations.declare(db, actor=people.member, name="Disk full")
    async with signed_in(served, people.member) as http:
        query = '{ incident(reference: "INC-1") { timeline(first: 1) { edges { cursor } } } }'
        answer = await http.get("/graphql", params={"query": query})
        declared = answer.json()["data"]["incident"]["timeline"]["edges"][0]["cursor"]
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="Hm")
        started = time.monotonic()
        # Resuming after the declaration: the note is due at once, through gzip and the rest.
        async with http.stream(
            "GET", "/live/incidents/INC-1", headers={**GZIP, "Last-Event-ID": declared}
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in response.headers
            feed = Feed(response)
            first = await feed.next(wait=5)
            took = time.monotonic() - started
            assert "Hm" in first
            assert took < 2
            # And the next event, while the stream stays open.
            await incidents.add_note(
                db, actor=people.member, incident_id=incident.id, message="Found it"
            )
            second = await feed.next(wait=5)
            assert "Found it" in second


async def test_graphiql_is_served_from_here(served):
    async with httpx2.AsyncClient(base_url=served) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    urls = links(page.text)
    assert all(urlsplit(url).netloc == "" for url in urls), urls
    assert any("vendor/graphiql/graphiql.min.js" in url for url in urls)
