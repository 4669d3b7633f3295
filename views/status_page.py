"""The status page customers read without signing in: ``/status`` (the overall state, components
by group with their 90-day uptime, open incidents, upcoming maintenance), ``/status/incidents/<id>``
and the paged ``/status/history``; the same in Atlassian Statuspage's public API v2 format under
``/status/api/v2/`` (``summary``, ``status``, ``components``, ``incidents``,
``scheduled-maintenances``) and an Atom feed at ``/status/feed.atom``. All of them read only
through the ``PublicStatus…`` operations, run in process as a viewer who may see nothing (never
as whoever is signed in), and draw nothing from the request but its URL: every visitor gets the
same bytes, no cookie is read for them or set: so each is drawn once per change and served from
``views.status_cache`` (``shared``), and ``/status`` and an incident's page carry a ``live``
block that ``views.status_live`` sends their open copies when it changes. ``/status/internal``,
the same page for signed-in people with the internal-only components too, is
``views.status_internal``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import markupsafe
from jinja2_fragments import render_block
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.config import origin
from app.identity import Credential, CredentialKind, Principal
from app.models import ComponentStatus, StatusIncidentState, TokenScope
from app.services import status_public
from schema.context import nobody
from views.headers import policy
from views.pages import TEMPLATES, OperationFailed, run_as, template_text
from views.services import services
from views.status_cache import Draw, Drawn, answer, digest
from views.status_live import Watch

STATUSES = {status.name: status.label for status in ComponentStatus}
STATES = {state.name: state.label for state in StatusIncidentState}
_IMPACT = {
    "OPERATIONAL": 0,
    "DEGRADED_PERFORMANCE": 1,
    "UNDER_MAINTENANCE": 1,
    "PARTIAL_OUTAGE": 2,
    "MAJOR_OUTAGE": 3,
}
_IMPACT_NAMES = ["none", "minor", "major", "critical"]
# Statuspage's own words for the overall state, which its consumers show as they are.
_API_INDICATORS = {
    "NONE": "All Systems Operational",
    "MINOR": "Minor Service Outage",
    "MAJOR": "Partial System Outage",
    "CRITICAL": "Major Service Outage",
}
_API_DESCRIPTIONS = {status_public.UNDER_MAINTENANCE: "Service Under Maintenance"}
HISTORY_PAGE = 20
ATOM = "http://www.w3.org/2005/Atom"


def _anonymous() -> Principal:
    """Whoever opens the public page: someone who may see nothing internal."""
    return Principal(nobody(), TokenScope.READ, Credential(CredentialKind.SESSION, 0))


async def _read(request: Request, operation: str, **variables: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await run_as(request, _anonymous(), operation, variables))[
        "publicStatus"
    ]
    return data


def _site(request: Request) -> str:
    return services(request).settings.base_url.rstrip("/")


def _safe(url: str | None, *, schemes: tuple[str, ...]) -> str | None:
    """A link from the settings only if it is of a scheme a page may link to (never
    ``javascript:``), or a path on this site."""
    if not url:
        return None
    lowered = url.strip().lower()
    if lowered.startswith(schemes) or (lowered.startswith("/") and not lowered.startswith("//")):
        return url.strip()
    return None


def links(data: dict[str, Any]) -> dict[str, Any]:
    """The page's settings with their links made safe to draw."""
    return data | {
        "supportUrl": _safe(data.get("supportUrl"), schemes=("https://", "http://", "mailto:")),
        "logoUrl": _safe(data.get("logoUrl"), schemes=("https://", "http://")),
    }


def email_updates(request: Request) -> bool:
    """Whether the pages offer email updates: this server sends email (the same for everyone)."""
    return services(request).settings.mail is not None


def _policy(request: Request, page: dict[str, Any]) -> dict[str, str]:
    """The security headers, with the logo's site among the image sources when it is on
    another (the settings may point at one; the policy otherwise allows only this site's)."""
    logo = page.get("logoUrl")
    if not logo or logo.startswith("/"):
        return {}
    headers = policy(services(request).settings, images=(origin(logo),))
    return {"Content-Security-Policy": headers["Content-Security-Policy"]}


