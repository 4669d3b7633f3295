"""The app factory: the one place that wires settings, the database and the routes together.

``create_app()`` builds everything from ``MUSTER_*`` settings (read once, here) and is what
``muster serve`` hands to uvicorn: the database, the identity provider (if configured), the
authenticator, the event hub, the GraphQL endpoint, the pages and static files, and the
middleware in front of them all (request ids, security headers, compression, body limits, the
public status page's per-address limit, sign-in before any page body is read, the CSRF guard,
and, outermost, the request timing ``/metrics`` shows),
and the status page's stored renderings, dropped whenever a write changes what it shows. It keeps
the services in one typed ``views.services.Services`` (``app.state.services``, which tests reach
in for too). The lifespan starts the hub and the background worker (``app.worker``, unless
``MUSTER_RUN_JOBS=0``) and disposes of the database engine on shutdown.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, Route, WebSocketRoute

from app.config import Settings
from app.db import Database, PoolBusy, Touched
from app.demo.chat import HOOK_PATH
from app.events import EventHub
from app.identity import Authenticator
from app.oidc import Provider
from app.services.sessions import Timeouts
from app.worker import Worker
from schema import build_schema
from views import (
    auth,
    busy,
    dashboard,
    declare,
    demo_chat,
    health,
    incident,
    incident_list,
    live,
    my_work,
    notifications,
    operations,
    pages,
    settings_page,
    status_internal,
    status_page,
    status_subscriptions,
    wall_screen,
)
from views.address_limits import PerAddress
from views.assets import Assets
from views.bodies import GRAPHQL_LIMIT, BodyLimit, Limit, SignedInForms, graphql_too_large
from views.browser import CSRFGuard
from views.graphql import GraphQLEndpoint
from views.headers import SecurityHeaders, policy, server_error
from views.metrics import Metrics, TimedRequests
from views.page_cache import SharedPages
from views.request_ids import RequestIds
from views.services import Services
from views.status_cache import StatusPages

STATIC = Path(__file__).resolve().parent.parent / "static"
GC_THRESHOLDS = (50_000, 20, 100)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    db = Database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout,
    )
    provider = Provider(settings.oidc) if settings.oidc else None
    authenticator = Authenticator(
        db, Timeouts(idle=settings.session_idle, absolute=settings.session_max), provider
    )
    hub = EventHub(db, authenticator=authenticator, feeds_per_person=settings.live_feeds_per_person)
    status_pages = StatusPages()
    # Copies kept in this process, dropped by writes here and (through the hub) elsewhere.
    # (Only what signed-in pages show can be reached narrowly: the rest is dropped for all.)
    db.on_touched[Touched.STATUS_PAGE].append(lambda _: status_pages.changed())
    db.on_touched[Touched.CREDENTIALS].append(lambda _: authenticator.forget())
    worker = Worker(db, settings) if settings.run_jobs else None
    pools = {"requests": db, **({"worker": worker.db} if worker is not None else {})}
    metrics = Metrics(token=settings.metrics_token, hub=hub, db=db, pools=pools)
    metrics.watch_cache("status", status_pages.drawings)
    metrics.watch_feeds("status_page", lambda: status_pages.watching)
    schema = build_schema(
        introspection=settings.graphiql,
        secret_key=settings.secret_key,
        email=settings.mail is not None,
    )
    web_operations = operations.load(schema)
    shared_pages = SharedPages(schema, web_operations)
    db.on_touched[Touched.PAGES].append(shared_pages.changed)
    metrics.watch_cache("pages", shared_pages.parts)
    graphql = GraphQLEndpoint(
        schema,
        db,
        graphiql=settings.graphiql,
        authenticator=authenticator,
        hub=hub,
        allowed_origins=settings.allowed_origins,
        subscriptions_per_socket=settings.subscriptions_per_socket,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Thousands of open streams make full garbage collections long (86 to 322 ms, every few
        # seconds, every delivery paused); collecting less often keeps live p99 under its bar
        # (docs/benchmarks.md, "Open dashboards over SSE").
        thresholds = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)
        await hub.start()
        if worker is not None:
            hub.on_wake.append(worker.wake)  # events committed by other processes, too
            await worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await hub.stop()
            if provider is not None:
                await provider.aclose()
            await db.dispose()
            gc.set_threshold(*thresholds)

    headers = policy(settings)
    demo_hooks = (HOOK_PATH,) if settings.demo else ()  # the demo's chat channel (signed posts)
    open_paths = (*demo_hooks, *status_subscriptions.OPEN_FORMS)  # posted to without sign-in
    assets = Assets(STATIC)
    pages.use_assets(assets)
    app = Starlette(
        routes=[
            Route("/healthz", health.healthz, name="healthz"),
            Route("/readyz", health.readyz, name="readyz"),
            Route("/metrics", metrics.endpoint, name="metrics"),
            Route("/graphql", graphql, name="graphql"),
            WebSocketRoute("/graphql", graphql),
            Route("/live/events", live.events, name="live-events"),
            *auth.routes(),
            *dashboard.routes(),
            *wall_screen.routes(),  # /live/wall-screen: TV mode's stream
            *declare.routes(),  # /incidents/new, before /incidents/{reference}
            *incident_list.routes(),
            *incident.routes(),
            *my_work.routes(),
            *notifications.routes(),
            *settings_page.routes(),
            *status_page.routes(),  # /status: the public pages need no sign-in
            *status_internal.routes(),
            *status_subscriptions.routes(),
            *(demo_chat.routes() if settings.demo else ()),
            Mount("/static", assets.files(), name="static"),
        ],
        middleware=[
            Middleware(TimedRequests, metrics=metrics),  # /metrics: every request, by route
            Middleware(RequestIds),
            Middleware(SecurityHeaders, headers=headers),
            Middleware(GZipMiddleware, compresslevel=6),  # passes text/event-stream as is
            Middleware(BodyLimit, paths={"/graphql": Limit(GRAPHQL_LIMIT, graphql_too_large)}),
            Middleware(
                PerAddress,  # anyone may open the status page: bounded per client address
                prefix="/status",
                skip=("/status/internal",),
                per_minute=settings.status_requests_per_minute,
            ),
            Middleware(
                PerAddress,  # each ask for email updates may send a mail: few per address
                prefix="/status/subscribe",
                skip=("/status/subscribe/confirm",),
                per_minute=status_subscriptions.ASKS_PER_MINUTE,
                methods=frozenset({"POST"}),
            ),
            Middleware(SignedInForms, api="/graphql", sign_in="/auth/", open_paths=open_paths),
            Middleware(CSRFGuard, settings=settings),
        ],
        exception_handlers={500: server_error(headers), PoolBusy: busy.pool_busy},
        lifespan=lifespan,
    )
    app.state.services = Services(
        settings=settings, db=db, authenticator=authenticator, hub=hub, provider=provider,
        schema=schema, operations=web_operations, pages=shared_pages, worker=worker,
        status_pages=status_pages,
    )  # fmt: skip
    return app
