"""The page tests: a client signed in through the dev sign-in as one of the cast, talking to the
app in process, with the page's CSRF token at hand.

Pages run on SQLite only: they reach the database only through the GraphQL API, whose tests run on
SQLite and PostgreSQL both, so a second run here would test the same SQL again at twice the cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import shutil
from pathlib import Path

import httpx2
import pytest

from app.config import Settings
from app.db import Touched
from tests.support.servers import free_port, hub_feeds_started, serving
from views.app import create_app

SITE = "http://127.0.0.1:8000"


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """An empty SQLite database with the default catalog (overrides the SQLite/PostgreSQL pair)."""
    path = tmp_path / "muster.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def csrf_of(page: str) -> str:
    """The CSRF token in a page's forms."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@dataclasses.dataclass
class Browser:
    """An httpx client with a Muster session; ``post`` sends forms as a same-origin page would."""

    http: httpx2.AsyncClient
    csrf: str

    async def get(self, url, **kwargs):
        return await self.http.get(url, **kwargs)

    async def post(self, url, data=None, *, htmx=False, **kwargs):
        headers = {"Origin": SITE, **kwargs.pop("headers", {})}
        if htmx:
            headers |= {"HX-Request": "true", "X-CSRF-Token": self.csrf}
        return await self.http.post(
            url, data={"csrf_token": self.csrf, **(data or {})}, headers=headers, **kwargs
        )


def dev_app(database_url: str, **env: str):
    environ = {
        "MUSTER_DATABASE_URL": database_url,
        "MUSTER_SECRET_KEY": "k" * 32,
        "MUSTER_BASE_URL": SITE,
        "MUSTER_DEV_LOGIN": "1",
        **env,
    }
    return create_app(Settings.from_env(environ))


def hearing(db, app):
    """``app``, told when the test's own writes change the public status page or what signed-in
    pages show, as it is when they are its own (the test writes through a ``Database`` of its
    own, as another process would; on PostgreSQL the hub hears those by NOTIFY, once started)."""
    db.on_touched[Touched.STATUS_PAGE].append(lambda _: app.state.services.status_pages.changed())
    db.on_touched[Touched.PAGES].append(app.state.services.pages.changed)
    return app


@pytest.fixture
async def browsers(db, database_url):
    """``async with browsers(user) as browser``: a browser signed in as ``user``."""
    app = hearing(db, dev_app(database_url))
    yield browsers_of(app)
    await app.state.services.db.dispose()


def browsers_of(app):
    """``async with browsers_of(app)(user) as browser``: a browser of ``app`` signed in as
    ``user``."""

    @contextlib.asynccontextmanager
    async def signed_in(user):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url=SITE) as http:
            page = await http.get("/auth/sign-in")
            answer = await http.post(
                "/auth/dev",
                data={"csrf_token": csrf_of(page.text), "email": user.email},
                headers={"Origin": SITE},
            )
            assert answer.status_code == 303, answer.text
            yield Browser(http, csrf_of((await http.get("/")).text))

    return signed_in


@pytest.fixture
def served_port() -> int:
    return free_port()


@pytest.fixture
def served_app(db, database_url, served_port):
    """The app that ``served`` runs; ``feeds_started(served_app)`` waits on its event hub."""
    return hearing(db, dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{served_port}"))


@pytest.fixture
def served(served_app, served_port):
    """The app on a real uvicorn (in a thread), with the dev sign-in; its base URL."""
    with serving(served_app, served_port) as url:
        yield url


async def feeds_started(app, count=1, *, inboxes=False):
    """Wait until exactly ``count`` live event feeds (``inboxes``: inbox feeds, like the header
    bell's) are open on ``app``'s event hub."""
    await hub_feeds_started(app.state.services.hub, count, inboxes=inboxes)


@contextlib.asynccontextmanager
async def signed_in(url, user):
    """An httpx client signed in to a served app as ``user`` through the dev sign-in."""
    async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
        page = await http.get("/auth/sign-in")
        answer = await http.post(
            "/auth/dev", data={"csrf_token": csrf_of(page.text), "email": user.email},
            headers={"Origin": url},
        )  # fmt: skip
        assert answer.status_code == 303
        yield http


BELL = '<hx-partial hx-target="#bell"'  # how a message of the header's bell begins


class Feed:
    """The messages of an SSE response, read with one line iterator throughout (a page's own
    stream also carries the header bell's messages: skipped, unless ``bell``)."""

    def __init__(self, response, *, bell=False):
        self.lines = response.aiter_lines()
        self.bell = bell

    async def next(self, wait=10) -> str:
        """The data of the next message (an empty message is "")."""
        data: list[str] = []
        started = False

        async def read() -> str:
            nonlocal started
            async for line in self.lines:
                if line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                    started = True
                elif not line and started:
                    message = "\n".join(data)
                    if self.bell or not message.lstrip().startswith(BELL):
                        return message
                    data.clear()
                    started = False
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(read(), wait)