def _html(request: Request, template: str, **context: Any) -> HTMLResponse:
    context["page"] = links(context["page"])
    context["email_updates"] = email_updates(request)
    context.setdefault("statuses", STATUSES)
    context.setdefault("states", STATES)
    return HTMLResponse(
        template_text(template, **context), headers=_policy(request, context["page"])
    )


def _live(request: Request, template: str, announce: str, **context: Any) -> Drawn:
    """A live page: its ``live`` block as the message live viewers are sent (replacing the
    page's ``#status-live``), and the page itself, which names that message's id so that a
    viewer who loaded it is sent nothing until it changes."""
    context |= {"page": links(context["page"]), "statuses": STATUSES, "states": STATES,
                "email_updates": email_updates(request)}  # fmt: skip
    fragment = render_block(TEMPLATES.env, template, "live", **context)
    said = markupsafe.escape(announce)
    message = (
        f'<hx-partial hx-target="#status-live" hx-swap="outerHTML">{fragment}</hx-partial>'
        f'<hx-partial hx-target="#status-announcer" hx-swap="innerHTML">{said}</hx-partial>'
    )
    page = template_text(template, live_id=digest(message.encode()), **context)
    return Drawn(HTMLResponse(page, headers=_policy(request, context["page"])), live=message)


def bars(groups: list[dict[str, Any]]) -> None:
    """Each component's uptime as a percentage over the days with data, for the page's text."""
    for group in groups:
        for component in group["components"]:
            known = [d["fraction"] for d in component["uptime"] if d["fraction"] is not None]
            component["uptimePercent"] = (
                f"{100 * sum(known) / len(known):.2f}".rstrip("0").rstrip(".") if known else None
            )


def shared(*params: str) -> Callable[[Draw], Callable[[Request], Awaitable[Response]]]:
    """A public page, drawn once per change for everyone (``views.status_cache``): the stored
    rendering is found by the path and only the query ``params`` the page reads, so other
    query strings cannot make it draw again."""

    def wrap(draw: Draw) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            query = urlencode(
                [(n, request.query_params[n][:200]) for n in params if n in request.query_params]
            )
            key = request.url.path + (f"?{query}" if query else "")

            stored = await services(request).status_pages.stored(key, lambda: draw(request))
            return answer(request, stored)

        endpoint.__name__ = draw.__name__
        endpoint.__doc__ = draw.__doc__
        return endpoint

    return wrap


async def draw_status(request: Request) -> Drawn:
    data = await _read(request, "PublicStatus")
    bars(data["groups"])
    return _live(
        request, "status.html", f"Status updated: {data['description']}", page=data, internal=False
    )


async def draw_incident(request: Request) -> Drawn | Response:
    data = await _read(request, "PublicStatusIncident", id=request.path_params["id"][:100])
    if data["incident"] is None:
        response = _html(request, "status_not_found.html", page=data)
        response.status_code = 404
        return response
    found = data["incident"]
    said = f"{found['title']}: {STATES[found['status']]}"
    return _live(request, "status_incident.html", said, page=data, incident=found)


@shared("after")
async def history(request: Request) -> Response:
    after = request.query_params.get("after", "")[:200] or None
    try:
        data = await _read(request, "PublicStatusHistory", first=HISTORY_PAGE, after=after)
    except OperationFailed:
        return RedirectResponse("/status/history", status_code=303)
    return _html(
        request, "status_history.html", page=data, history=data["history"], first_page=not after
    )


# Atlassian Statuspage's public API v2.


def _time(value: str | None) -> str | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC).isoformat()


