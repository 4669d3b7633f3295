"""The incident page's forms about the incident itself: share an update (with a status or
severity change and the next promise), edit the name and summary, accept or decline from triage,
follow or unfollow, add a note.

Forms that change the incident's state send the version they were drawn with, so a change made
meanwhile by someone else is a conflict that overwrites nothing. The promise is checked here
only as a whole number; how long one may promise is the API's to say (``nextUpdateInMinutes``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.forms import Form
from views.incident import status as status_page
from views.incident.submit import MAX_INT, Spec, Target, change, submit, version
from views.numbers import whole

SHARE = Spec("share", "share_form", "share-form")
DETAILS = Spec("details", "details_form", "details-form")
TRIAGE = Spec("triage", "state_head", "incident-head")
FOLLOW = Spec("follow", "state_head", "incident-head")
NOTE = Spec("note", "note_form", "note-form")


@signed_in.page
async def share_update(request: Request) -> Response:
    async def act(request: Request, target: Target, form: Form) -> None:
        status, severity = form.value("status") or None, form.value("severity") or None
        next_update = form.value("next")
        promise = whole(next_update, most=MAX_INT)
        if next_update and promise is None:
            form.errors["next"] = "Choose when the next update is due."
        if not form.value("message").strip():
            form.errors["message"] = "Write the update: what is happening and what is next."
        drawn_with = version(form) if status or severity else None  # only a change can conflict
        also = form.value("status_also") == "1"
        if also:
            status_page.also_checked(form)
        if form.failed:
            return
        shared = await change(
            request, "IncidentShareUpdate", form,
            {"message": "message", "statusId": "status", "severityId": "severity",
             "nextUpdateInMinutes": "next"},
            reference=target.reference, message=form.value("message"), statusId=status,
            severityId=severity, nextUpdateInMinutes=promise, expectedVersion=drawn_with,
        )  # fmt: skip
        if shared and also:
            await status_page.also_post(request, form)

    return await submit(request, SHARE, act)


@signed_in.page
async def change_details(request: Request) -> Response:
    async def act(request: Request, target: Target, form: Form) -> None:
        if not form.value("name").strip():
            form.errors["name"] = "Give the incident a name."
        drawn_with = version(form)
        if form.failed:
            return
        await change(
            request, "IncidentChangeDetails", form, {"name": "name", "summary": "summary"},
            reference=target.reference, name=form.value("name"),
            summary=form.value("summary"), expectedVersion=drawn_with,
        )  # fmt: skip

    return await submit(request, DETAILS, act)


@signed_in.page
async def triage(request: Request) -> Response:
    async def act(request: Request, target: Target, form: Form) -> None:
        if form.value("decision") == "accept":
            await change(request, "IncidentAccept", form, {}, reference=target.reference)
        elif form.value("decision") == "decline":
            await change(
                request, "IncidentDecline", form, {"reason": "reason"},
                reference=target.reference, reason=form.value("reason"),
            )  # fmt: skip
        else:
            form.problem = "Choose Accept or Decline."

    return await submit(request, TRIAGE, act)


@signed_in.page
async def follow(request: Request) -> Response:
    async def act(request: Request, target: Target, form: Form) -> None:
        operation = "IncidentFollow" if form.value("follow") == "1" else "IncidentUnfollow"
        await change(request, operation, form, {}, reference=target.reference)

    return await submit(request, FOLLOW, act)


@signed_in.page
async def add_note(request: Request) -> Response:
    async def act(request: Request, target: Target, form: Form) -> None:
        if not form.value("message").strip():
            form.errors["message"] = "Write the note."
            return
        await change(
            request, "IncidentAddNote", form, {"message": "message"},
            reference=target.reference, message=form.value("message"),
        )  # fmt: skip

    return await submit(request, NOTE, act)
