"""People's tokens (admins), ``/settings/people``: a person picker that shows the chosen person's
API tokens to revoke."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.pages import OperationFailed, run
from views.settings_page import answers


@signed_in.page
async def people_page(request: Request) -> Response:
    search = request.query_params.get("search", "")[: answers.MAX_SEARCH]
    user = request.query_params.get("user", "")
    return await show(request, 200, search, user, done=answers.done(request))


async def show(
    request: Request,
    status: int,
    search: str,
    user: str,
    *,
    done: tuple[str, str] | None = None,
) -> Response:
    variables = {"search": search, "userId": user or None, "chosen": bool(user)}
    try:
        data = await run(request, "SettingsPeople", variables)
    except OperationFailed:  # not an admin, or no such person
        data = await run(request, "SettingsPeople", {**variables, "chosen": False, "userId": None})
        if answers.is_admin(data):
            return await answers.refusal(request, 404, "No person with that id.", admin=True)
        data = {"viewerCan": data["viewerCan"]}
    if not answers.is_admin(data):
        return await answers.refusal(request, 403, answers.ADMIN_ONLY)
    tokens = data.get("apiTokens") or []
    person = next((u for u in data["users"] if u["id"] == user), None)
    return await answers.render(
        request,
        "people",
        status,
        admin=True,
        viewer_can=data["viewerCan"],
        search=search,
        people=data["users"],
        chosen=user,
        person=person,
        tokens=tokens,
        notice=answers.notice(done, tokens),
    )
