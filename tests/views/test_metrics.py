"""``/metrics`` through a real uvicorn and a real HTTP client, parsed as Prometheus parses it:
requests counted by route template (never the raw path), who may read it (the bearer token, or
loopback only when none is set; another address asked through the ASGI app directly), open live
feeds, the hub's lag, the job queue, the database pool and the status page's cache."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from starlette.datastructures import Address

from app import jobs
from app.config import ConfigError, Settings
from app.models import TimelineEvent, TokenScope
from app.services import declarations, tokens
from tests.support.servers import free_port, hub_feeds_started, serving, until
from views.app import create_app
from views.metrics import is_loopback

TOKEN = "metrics-token-" + "x" * 20
DURATION = "muster_http_request_duration_seconds"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def app_for(database_url: str, **settings):
    return create_app(
        Settings(database_url=database_url, secret_key="k" * 32, run_jobs=False, **settings)
    )


@contextlib.asynccontextmanager
async def served(app):
    with serving(app, free_port()) as url:
        async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
            yield http


async def scrape(http: httpx2.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, route: str, status: str, method: str = "GET") -> float:
    return value(samples, f"{DURATION}_count", route=route, method=method, status=status)


async def test_requests_are_counted_by_route_template_not_path(database_url):
    async with served(app_for(database_url)) as http:
        before = await scrape(http)
        for reference in ("INC-1", "INC-2", "INC-3"):
            await http.get(f"/incidents/{reference}")  # to sign in: 3xx
        await http.get("/healthz")
        await http.get("/no/such/page/123")
        await http.request("PROPFIND", "/healthz")
        # Answered by a middleware before routing: still its route's template.
        refused = await http.post("/incidents/INC-1/follow", data={"x": "1"})
        after = await scrape(http)
    assert requests(after, "/incidents/{reference}", "3xx") == 3
    assert requests(after, "/healthz", "2xx") == requests(before, "/healthz", "2xx") + 1
    assert requests(after, "unmatched", "4xx") == 1
    assert requests(after, "/healthz", "4xx", method="other") == 1
    assert refused.status_code >= 300
    status_class = f"{refused.status_code // 100}xx"
    assert requests(after, "/incidents/{reference}/follow", status_class, method="POST") == 1
    assert requests(after, "/metrics", "2xx") >= 1
    routes = {dict(labels).get("route") for name, labels in after if name.startswith(DURATION)}
    assert not any("INC-" in route or "/no/such" in route for route in routes if route)


async def test_token_right_wrong_and_missing(database_url):
    async with served(app_for(database_url, metrics_token=TOKEN)) as http:
        assert await scrape(http, authorization=f"Bearer {TOKEN}")
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
            refused = await http.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "muster_" not in refused.text


async def call(app, *, client: tuple[str, int], headers=()) -> tuple[int, bytes]:
    """``GET /metrics`` straight through the ASGI app, from ``client``."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/metrics", "raw_path": b"/metrics", "root_path": "",
        "query_string": b"", "headers": [(b"host", b"muster.test"), *headers],
        "client": client, "server": ("muster.test", 80),
    }  # fmt: skip
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


async def test_without_a_token_only_loopback_clients_may_read(database_url):
    app = app_for(database_url)
    async with served(app) as http:  # this client connects from 127.0.0.1
        assert value(await scrape(http), "muster_database_up") == 1
    status, body = await call(app, client=("203.0.113.7", 41000))
    assert status == 403
    assert b"MUSTER_METRICS_TOKEN" in body
    # A forwarded-for header is not believed.
    forwarded = [(b"x-forwarded-for", b"127.0.0.1")]
    assert (await call(app, client=("203.0.113.7", 41000), headers=forwarded))[0] == 403
    # With a token, the address does not matter: the token does.
    with_token = app_for(database_url, metrics_token=TOKEN)
    bearer = [(b"authorization", f"Bearer {TOKEN}".encode())]
    assert (await call(with_token, client=("127.0.0.1", 41000)))[0] == 401
    status, body = await call(with_token, client=("203.0.113.7", 41000), headers=bearer)
    assert status == 200 and b"muster_live_feeds" in body
    for services in (app.state.services, with_token.state.services):
        await services.db.dispose()


