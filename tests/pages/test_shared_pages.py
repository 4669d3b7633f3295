"""Signed-in pages drawn once for everyone who sees the same (``views.page_cache``): the second
viewer with the same sight is served the stored board with their own header; someone who sees a
private incident never shares a drawing with someone who does not, whoever asks first, even when
they are let in while it is drawn; a write shows on the next request; and a shared part cannot
use anything of the viewer's."""

from __future__ import annotations

import pytest
from jinja2 import Environment
from sqlalchemy import select
from starlette.requests import Request

from app.db import Database
from app.identity import Credential, CredentialKind, Principal
from app.models import IncidentType, OrgRole, TokenScope
from app.services import declarations, incidents, members, users
from schema import ids
from tests.pages.conftest import browsers_of, csrf_of, dev_app, hearing
from tests.support.html import parse, text, texts
from views.page_cache import PER_VIEWER, PerViewerUsed, _PerViewer

ROWS = "#board .incident-row .title a"


@pytest.fixture
async def app(db, database_url):
    made = hearing(db, dev_app(database_url))
    yield made
    await made.state.services.db.dispose()


@pytest.fixture
def browsers(app):
    return browsers_of(app)


async def private_incident(db, people, name):
    async with db.read() as session:
        security = await session.scalar(select(IncidentType).where(IncidentType.name == "Security"))
    incident = await declarations.declare(
        db, actor=people.member, name=name, type_id=security.id, next_update_in_minutes=30
    )
    assert incident.private
    return incident


def board(page) -> list[str]:
    return texts(parse(page.text), ROWS)


def who(page) -> str:
    return text(parse(page.text), "header .account > span")


async def test_the_same_board_is_drawn_once_and_each_viewer_gets_their_own_header(
    app, db, people, browsers
):
    await declarations.declare(db, actor=people.member, name="Checkout down")
    pages = app.state.services.pages
    async with browsers(people.viewer) as vera, browsers(people.other_member) as max_:
        first = await vera.get("/")
        drawn = pages.parts.misses
        second = await max_.get("/")
        assert pages.parts.misses == drawn, "the second viewer's board was drawn again"
        assert board(first) == board(second) == ["Checkout down"]
        assert (who(first), who(second)) == ("Vera Viewer · viewer", "Max Member · member")
        # Each page carries its own browser's CSRF token and navigation.
        assert csrf_of(first.text) != csrf_of(second.text)
        declare = "header nav a[href='/incidents/new']"
        assert (parse(first.text).css(declare), len(parse(second.text).css(declare))) == ([], 1)
        assert second.headers["cache-control"] == "private, no-store"

        # The wall screen has nothing of the viewer's: one drawing, the same bytes for both.
        wall = await vera.get("/?tv=1")
        drawn = pages.parts.misses
        assert (await max_.get("/?tv=1")).text == wall.text and pages.parts.misses == drawn
        assert "Checkout down" in wall.text

        htmx = await max_.get("/", headers={"HX-Request": "true"})
        assert htmx.text.lstrip().startswith('<div id="board"')
        assert texts(parse(htmx.text), ROWS) == ["Checkout down"]


@pytest.mark.parametrize("first", ["member", "outsider"])
async def test_a_private_incident_is_never_shared_with_someone_outside_it(
    app, db, people, browsers, first
):
    await declarations.declare(db, actor=people.member, name="Checkout down")
    await private_incident(db, people, "Laptop stolen")
    async with browsers(people.member) as member, browsers(people.other_member) as outsider:
        order = [member, outsider] if first == "member" else [outsider, member]
        for browser in order:
            await browser.get("/")
        assert sorted(board(await member.get("/"))) == ["Checkout down", "Laptop stolen"]
        assert board(await outsider.get("/")) == ["Checkout down"]


async def test_a_write_shows_on_the_next_request(app, db, people, browsers):
    async with browsers(people.viewer) as vera:
        assert board(await vera.get("/")) == []
        await declarations.declare(db, actor=people.member, name="Payments failing")
        assert board(await vera.get("/")) == ["Payments failing"]