def _page(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    site = _site(request)
    return {
        "id": hashlib.sha256(site.encode()).hexdigest()[:12],
        "name": data["title"],
        "url": f"{site}/status",
        "time_zone": "Etc/UTC",
        "updated_at": _time(data["updatedAt"]),
    }


def _group_id(name: str) -> str:
    return "group-" + hashlib.sha256(name.encode()).hexdigest()[:12]


def _components(request: Request, data: dict[str, Any]) -> list[dict[str, Any]]:
    page_id = _page(request, data)["id"]
    found: list[dict[str, Any]] = []
    for group in data["groups"]:
        members = group["components"]
        if group["name"] is not None:
            found.append(
                {
                    "id": _group_id(group["name"]),
                    "name": group["name"],
                    "status": max((m["status"] for m in members), key=_IMPACT.__getitem__).lower(),
                    "created_at": _time(min(m["createdAt"] for m in members)),
                    "updated_at": _time(max(m["updatedAt"] for m in members)),
                    "position": min(m["position"] for m in members),
                    "description": None,
                    "showcase": False,
                    "start_date": None,
                    "group_id": None,
                    "page_id": page_id,
                    "group": True,
                    "only_show_if_degraded": False,
                    "components": [m["id"] for m in members],
                }
            )
        for member in members:
            found.append(
                {
                    "id": member["id"],
                    "name": member["name"],
                    "status": member["status"].lower(),
                    "created_at": _time(member["createdAt"]),
                    "updated_at": _time(member["updatedAt"]),
                    "position": member["position"],
                    "description": member["description"] or None,
                    "showcase": True,
                    "start_date": member["createdAt"][:10],
                    "group_id": _group_id(group["name"]) if group["name"] is not None else None,
                    "page_id": page_id,
                    "group": False,
                    "only_show_if_degraded": False,
                }
            )
    return found


def _incident(request: Request, data: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    site, page_id = _site(request), _page(request, data)["id"]
    by_id = {c["id"]: c for g in data.get("groups", []) for c in g["components"]}
    maintenance = row["kind"] == "MAINTENANCE"
    worst = max((_IMPACT[c["status"]] for c in row["components"]), default=0)
    found: dict[str, Any] = {
        "id": row["id"],
        "name": row["title"],
        "status": _api_state(row["status"]),
        "created_at": _time(row["createdAt"]),
        "updated_at": _time(row["updatedAt"]),
        "monitoring_at": _time(
            next((u["createdAt"] for u in row["updates"] if u["status"] == "MONITORING"), None)
        ),
        "resolved_at": _time(row["resolvedAt"]),
        "impact": "maintenance" if maintenance else _IMPACT_NAMES[worst],
        "shortlink": f"{site}/status/incidents/{row['id']}",
        "started_at": _time(row["startsAt"] or row["createdAt"]),
        "page_id": page_id,
        "incident_updates": [
            {
                "id": update["id"],
                "status": _api_state(update["status"]),
                "body": update["message"],
                "incident_id": row["id"],
                "created_at": _time(update["createdAt"]),
                "updated_at": _time(update["createdAt"]),
                "display_at": _time(update["createdAt"]),
                "affected_components": [
                    {"code": c["id"], "name": c["name"], "new_status": c["status"].lower()}
                    for c in row["components"]
                ],
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for update in row["updates"]
        ],
        "components": [
            {
                "id": c["id"],
                "name": c["name"],
                "status": (by_id.get(c["id"]) or c)["status"].lower(),
                "created_at": _time((by_id.get(c["id"]) or {}).get("createdAt")),
                "updated_at": _time((by_id.get(c["id"]) or {}).get("updatedAt")),
                "position": (by_id.get(c["id"]) or {}).get("position"),
                "description": (by_id.get(c["id"]) or {}).get("description") or None,
                "showcase": True,
                "start_date": None,
                "group_id": None,
                "page_id": page_id,
                "group": False,
                "only_show_if_degraded": False,
            }
            for c in row["components"]
        ],
    }
    if maintenance:
        found["scheduled_for"] = _time(row["startsAt"])
        found["scheduled_until"] = _time(row["endsAt"])
    return found


def _api_state(state: str) -> str:
    return {"IN_PROGRESS": "in_progress"}.get(state, state.lower())


async def _summary(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    data = await _read(request, "PublicStatus", days=1)
    return data, {
        "page": _page(request, data),
        "status": {
            "indicator": data["indicator"].lower(),
            "description": _API_DESCRIPTIONS.get(data["description"])
            or _API_INDICATORS[data["indicator"]],
        },
    }


def _json(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body)


@shared()
async def summary_json(request: Request) -> Response:
    data, body = await _summary(request)
    return _json(
        {
            "page": body["page"],
            "components": _components(request, data),
            "incidents": [_incident(request, data, row) for row in data["incidents"]],
            "scheduled_maintenances": [
                _incident(request, data, row) for row in data["maintenance"]
            ],
            "status": body["status"],
        }
    )


@shared()
async def status_json(request: Request) -> Response:
    _, body = await _summary(request)
    return _json(body)


@shared()
async def components_json(request: Request) -> Response:
    data, body = await _summary(request)
    return _json({"page": body["page"], "components": _components(request, data)})


async def _past(request: Request) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = (
        await _read(request, "PublicStatusHistory", first=50, after=None)
    )["history"]["nodes"]
    return nodes


@shared()
async def incidents_json(request: Request) -> Response:
    data, body = await _summary(request)
    rows = [*data["incidents"], *(r for r in await _past(request) if r["kind"] == "INCIDENT")]
    return _json({"page": body["page"], "incidents": [_incident(request, data, r) for r in rows]})


@shared()
async def maintenances_json(request: Request) -> Response:
    data, body = await _summary(request)
    rows = [*data["maintenance"], *(r for r in await _past(request) if r["kind"] == "MAINTENANCE")]
    return _json(
        {
            "page": body["page"],
            "scheduled_maintenances": [_incident(request, data, r) for r in rows],
        }
    )


@shared()
async def feed(request: Request) -> Response:
    """An Atom 1.0 feed of the status incidents and maintenance, open and past, each entry with
    its updates (newest first)."""
    data, _ = await _summary(request)
    site = _site(request)
    rows = [*data["incidents"], *data["maintenance"], *await _past(request)]
    rows.sort(key=lambda r: r["updatedAt"], reverse=True)
    ElementTree.register_namespace("", ATOM)

    def element(
        parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str
    ) -> ElementTree.Element:
        child = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        child.text = text
        return child

    root = ElementTree.Element(f"{{{ATOM}}}feed")
    element(root, "id", f"{site}/status")
    element(root, "title", data["title"])
    updated = data["updatedAt"] or (rows[0]["updatedAt"] if rows else None)
    element(root, "updated", _time(updated) or "1970-01-01T00:00:00+00:00")
    element(root, "link", rel="self", href=f"{site}/status/feed.atom")
    element(root, "link", rel="alternate", type="text/html", href=f"{site}/status")
    author = element(root, "author")
    element(author, "name", data["title"])
    for row in rows[:50]:
        entry = element(root, "entry")
        link = f"{site}/status/incidents/{row['id']}"
        element(entry, "id", link)
        element(entry, "title", row["title"])
        element(entry, "updated", _time(row["updatedAt"]))
        element(entry, "published", _time(row["createdAt"]))
        element(entry, "link", rel="alternate", type="text/html", href=link)
        lines = [
            f"{STATES[u['status']]} ({_time(u['createdAt'])}): {u['message']}"
            for u in row["updates"]
        ]
        affected = ", ".join(c["name"] for c in row["components"])
        if affected:
            lines.append(f"Affects: {affected}")
        element(entry, "content", "\n\n".join(lines), type="text")
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
        root, encoding="utf-8", xml_declaration=False
    )
    return Response(body, media_type="application/atom+xml")


def routes() -> list[BaseRoute]:
    return [
        Route("/status", shared()(draw_status), name="status"),
        Route("/status/history", history, name="status-history"),
        Route("/status/incidents/{id}", shared()(draw_incident), name="status-incident"),
        Route("/status/live", Watch(draw_status, key=lambda _: "/status")),
        Route(
            "/status/incidents/{id}/live",
            Watch(draw_incident, key=lambda r: f"/status/incidents/{r.path_params['id']}"),
        ),
        Route("/status/feed.atom", feed, name="status-feed"),
        Route("/status/api/v2/summary.json", summary_json),
        Route("/status/api/v2/status.json", status_json),
        Route("/status/api/v2/components.json", components_json),
        Route("/status/api/v2/incidents.json", incidents_json),
        Route("/status/api/v2/scheduled-maintenances.json", maintenances_json),
    ]
