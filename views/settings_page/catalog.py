"""The configuration tabs (admins), ``/settings/<kind>``: each kind's items with an edit form
apiece and a form for a new one; a refused change redraws its form with the input kept and the
messages (422), anyone but an admin is told only admins may (403).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.pages import is_htmx, run
from views.settings_page import answers, kinds


async def _catalog(
    request: Request,
    kind: kinds.Kind,
    status: int,
    *,
    problem: kinds.Problem | None = None,
    done: tuple[str, str] | None = None,
) -> Response:
    data = await run(request, kind.query)
    if not answers.is_admin(data):
        return await answers.refusal(request, 403, answers.ADMIN_ONLY)
    items = data["items"]
    values = {item["id"]: kind.values(item) for item in items}
    values["new"] = dict(kind.blank)
    if problem is not None:
        values[problem.key] = problem.values
    return await answers.render(
        request,
        kind.slug,
        status,
        admin=True,
        viewer_can=data["viewerCan"],
        title=kind.title,
        data=data,
        items=items,
        values=values,
        problem=problem,
        notice=answers.notice(done, items),
    )


async def _kind(request: Request) -> kinds.Kind | Response:
    kind = kinds.KINDS.get(request.path_params["kind"])
    if kind is None:
        return await answers.refusal(request, 404, "There is no such settings page.")
    return kind


@signed_in.page
async def catalog_page(request: Request) -> Response:
    kind = await _kind(request)
    if isinstance(kind, Response):
        return kind
    return await _catalog(request, kind, 200, done=answers.done(request))


@signed_in.page
async def create_item(request: Request) -> Response:
    kind = await _kind(request)
    if isinstance(kind, Response):
        return kind
    reading = kind.read(await request.form(), True)
    return await _change(request, kind, kind.create, "new", reading, {})


@signed_in.page
async def update_item(request: Request) -> Response:
    kind = await _kind(request)
    if isinstance(kind, Response):
        return kind
    item_id = request.path_params["item_id"]
    reading = kind.read(await request.form(), False)
    return await _change(request, kind, kind.update, item_id, reading, {kind.id_input: item_id})


async def _change(
    request: Request,
    kind: kinds.Kind,
    operation: str,
    key: str,
    reading: kinds.Reading,
    ids: dict[str, str],
) -> Response:
    """Run a create or update mutation from a form; answer with the tab, the form, or a refusal."""
    if reading.errors:  # (for someone who is not an admin, _catalog refuses instead)
        return await _catalog(request, kind, 422, problem=kinds.problem(key, reading, []))
    payload = await answers.mutate(request, operation, {**ids, **reading.input})
    refused = await answers.refused(request, payload, kind.id_input)
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = kinds.problem(key, reading, payload["userErrors"])
        return await _catalog(request, kind, 422, problem=problem)
    verb, item = ("created" if key == "new" else "saved"), payload["item"]["id"]
    if is_htmx(request):
        return await _catalog(request, kind, 200, done=(verb, item))
    return answers.back(f"/settings/{kind.slug}", verb, item)
