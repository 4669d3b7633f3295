"""The incident page, ``/incidents/INC-<n>``: the room people live in during an incident.

It shows the incident as the viewer sees it (reference and name, status, severity, type, mode,
privacy, lifecycle times, who holds each role, custom fields, the promised next update, the
summary and the latest update), its actions and follow-ups, its followers and, when private, its
members, and its timeline newest first; and it offers what the viewer may do there, as the API
says (``Incident.viewerCan``, ``Incident.nextStatuses``, ``User.canHoldRole``). Every form is a
plain POST answered with 303 back to the page (or 422 with the errors and what was typed); with
htmx it gets its own block back plus ``<hx-partial>`` parts for the rest of the page. A missing,
hidden or malformed reference gets one and the same not-found answer on every URL here; admins
also get a break-glass form on it, whether or not the incident exists.

By concern: ``room`` (the page, its read and what its template needs), ``submit`` (how every
form is checked, changed and answered), ``updates`` (updates, details, triage, following, notes),
``work`` (actions, follow-ups, custom fields), ``people`` (roles and members), ``break_glass``,
and ``feed`` (``/live/incidents/INC-<n>``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from views.incident.break_glass import break_glass
from views.incident.feed import live
from views.incident.people import assign_role, invite, remove_member, unassign_role
from views.incident.room import page
from views.incident.status import publish
from views.incident.updates import add_note, change_details, follow, share_update, triage
from views.incident.work import add_work, mark_work, set_field


def routes() -> list[BaseRoute]:
    post = ["POST"]
    return [
        Route("/incidents/{reference}", page, name="incident"),
        Route("/live/incidents/{reference}", live, name="live-incident"),
        Route("/incidents/{reference}/updates", share_update, methods=post),
        Route("/incidents/{reference}/details", change_details, methods=post),
        Route("/incidents/{reference}/triage", triage, methods=post),
        Route("/incidents/{reference}/follow", follow, methods=post),
        Route("/incidents/{reference}/roles", assign_role, methods=post),
        Route("/incidents/{reference}/roles/unassign", unassign_role, methods=post),
        Route("/incidents/{reference}/actions", add_work, methods=post),
        Route("/incidents/{reference}/actions/{action}", mark_work, methods=post),
        Route("/incidents/{reference}/fields/{field}", set_field, methods=post),
        Route("/incidents/{reference}/members", invite, methods=post),
        Route("/incidents/{reference}/members/remove", remove_member, methods=post),
        Route("/incidents/{reference}/notes", add_note, methods=post),
        Route("/incidents/{reference}/status", publish, methods=post),
        Route("/incidents/{reference}/break-glass", break_glass, methods=post),
    ]
