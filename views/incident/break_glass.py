"""Break-glass, ``POST /incidents/<reference>/break-glass``: an admin enters a private incident
they cannot see, giving a reason every member reads on its timeline.

Whether the viewer may ask is the API's answer (``Query.viewerCan.breakGlass``); everyone else,
and every reference that names nothing, gets the page's one not-found answer.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from views import signed_in
from views.forms import Form
from views.incident import room
from views.incident.submit import Gone, change
from views.pages import viewer_can


@signed_in.page
async def break_glass(request: Request) -> Response:
    reference = request.path_params["reference"]
    data = await room.read(request, reference)
    if data is not None:  # already visible: nothing to break
        return RedirectResponse(f"/incidents/{data['incident']['reference']}", status_code=303)
    if not (await viewer_can(request))["breakGlass"]:
        return await room.not_found(request, reference)
    form = Form.of(await request.form())
    if not form.value("reason").strip():
        form.errors["reason"] = "Give the reason: every member will read it on the timeline."
        return await room.not_found(request, reference, form=form, status=422)
    try:
        done = await change(
            request, "IncidentBreakGlass", form, {"reason": "reason"},
            reference=reference, reason=form.value("reason"),
        )  # fmt: skip
    except Gone:
        form.problem = "No private incident has this reference: there is nothing to enter."
        return await room.not_found(request, reference, form=form)
    if not done:
        return await room.not_found(request, reference, form=form, status=422)
    entered = await room.read(request, reference)
    where = entered["incident"]["reference"] if entered else quote(reference.strip())
    return RedirectResponse(f"/incidents/{where}", status_code=303)
