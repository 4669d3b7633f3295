"""``/metrics``: what an operator watches, in the Prometheus text format, from a registry of this
app's own (``Metrics``, made by the app factory, so several apps in one process never mix).

Requests are timed by ``TimedRequests``, a pure ASGI middleware in front of everything: one
histogram, ``muster_http_request_duration_seconds``, labelled by the route's path template
(``/incidents/{reference}``, never the path a client sent, so no one can grow the label set;
``unmatched`` for no route), the method (``other`` for one not in ``METHODS``) and the status
class (``2xx``); its ``_count`` is the request counter. An event stream is timed to its
headers, since its length is how long someone watched. Everything else is read when scraped:
open live feeds (the hub's subscribers, SSE and WebSocket alike, and the public status page's
live viewers), the hub's lag (the newest committed event against the newest it delivered), the
job queue's depth and how long its oldest due job has waited (one statement,
``app.jobs.depth``), connections in use per database pool, and each registered page cache's hits
and misses (``watch_cache``: anything with ``hits`` and ``misses`` counts). The database reads
get ``READ_TIMEOUT`` seconds; if they fail, their metrics are left out and
``muster_database_up`` says 0. Who may read it: with ``MUSTER_METRICS_TOKEN`` set, whoever sends
it as a bearer token (compared in constant time; else 401); unset, only loopback clients (the
connection's address, as uvicorn gives it; else 403, saying what to set).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.pool import QueuePool
from starlette.datastructures import Address
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import jobs
from app.db import Database
from app.events import EventHub

log = logging.getLogger(__name__)

UNMATCHED = "unmatched"  # the route label of a request no route matched
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STATUS_CLASSES = {0: "none", 1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
READ_TIMEOUT = 2.0  # seconds the scrape's database reads may take
STREAM = b"text/event-stream"


class Counts(Protocol):
    """A cache that counts: how often it served a stored copy, and how often it had to draw."""

    @property
    def hits(self) -> int: ...

    @property
    def misses(self) -> int: ...


@dataclasses.dataclass(frozen=True)
class _Read:
    """What a scrape read from the database."""

    committed: int  # the newest committed event's id
    depth: jobs.Depth
    oldest_due_age: float  # seconds the oldest due job has waited since it fell due (0: none)


class Metrics:
    """One app's metrics: its registry, the request histogram, and what is read at scrape time."""

    def __init__(
        self,
        *,
        token: str | None,
        hub: EventHub,
        db: Database,
        pools: Mapping[str, Database],
    ) -> None:
        self.token = token.encode() if token else None
        self.hub = hub
        self.db = db
        self.pools = dict(pools)
        self.caches: dict[str, Counts] = {}
        self.feeds: dict[str, Callable[[], int]] = {}  # open live feeds not through the hub
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "muster_http_request_duration_seconds",
            "HTTP requests by route template, method and status class, and how long they took "
            "(an event stream: to its headers).",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self._timers: dict[tuple[str, str, str], Any] = {}  # the histogram's children, by labels
        self._read: _Read | None = None
        self.registry.register(_Scraped(self))

    def watch_cache(self, name: str, cache: Counts) -> None:
        """Export ``cache``'s hits and misses under ``cache=name``."""
        self.caches[name] = cache

    def watch_feeds(self, kind: str, count: Callable[[], int]) -> None:
        """Count ``count()`` open live feeds of ``kind`` (ones the event hub does not hold)."""
        self.feeds[kind] = count

    def observe(self, route: str, method: str, status: str, seconds: float) -> None:
        key = (route, method, status)
        timer = self._timers.get(key)
        if timer is None:
            timer = self._timers[key] = self.requests.labels(route, method, status)
        timer.observe(seconds)

    async def endpoint(self, request: Request) -> Response:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                committed = await self.hub.newest_committed()
                depth = await jobs.depth(self.db)
                now = self.db.now()
            age = (now - depth.oldest_due).total_seconds() if depth.oldest_due else 0.0
            self._read = _Read(committed, depth, max(age, 0.0))
        except Exception as error:  # the database is down or too busy: say so, serve the rest
            log.warning("metrics: reading the database failed: %r", error)
            self._read = None
        return Response(
            generate_latest(self.registry),
            media_type=CONTENT_TYPE_LATEST,
            headers={"Cache-Control": "no-store"},
        )

    def refusal(self, request: Request) -> Response | None:
        """Why this request may not read the metrics (a response), or None if it may."""
        if self.token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            given_token = given.strip().encode()
            if scheme.lower() == "bearer" and hmac.compare_digest(given_token, self.token):
                return None
            return PlainTextResponse(
                "Send the metrics token (MUSTER_METRICS_TOKEN) as a bearer token.\n",
                401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        if is_loopback(request.client):
            return None
        return PlainTextResponse(
            "Metrics are served to this machine only; set MUSTER_METRICS_TOKEN to read them "
            "from elsewhere with that bearer token.\n",
            403,
        )


def is_loopback(client: Address | None) -> bool:
    """Whether the connection comes from this machine (127.0.0.0/8, ::1, or ::ffff:127.x)."""
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client.host)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return (mapped or address).is_loopback


