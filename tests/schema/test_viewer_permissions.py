"""Query.viewerCan and User.canHoldRole through the API: what the viewer may do across the
organisation (declare, configure, break glass) and who may hold an incident role, each true for
the people PRODUCT.md gives it to and false for the rest."""

from schema import schema
from schema.viewers import per_viewer_fields
from tests.schema.conftest import Api

CAN = "{ viewer { canHoldRole } viewerCan { declare configure breakGlass } }"
PEOPLE = "{ users(first: 20) { email canHoldRole } }"


async def _can(api: Api, user) -> set[str]:
    data = await (await api.as_(user))(CAN)
    rights = {name for name, allowed in data["viewerCan"].items() if allowed}
    return rights | ({"holdRole"} if data["viewer"]["canHoldRole"] else set())


async def test_a_viewer_only_watches(api: Api, people):
    assert await _can(api, people.viewer) == set()


async def test_members_and_responders_declare_and_hold_roles(api: Api, people):
    assert await _can(api, people.member) == {"declare", "holdRole"}
    assert await _can(api, people.responder) == {"declare", "holdRole"}


async def test_an_admin_may_do_everything(api: Api, people):
    assert await _can(api, people.admin) == {"declare", "configure", "breakGlass", "holdRole"}


async def test_people_pickers_see_who_may_hold_a_role(api: Api, people):
    data = await (await api.as_(people.responder))(PEOPLE)
    holds = {person["email"]: person["canHoldRole"] for person in data["users"]}
    assert holds["vera@example.com"] is False  # the viewer
    assert holds["mo@example.com"] is True
    assert holds["rita@example.com"] is True
    assert holds["ada@example.com"] is True


def test_the_rights_are_marked_per_viewer_so_live_feeds_never_share_them():
    assert ("Query", "viewerCan") in per_viewer_fields(schema._schema)