def test_loopback_addresses():
    for host in ("127.0.0.1", "127.8.0.1", "::1", "::ffff:127.0.0.1"):
        assert is_loopback(Address(host, 1))
    for host in ("203.0.113.7", "::ffff:10.0.0.1", "10.0.0.1", "testclient", "localhost", ""):
        assert not is_loopback(Address(host, 1))
    assert not is_loopback(None)


def test_a_short_token_is_refused():
    with pytest.raises(ConfigError, match="MUSTER_METRICS_TOKEN"):
        Settings.from_env({"MUSTER_SECRET_KEY": "k" * 32, "MUSTER_METRICS_TOKEN": "short"})
    settings = Settings.from_env({"MUSTER_SECRET_KEY": "k" * 32, "MUSTER_METRICS_TOKEN": TOKEN})
    assert settings.metrics_token == TOKEN
    assert TOKEN not in repr(settings)


async def test_an_open_event_stream_is_a_live_feed(db, database_url, people):
    app = app_for(database_url)
    secret = (await tokens.create_token(db, user=people.viewer, name="m", scope=TokenScope.READ))[1]
    async with served(app) as http:
        assert value(await scrape(http), "muster_live_feeds", kind="events") == 0
        bearer = {"Authorization": f"Bearer {secret}"}
        async with http.stream("GET", "/live/events", headers=bearer) as stream:
            assert stream.status_code == 200
            await hub_feeds_started(app.state.services.hub)
            during = await scrape(http)
        assert value(during, "muster_live_feeds", kind="events") == 1
        # Timed to its headers: counted while it is still open.
        assert requests(during, "/live/events", "2xx") == 1
        await until(lambda: not app.state.services.hub.subscribers)
        assert value(await scrape(http), "muster_live_feeds", kind="events") == 0


async def test_job_queue_depth_and_oldest_due_job(db, database_url):
    now = db.now()
    async with db.write() as session:
        await jobs.enqueue(session, "metrics-test", {}, now=now, run_at=now - timedelta(minutes=2))
        await jobs.enqueue(session, "metrics-test", {}, now=now, run_at=now + timedelta(hours=1))
    async with served(app_for(database_url, database_pool_size=7)) as http:
        samples = await scrape(http)
    assert value(samples, "muster_jobs_queued") == 2
    assert value(samples, "muster_jobs_due") == 1
    assert 110 < value(samples, "muster_jobs_oldest_due_age_seconds") < 600
    assert value(samples, "muster_database_pool_size", pool="requests") == 7
    assert 0 <= value(samples, "muster_database_pool_in_use", pool="requests") <= 7


async def test_hub_lag_closes_once_the_hub_delivers(db, database_url, people):
    app = app_for(database_url)
    async with served(app) as http:
        await declarations.declare(db, actor=people.member, name="Lagging")
        async with db.read() as session:
            newest = await session.scalar(select(func.max(TimelineEvent.id)))
        samples = await scrape(http)
        assert value(samples, "muster_hub_committed_event_id") == newest
        await until(lambda: app.state.services.hub.position == newest)
        samples = await scrape(http)
    assert value(samples, "muster_hub_delivered_event_id") == newest
    assert value(samples, "muster_hub_lag_events") == 0


async def test_status_page_cache_hits_and_misses(database_url):
    async with served(app_for(database_url)) as http:
        for _ in range(3):
            assert (await http.get("/status")).status_code == 200
        samples = await scrape(http)
    assert value(samples, "muster_page_cache_misses_total", cache="status") == 1
    assert value(samples, "muster_page_cache_hits_total", cache="status") == 2