async def test_a_write_inside_a_private_incident_redraws_nothing_outside_it(
    app, db, people, browsers
):
    """Nobody outside a private incident can tell that something happened in it by their pages
    being drawn again (a slower answer): only its members' drawings go."""
    secret = await private_incident(db, people, "Laptop stolen")
    public = await declarations.declare(db, actor=people.member, name="Checkout down")
    stores = app.state.services.pages
    stores = (stores.parts, stores.people, stores.frames, stores.answers)
    async with browsers(people.member) as member, browsers(people.other_member) as outsider:
        for path in ("/", "/incidents", f"/incidents/{public.reference}"):
            await outsider.get(path)
        await member.get("/")
        drawn = [store.misses for store in stores]
        await incidents.change_details(
            db, actor=people.member, incident_id=secret.id, name="Laptop found"
        )
        for path in ("/", "/incidents", f"/incidents/{public.reference}"):
            assert (await outsider.get(path)).status_code == 200
        assert [store.misses for store in stores] == drawn, "drawn again for an outsider"
        assert sorted(board(await member.get("/"))) == ["Checkout down", "Laptop found"]
        assert stores[0].misses == drawn[0] + 1  # the member's board, and only it

        await incidents.change_details(db, actor=people.member, incident_id=public.id, name="Up")
        assert board(await outsider.get("/")) == ["Up"]


async def test_a_members_own_part_of_a_private_incident_follows_its_changes(
    app, db, people, browsers
):
    """What the incident page draws per viewer (here the statuses they may move it to) is drawn
    again for its members when the incident changes, though the change names none of them."""
    secret = await private_incident(db, people, "Laptop stolen")
    for let_in in (people.responder, people.other_responder):
        await members.invite(db, actor=people.member, incident_id=secret.id, user_id=let_in.id)
    page = f"/incidents/{secret.reference}"
    options = "#share-status option[value]:not([value=''])"
    async with browsers(people.responder) as rita:
        before = parse((await rita.get(page)).text).css(options)
        moved_to = before[0]
        await incidents.change_status(
            db, actor=people.other_responder, incident_id=secret.id,
            status_id=ids.decode("Status", moved_to.attributes["value"], field="status"),
        )  # fmt: skip
        after = texts(parse((await rita.get(page)).text), options)
    assert moved_to.text(strip=True) not in after  # it is there now: no longer a move
    assert after != [option.text(strip=True) for option in before]


def request_of(app, user) -> Request:
    principal = Principal(user, TokenScope.READ_WRITE, Credential(CredentialKind.SESSION, 1))
    scope = {"type": "http", "app": app, "method": "GET", "path": "/", "query_string": b""}
    return Request(scope | {"headers": [], "state": {"principal": principal}})


async def test_someone_let_in_while_the_board_is_drawn_never_shares_it(
    app, db, database_url, people
):
    """Max is let into a private incident after his sight was read but before the drawing's
    query, by another process whose word of it has not arrived yet: the drawing shows it, so it
    must not be kept for (or given to) people outside."""
    incident = await private_incident(db, people, "Laptop stolen")
    pages = app.state.services.pages
    elsewhere = Database(database_url)  # another process: this app does not hear its writes
    let_in = []

    async def draw(run):
        if not let_in:
            await members.invite(
                elsewhere, actor=people.member, incident_id=incident.id,
                user_id=people.other_member.id,
            )  # fmt: skip
            let_in.append(True)
        data = await run("Dashboard", {"filter": {}})
        names = [edge["node"]["name"] for edge in data["incidents"]["edges"]]
        return {"heading": "Board", "message": ", ".join(names) or "nothing", "link": None}

    await pages.seen(request_of(app, people.other_member))  # his sight, before he is let in
    _, drawn = await pages.part(
        request_of(app, people.other_member), "message.html", "k", draw, "main"
    )
    assert "Laptop stolen" in drawn["main"]
    _, outside = await pages.part(request_of(app, people.viewer), "message.html", "k", draw, "main")
    assert "Laptop stolen" not in outside["main"]
    await elsewhere.dispose()