class _Scraped:
    """The metrics read when scraped (a collector of ``Metrics.registry``)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        feeds = GaugeMetricFamily(
            "muster_live_feeds",
            "Open live feeds: events (SSE and WebSocket subscriptions), inbox (the header "
            "bell's), status_page (anonymous live status pages).",
            labels=("kind",),
        )
        subscribers = list(m.hub.subscribers)
        events = sum(1 for s in subscribers if s.takes_events)
        feeds.add_metric(("events",), events)
        feeds.add_metric(("inbox",), len(subscribers) - events)
        for kind, count in m.feeds.items():
            feeds.add_metric((kind,), count())
        yield feeds
        yield from self._hub_and_jobs(m)
        in_use = GaugeMetricFamily(
            "muster_database_pool_in_use", "Database connections checked out.", labels=("pool",)
        )
        size = GaugeMetricFamily(
            "muster_database_pool_size", "Database connections a pool may open.", labels=("pool",)
        )
        for name, db in m.pools.items():
            pool = db.engine.pool
            if isinstance(pool, QueuePool):
                in_use.add_metric((name,), pool.checkedout())
                size.add_metric((name,), pool.size())
        yield in_use
        yield size
        hits = CounterMetricFamily(
            "muster_page_cache_hits", "Pages served from a stored rendering.", labels=("cache",)
        )
        misses = CounterMetricFamily(
            "muster_page_cache_misses", "Pages drawn for want of one.", labels=("cache",)
        )
        for name, cache in m.caches.items():
            hits.add_metric((name,), cache.hits)
            misses.add_metric((name,), cache.misses)
        yield hits
        yield misses

    def _hub_and_jobs(self, m: Metrics) -> Iterator[Metric]:
        read = m._read
        yield GaugeMetricFamily(
            "muster_database_up",
            f"Whether this scrape's database reads answered within {READ_TIMEOUT:g} s.",
            value=int(read is not None),
        )
        delivered = m.hub.position
        if delivered >= 0:
            yield GaugeMetricFamily(
                "muster_hub_delivered_event_id",
                "The newest event the event hub has delivered to its feeds.",
                value=delivered,
            )
        if read is None:
            return
        yield GaugeMetricFamily(
            "muster_hub_committed_event_id", "The newest committed event.", value=read.committed
        )
        yield GaugeMetricFamily(
            "muster_hub_lag_events",
            "Events committed that the event hub has not delivered yet.",
            value=max(read.committed - max(delivered, 0), 0),
        )
        yield GaugeMetricFamily(
            "muster_jobs_queued", "Jobs in the queue, due or not.", value=read.depth.queued
        )
        yield GaugeMetricFamily("muster_jobs_due", "Jobs due now.", value=read.depth.due)
        yield GaugeMetricFamily(
            "muster_jobs_oldest_due_age_seconds",
            "How long the job that fell due first has waited since (0: none due).",
            value=read.oldest_due_age,
        )


class TimedRequests:
    """Times every HTTP request into ``Metrics.requests`` (the outermost middleware)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        timed = False

        async def timing(message: Message) -> None:
            nonlocal status, timed
            if message["type"] == "http.response.start":
                status = message["status"]
                if _streams(message):
                    timed = True
                    self._observe(scope, status, time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, timing)
        except BaseException:
            status = status or 500
            raise
        finally:
            if not timed:
                self._observe(scope, status, time.perf_counter() - start)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"]
        self.metrics.observe(
            _template(scope, status),
            method if method in METHODS else "other",
            STATUS_CLASSES.get(status // 100, "other"),
            seconds,
        )


def _streams(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name == b"content-type":
            return bool(value.startswith(STREAM))
    return False


def _template(scope: Scope, status: int) -> str:
    """The path template of the route that served the request (or would have, for a request a
    middleware answered before routing), else ``UNMATCHED``."""
    route = scope.get("route")
    if route is None:
        if status == 404:  # the router found none
            return UNMATCHED
        route = next(
            (r for r in scope["app"].router.routes if r.matches(scope)[0] is not Match.NONE), None
        )
    template = getattr(route, "path_format", None)
    return template if isinstance(template, str) else UNMATCHED
