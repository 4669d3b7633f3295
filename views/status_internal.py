"""The internal status page, ``/status/internal``, for signed-in people: the public page with the
internal-only components too, labelled "Internal", drawn for each request (never stored) and not
live. To whoever may publish (``viewerCan.publishStatus``: responders and admins) it also offers
scheduling maintenance (``POST /status/internal/maintenance``, times in UTC, any components) and
ending a window early (``POST /status/internal/maintenance/end``: cancelling one not yet begun,
completing one in progress, with the message customers read), over ``scheduleMaintenance`` and
``postStatusUpdate``; the API decides who may, and a refused form comes back as typed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from views.forms import Form
from views.pages import render, run, viewer_can
from views.signed_in import page
from views.status_page import STATES, STATUSES, bars, email_updates, links

FIELDS = {"title": "title", "message": "message", "startsAt": "startsAt", "endsAt": "endsAt",
          "componentIds": "componentIds"}  # fmt: skip
NEED_TIME = "Give a date and a time (UTC)."


async def _draw(request: Request, form: Form | None = None, status: int = 200) -> Response:
    data = (await run(request, "PublicStatus", {"internal": True}))["publicStatus"]
    bars(data["groups"])
    form = form or Form()
    return await render(
        request, "status.html", status, page=links(data), internal=True, statuses=STATUSES,
        states=STATES, email_updates=email_updates(request), viewer_can=await viewer_can(request),
        form=form, e=form.errors, problem=form.problem,
    )  # fmt: skip


@page
async def internal(request: Request) -> Response:
    return await _draw(request)


def _utc(value: str) -> str | None:
    """A ``datetime-local`` value as a UTC time for the API, or None if it is not one."""
    try:
        moment = datetime.fromisoformat(value[:40])
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).isoformat() if moment.tzinfo is None else None


@page
async def schedule(request: Request) -> Response:
    form = Form.of(await request.form())
    starts, ends = _utc(form.value("starts_at")), _utc(form.value("ends_at"))
    if starts is None:
        form.errors["startsAt"] = NEED_TIME
    if ends is None:
        form.errors["endsAt"] = NEED_TIME
    if not form.failed:
        answer = (
            await run(request, "StatusInternalSchedule", {"input": {
                "title": form.value("title"), "message": form.value("message"),
                "startsAt": starts, "endsAt": ends, "componentIds": form.chosen("component")[:60],
            }})
        )["scheduleMaintenance"]  # fmt: skip
        if answer["statusIncident"] is not None:
            return RedirectResponse("/status/internal#maintenance", status_code=303)
        form.refused(answer["userErrors"], FIELDS)
    return await _draw(request, form, 422)


@page
async def end(request: Request) -> Response:
    form = Form.of(await request.form())
    answer = (
        await run(request, "StatusInternalEnd", {"input": {
            "statusIncidentId": form.value("status_incident")[:100], "status": "RESOLVED",
            "message": form.value("message"),
        }})
    )["postStatusUpdate"]  # fmt: skip
    if not answer["userErrors"]:
        return RedirectResponse("/status/internal#maintenance", status_code=303)
    refused = Form()
    refused.problem = answer["userErrors"][-1]["message"]
    return await _draw(request, refused, 422)


def routes() -> list[BaseRoute]:
    return [
        Route("/status/internal", internal, name="status-internal"),
        Route("/status/internal/maintenance", schedule, methods=["POST"]),
        Route("/status/internal/maintenance/end", end, methods=["POST"]),
    ]
