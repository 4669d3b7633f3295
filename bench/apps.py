"""The servers bench/graphql_list.py compares, as uvicorn factories (settings from MUSTER_*).

- ``raw``: a plain Starlette + SQLAlchemy JSON endpoint returning what the GraphQL query asks for,
  with the same authentication and the same list service (the baseline);
- ``limits_off``: Muster's GraphQL server with its limits (depth, aliases, one operation, cost,
  time) and error masking taken out (the document cache kept), to price the limits;
- ``naive``: a plain Strawberry schema over the same types: no document cache, no limits.
Muster itself is ``views.app:create_app``.
"""

from __future__ import annotations

import os
from typing import Any

import strawberry
from graphql import specified_rules
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from app.config import Settings
from app.db import Database
from app.identity import Authenticator
from app.models import (
    Incident,
    IncidentRole,
    IncidentType,
    IncidentUpdate,
    RoleAssignment,
    RoleKind,
    Severity,
    Status,
    User,
)
from app.services.incident_queries import IncidentFilter, list_incidents
from app.services.sessions import Timeouts
from schema import Mutation, Query
from schema.limits import CachedDocuments, MusterSchema
from views.app import create_app
from views.graphql import GraphQLEndpoint


def raw() -> Starlette:
    settings = Settings.from_env(os.environ)
    db = Database(settings.database_url)
    authenticator = Authenticator(db, Timeouts(settings.session_idle, settings.session_max))

    async def incidents(request: Request) -> JSONResponse:
        principal = await authenticator.from_authorization(request.headers.get("authorization"))
        if principal is None:
            return JSONResponse({"error": "unauthenticated"}, 401)
        async with db.read() as session:
            rows, _ = await list_incidents(session, principal.user, IncidentFilter(), first=20)
            ids = [row.id for row in rows]
            severities = {s.id: s for s in await session.scalars(select(Severity))}
            statuses = {s.id: s for s in await session.scalars(select(Status))}
            types = {t.id: t for t in await session.scalars(select(IncidentType))}
            leads = {
                incident: user
                for incident, user in await session.execute(
                    select(RoleAssignment.incident_id, User)
                    .join(User, User.id == RoleAssignment.user_id)
                    .join(IncidentRole, IncidentRole.id == RoleAssignment.role_id)
                    .where(RoleAssignment.incident_id.in_(ids), IncidentRole.kind == RoleKind.LEAD)
                )
            }
            newest = (
                select(func.max(IncidentUpdate.id))
                .where(IncidentUpdate.incident_id.in_(ids))
                .group_by(IncidentUpdate.incident_id)
            )
            updates = {
                u.incident_id: u
                for u in await session.scalars(
                    select(IncidentUpdate).where(IncidentUpdate.id.in_(newest))
                )
            }
        return JSONResponse(
            [_incident(r, severities, statuses, types, leads, updates) for r in rows]
        )

    app = Starlette(routes=[Route("/incidents", incidents)])
    return app


def _incident(
    row: Incident, severities: Any, statuses: Any, types: Any, leads: Any, updates: Any
) -> dict[str, Any]:
    lead, update = leads.get(row.id), updates.get(row.id)
    return {
        "reference": row.reference,
        "name": row.name,
        "status": {
            "name": statuses[row.status_id].name,
            "category": statuses[row.status_id].category.name,
        },
        "severity": {
            "name": severities[row.severity_id].name,
            "rank": severities[row.severity_id].rank,
        },
        "type": {"name": types[row.type_id].name},
        "lead": {"name": lead.name, "email": lead.email} if lead else None,
        "latestUpdate": {"message": update.message, "createdAt": update.created_at.isoformat()}
        if update
        else None,
    }


def _with_schema(schema: Any) -> Starlette:
    app = create_app()
    endpoint = GraphQLEndpoint(
        schema,
        app.state.services.db,
        graphiql=False,
        authenticator=app.state.services.authenticator,
    )
    for route in app.router.routes:
        if getattr(route, "path", "") == "/graphql":
            route.app = endpoint  # type: ignore[attr-defined]
    return app


class _NoLimits(MusterSchema):
    """Muster's schema without its validation rules, cost limit, time limit and masking."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, introspection=True, **kwargs)
        self.validation_rules = tuple(specified_rules)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await strawberry.Schema.execute(self, *args, **kwargs)


def limits_off() -> Starlette:
    return _with_schema(_NoLimits(query=Query, mutation=Mutation, extensions=[CachedDocuments]))


def naive() -> Starlette:
    return _with_schema(strawberry.Schema(query=Query, mutation=Mutation))


def broadcast() -> Starlette:
    """A bare WebSocket broadcast: what one message to every socket costs without Muster."""
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: set[WebSocket] = set()

    async def listen(websocket: WebSocket) -> None:
        await websocket.accept()
        sockets.add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            sockets.discard(websocket)

    async def trigger(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive_bytes()
                text = message.decode()
                for socket in list(sockets):
                    await socket.send_text(text)
        except WebSocketDisconnect:
            pass

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            WebSocketRoute("/ws", listen),
            WebSocketRoute("/trigger", trigger),
        ]
    )