def test_a_shared_part_cannot_use_the_viewer():
    env = Environment(autoescape=True)
    stand_ins = {name: _PerViewer(name) for name in PER_VIEWER}
    for source in (
        "{{ viewer.name }}",
        "{% if viewer %}x{% endif %}",
        "{{ viewer_can.declare }}",
        "{{ unread_notifications }}",
        "{{ request.url }}",
    ):
        with pytest.raises(PerViewerUsed):
            env.from_string(source).render(stand_ins)


def test_only_operations_without_per_viewer_fields_are_shared(app):
    refused = app.state.services.pages.per_viewer_operations
    assert {"Navigation", "MyWork", "Notifications", "SettingsTokens"} <= refused
    assert "Dashboard" not in refused


def form_tokens(page) -> set[str]:
    return {node.attributes["value"] for node in parse(page.text).css("input[name=csrf_token]")}


async def test_people_who_may_do_the_same_share_the_incident_page_with_their_own_tokens(
    app, db, people, browsers
):
    await declarations.declare(db, actor=people.member, name="Checkout down")
    pages = app.state.services.pages
    victor = await users.add_user(db, email="victor@example.com", role=OrgRole.VIEWER)
    async with browsers(people.viewer) as vera, browsers(people.admin) as ada:
        # Vera and Victor, both viewers, read the same page; Ada follows it, so hers differs.
        mine = await vera.get("/incidents/INC-1")
        drawn = pages.parts.misses
        async with browsers(victor) as victors:
            second = await victors.get("/incidents/INC-1")
        assert pages.parts.misses == drawn, "the second reader's page was drawn again"
        assert form_tokens(mine) == {csrf_of(mine.text)}
        assert form_tokens(second) == {csrf_of(second.text)} != form_tokens(mine)

        followed = await ada.post(
            "/incidents/INC-1/follow", {"follow": "1", "csrf_token": ada.csrf}
        )
        assert followed.status_code in (200, 303), followed.text
        follows = parse((await ada.get("/incidents/INC-1")).text)
        assert text(follows, "#follow-button") == "Unfollow"
        assert text(parse((await vera.get("/incidents/INC-1")).text), "#follow-button") == "Follow"


async def test_someone_the_page_draws_as_themselves_gets_their_own(app, db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Checkout down")
    rita_id, ravi_id = people.responder.id, people.other_responder.id
    taker = "#roles form[action$='/roles'] input[name=user]"
    async with browsers(people.responder) as rita, browsers(people.other_responder) as ravi:
        ritas = parse((await rita.get("/incidents/INC-1")).text)
        ravis = parse((await ravi.get("/incidents/INC-1")).text)
    # "Take this role" names whoever is reading: never one responder's form for the other.
    assert {n.attributes["value"] for n in ritas.css(taker)} == {ids.encode("User", rita_id)}
    assert {n.attributes["value"] for n in ravis.css(taker)} == {ids.encode("User", ravi_id)}


async def test_a_list_of_what_i_follow_is_mine_alone(app, db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Checkout down")
    rows = ".incident-row .title a"
    async with browsers(people.member) as mo, browsers(people.other_member) as max_:
        followed = await mo.post("/incidents/INC-1/follow", {"follow": "1", "csrf_token": mo.csrf})
        assert followed.status_code in (200, 303), followed.text
        assert texts(parse((await mo.get("/incidents?followed=1")).text), rows) == ["Checkout down"]
        assert texts(parse((await max_.get("/incidents?followed=1")).text), rows) == []
        # The whole list is the same for both, and drawn once.
        everyone = await mo.get("/incidents")
        drawn = app.state.services.pages.parts.misses
        assert texts(parse((await max_.get("/incidents")).text), rows) == ["Checkout down"]
        assert app.state.services.pages.parts.misses == drawn
        assert texts(parse(everyone.text), rows) == ["Checkout down"]
