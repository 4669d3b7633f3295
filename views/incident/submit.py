"""How every form on the incident page is answered: check, change, answer.

``submit`` hands the incident's ``Target`` (its reference, and the page's data read only if the
form needs it to decide what to send) and the posted ``Form`` to the form's own step (``Act``),
which runs its one mutation by reference; then it answers: 303 back to the page
(``Spec.anchor``), or, when the form failed or htmx sent it, the page as it is now (others'
changes included) with 422 for a failed form; htmx gets the form's block plus ``<hx-partial>``
parts for the rest of the page's state. So a plain form post is one mutation, and the page is
drawn once, by the redirect's GET.
``change`` runs one mutation and puts its user errors on the form (``views.forms``): a hidden or
vanished incident ends the form (``Gone``), a stale version becomes ``CONFLICT``. ``version`` reads
the version a form was drawn with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from views.browser import csrf_token_for
from views.forms import Form
from views.incident import room
from views.numbers import whole
from views.pages import OperationFailed, is_htmx, render, run

MAX_INT = 2**31 - 1  # GraphQL's Int: numbers beyond it are not a request the API can take
UNREADABLE = "Muster could not read this form: reload the page and try again."
CONFLICT = (
    "Someone changed this incident while you were editing: the page now shows their change; "
    "check it and submit again."
)
NO_STORE = {"Cache-Control": "private, no-store", "Vary": "HX-Request, Cookie"}


class Gone(Exception):
    """The incident went missing or out of sight while the form was being sent."""


@dataclasses.dataclass(frozen=True)
class Spec:
    """How one form answers: its name, the block it is drawn in, where the page scrolls back to."""

    name: str
    block: str
    anchor: str


@dataclasses.dataclass
class Target:
    """The incident a form is about: its reference as posted, and the page's data when asked."""

    request: Request
    reference: str
    _data: Mapping[str, Any] | None = None

    async def page(self) -> Mapping[str, Any]:
        """The incident page's data as the viewer sees it now (read once); ``Gone`` if hidden."""
        if self._data is None:
            self._data = await room.read(self.request, self.reference)
            if self._data is None:
                raise Gone
            self.reference = self._data["incident"]["reference"]
        return self._data


Act = Callable[[Request, Target, Form], Awaitable[None]]


async def submit(request: Request, spec: Spec, act: Act) -> Response:
    """Run one form: check, change, and answer (303, or the block and the rest of the page)."""
    target = Target(request, request.path_params["reference"])
    form = Form.of(await request.form())
    try:
        await act(request, target, form)
    except Gone:
        return await room.not_found(request, target.reference)
    except OperationFailed:  # input no form of this page sends (the forms check their own)
        form.problem = UNREADABLE
    reference = target.reference
    if not form.failed and not is_htmx(request):
        return RedirectResponse(f"/incidents/{reference}#{spec.anchor}", status_code=303)
    fresh = await room.read(request, reference)  # the page as it is now, others' changes included
    if fresh is None:
        return await room.not_found(request, reference)
    forms, notices = {}, {}
    if form.failed:
        forms[spec.name] = form
        if spec.block in room.STATE and form.problem:
            notices[spec.block] = form.problem
    status = 422 if form.failed else 200
    drawn = room.context(fresh, forms=forms, notices=notices)
    if not is_htmx(request):
        return await render(request, room.TEMPLATE, status, section="incidents", **drawn)
    return _answer(request, status, drawn, spec.block)


def _answer(request: Request, status: int, drawn: dict[str, Any], main: str) -> Response:
    """An htmx answer: the form's block, and the rest of the page's state as partials."""
    drawn = {
        "viewer": None,
        "csrf_token": csrf_token_for(request),
        "request": request,
        **drawn,
    }
    parts = [room.block(main, drawn)]
    incident, may = drawn["i"], drawn["may"]
    for block, target in room.STATE.items():
        if block != main and (block != "state_members" or incident["private"]):
            parts.append(room.partial(target, "innerMorph", room.block(block, drawn)))
    parts.append(room.partial("timeline-list", "innerMorph", room.block("timeline_entries", drawn)))
    if may.edit:  # the person's own change: their forms now stand on the new state and version
        for block, target in (("share_form", "share-form"), ("details_form", "details-card")):
            if block != main:
                parts.append(room.partial(target, "outerMorph", room.block(block, drawn)))
    return HTMLResponse("".join(parts), status, headers=NO_STORE)


async def change(
    request: Request, operation: str, form: Form, fields: Mapping[str, str], **input: Any
) -> bool:
    """Run a mutation; put its user errors on the form (``fields``: input name to form name).
    Whether it worked."""
    data = await run(request, operation, {"input": input})
    errors = next(iter(data.values()))["userErrors"]
    for error in errors:
        if error["code"] == "NOT_FOUND" and error["field"] in (None, "incidentId", "reference"):
            raise Gone
    form.refused([error for error in errors if error["code"] != "CONFLICT"], fields)
    if any(error["code"] == "CONFLICT" for error in errors):
        form.problem = CONFLICT  # said last: it is why the rest may not apply any more
    return not errors


def version(form: Form) -> int | None:
    """The version the form was drawn with (None if it sent none); a version that is not one
    Muster wrote makes the form fail."""
    text = form.value("version")
    drawn_with = whole(text, most=MAX_INT)
    if text and drawn_with is None:
        form.problem = UNREADABLE
    return drawn_with
