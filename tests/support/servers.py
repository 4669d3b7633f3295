"""Servers for tests: an app on uvicorn in a thread of the test process (``serving``; ``Served``
waits on its event hub), ``muster serve`` processes (``start_server``), free ports for both, and
``until``, the readiness check that polls a condition (such as ``started(hub)``) instead of
sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

import uvicorn

from app.events import EventHub

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class Endpoint:
    """A running server's base URL (and its GraphQL WebSocket URL)."""

    url: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"


@dataclasses.dataclass
class Served(Endpoint):
    """An app that ``serving`` runs in this process, with its event hub to wait on."""

    hub: EventHub

    async def feeds_started(self, count: int = 1, *, inboxes: bool = False) -> None:
        """Wait until exactly ``count`` live feeds are open here (see ``hub_feeds_started``)."""
        await hub_feeds_started(self.hub, count, inboxes=inboxes)


@dataclasses.dataclass
class Server(Endpoint):
    """A ``muster serve`` process."""

    process: subprocess.Popen
    log: Path
    output: IO[str]

    def stop(self, timeout: float = 15) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.output.close()


@contextlib.contextmanager
def serving(app, port: int):
    """``app`` on a real uvicorn in a thread of this process (so a test can look inside it, and
    write to its database meanwhile); its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def start_server(database_url: str, log: Path, **env: str) -> Server:
    port = free_port()
    environ = {
        **os.environ,
        "MUSTER_DATABASE_URL": database_url,
        "MUSTER_SECRET_KEY": "s" * 32,
        "MUSTER_BASE_URL": f"http://127.0.0.1:{port}",
        **env,
    }
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=environ, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url + "/healthz", timeout=2)
            return Server(url, process, log, handle)
        time.sleep(0.1)
    raise AssertionError("server did not start: " + log.read_text())


def started(hub, *, inboxes: bool = False) -> int:
    """How many event feeds (``inboxes``: inbox feeds) have their starting position, so that every
    event (inbox change) after now reaches them."""
    return sum(s.started for s in feeds(hub, inboxes=inboxes))


def feeds(hub, *, inboxes: bool = False) -> list:
    """The hub's event feeds, or (``inboxes``) its inbox feeds, which take no events: every page's
    header opens one for its bell, beside the page's own event feed."""
    return [s for s in list(hub.subscribers) if s.takes_events is not inboxes]


async def hub_feeds_started(hub, count: int = 1, *, inboxes: bool = False) -> None:
    """Wait until exactly ``count`` live event feeds (``inboxes``: inbox feeds) are open on
    ``hub`` (earlier ones have left) and each knows its starting position, so every event (inbox
    change) committed from now on reaches them."""
    await until(
        lambda: len(feeds(hub, inboxes=inboxes)) == count and started(hub, inboxes=inboxes) == count
    )


async def until(condition, wait: float = 10) -> None:
    """Wait (polling the server thread's state) until ``condition()`` holds."""
    deadline = time.monotonic() + wait
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)
