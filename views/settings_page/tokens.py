"""The settings' token tab, ``/settings``: the viewer's own API tokens, with forms to create one
(the secret shown once, in the answer to that POST), rename and revoke them; an admin revoking
someone else's token goes back to that person's tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.pages import is_htmx, run
from views.settings_page import answers, kinds, people


@signed_in.page
async def tokens_page(request: Request) -> Response:
    return await _tokens(request, 200, done=answers.done(request))


async def _tokens(
    request: Request,
    status: int,
    *,
    problem: kinds.Problem | None = None,
    done: tuple[str, str] | None = None,
    secret: str | None = None,
    created: Mapping[str, Any] | None = None,
) -> Response:
    data = await run(request, "SettingsTokens")
    tokens = data["apiTokens"]
    values: dict[str, dict[str, Any]] = {t["id"]: {"name": t["name"]} for t in tokens}
    values["new"] = {"name": "", "scope": "READ"}
    if problem is not None:
        values[problem.key] = problem.values
    return await answers.render(
        request,
        "tokens",
        status,
        admin=answers.is_admin(data),
        viewer_can=data["viewerCan"],
        active=[t for t in tokens if not t["revokedAt"]],
        revoked=[t for t in tokens if t["revokedAt"]],
        values=values,
        problem=problem,
        notice=answers.notice(done, tokens),
        secret=secret,
        created=created,
    )


@signed_in.page
async def create_token(request: Request) -> Response:
    form = await request.form()
    values = {"name": kinds.text(form, "name"), "scope": kinds.text(form, "scope")}
    if values["scope"] not in answers.SCOPES:
        reading = kinds.Reading(values, values, {"scope": "Choose what the token may do."})
        return await _tokens(request, 422, problem=kinds.problem("new", reading, []))
    payload = await answers.mutate(request, "SettingsCreateToken", dict(values))
    refused = await answers.refused(request, payload, "")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = kinds.problem("new", kinds.Reading(values, values), payload["userErrors"])
        return await _tokens(request, 422, problem=problem)
    # The secret is in this answer only: never in a URL, never in anything a reload shows.
    return await _tokens(request, 200, secret=payload["secret"], created=payload["item"])


@signed_in.page
async def rename_token(request: Request) -> Response:
    token_id = request.path_params["token_id"]
    form = await request.form()
    values = {"name": kinds.text(form, "name")}
    payload = await answers.mutate(request, "SettingsRenameToken", {"tokenId": token_id, **values})
    refused = await answers.refused(request, payload, "tokenId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = kinds.problem(token_id, kinds.Reading(values, values), payload["userErrors"])
        return await _tokens(request, 422, problem=problem)
    if is_htmx(request):
        return await _tokens(request, 200, done=("renamed", token_id))
    return answers.back("/settings", "renamed", token_id)


@signed_in.page
async def revoke_token(request: Request) -> Response:
    token_id = request.path_params["token_id"]
    form = await request.form()
    # An admin revoking someone else's token goes back to that person's tokens.
    user, search = kinds.text(form, "user"), kinds.text(form, "search")[: answers.MAX_SEARCH]
    payload = await answers.mutate(request, "SettingsRevokeToken", {"tokenId": token_id})
    refused = await answers.refused(request, payload, "tokenId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:  # nothing else can go wrong with revoking, but say so if it does
        return await answers.refusal(request, 422, payload["userErrors"][0]["message"])
    done = ("revoked", token_id)
    if user:
        if is_htmx(request):
            return await people.show(request, 200, search, user, done=done)
        return answers.back("/settings/people", "revoked", token_id, search=search, user=user)
    if is_htmx(request):
        return await _tokens(request, 200, done=done)
    return answers.back("/settings", "revoked", token_id)
