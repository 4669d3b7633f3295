"""Teams: admins make them and choose who is in them; a sign-in refreshes the memberships a
team's identity-provider group makes, and leaves the hand-made ones alone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models import OrgRole, TeamMember
from app.services import teams, users
from app.services.users import Identity


async def memberships(db, team):
    """{user id: via_group} for one team."""
    async with db.read() as session:
        rows = await session.execute(
            select(TeamMember.user_id, TeamMember.via_group).where(TeamMember.team_id == team.id)
        )
        return {user_id: via for user_id, via in rows}


async def names_in(db, team):
    async with db.read() as session:
        found = await teams.members(session, [team.id], first=100)
    return [user.name for user in found.get(team.id, [])]


def identity(subject, email, *groups, role=OrgRole.MEMBER):
    return Identity(
        subject=subject, email=email, email_verified=True, name=email.split("@")[0].title(),
        role=role, groups=tuple(groups),
    )  # fmt: skip


async def test_an_admin_makes_a_team_with_members(db, people):
    team = await teams.create_team(
        db, actor=people.admin, name="  Leadership ", description="The people who decide.",
        member_ids=[people.member.id, people.responder.id, people.member.id],
    )  # fmt: skip
    assert team.name == "Leadership" and team.oidc_group is None
    assert await names_in(db, team) == ["Mo Member", "Rita Responder"]
    assert await memberships(db, team) == {people.member.id: False, people.responder.id: False}
    async with db.read() as session:
        assert [t.name for t in await teams.list_teams(session)] == ["Leadership"]
        assert (await teams.get_team(session, team.id)).description == "The people who decide."
        assert await teams.member_counts(session, [team.id]) == {team.id: 2}
        with pytest.raises(NotFound) as missing:
            await teams.get_team(session, team.id + 100)
    assert missing.value.field == "teamId"


async def test_only_admins_change_teams(db, people):
    team = await teams.create_team(db, actor=people.admin, name="Support")
    for person in (people.viewer, people.member, people.responder):
        with pytest.raises(Forbidden):
            await teams.create_team(db, actor=person, name="Mine")
        with pytest.raises(Forbidden):
            await teams.update_team(db, actor=person, team_id=team.id, name="Taken over")
        with pytest.raises(Forbidden):
            await teams.add_members(db, actor=person, team_id=team.id, user_ids=[person.id])
        with pytest.raises(Forbidden):
            await teams.remove_members(db, actor=person, team_id=team.id, user_ids=[])
    async with db.read() as session:
        assert [t.name for t in await teams.list_teams(session)] == ["Support"]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "support"}, "name"),  # taken, whatever the case
        ({"name": "Ok", "description": "x" * 2001}, "description"),
        ({"name": "Ok", "oidc_group": "g" * 201}, "oidcGroup"),
        ({"name": "Ok", "oidc_group": "support-team"}, "oidcGroup"),  # another team's
        ({"name": "Ok", "member_ids": [999_999]}, "memberIds"),
        ({"name": "Ok", "member_ids": list(range(1, 1002))}, "memberIds"),
    ],
)
async def test_what_a_team_cannot_be(db, people, given, field):
    await teams.create_team(db, actor=people.admin, name="Support", oidc_group="support-team")
    with pytest.raises(Invalid) as refused:
        await teams.create_team(db, actor=people.admin, **given)
    assert refused.value.field == field
    async with db.read() as session:
        assert [t.name for t in await teams.list_teams(session)] == ["Support"]


async def test_deactivated_people_cannot_join_and_are_not_counted(db, people):
    team = await teams.create_team(
        db, actor=people.admin, name="Data", member_ids=[people.member.id]
    )
    async with db.write() as session:
        gone = await session.get(type(people.other_member), people.other_member.id)
        gone.active = False
    with pytest.raises(Invalid) as refused:
        await teams.add_members(db, actor=people.admin, team_id=team.id, user_ids=[gone.id])
    assert refused.value.field == "userIds"
    async with db.write() as session:
        session.add(TeamMember(team_id=team.id, user_id=gone.id, added_at=db.now()))
    async with db.read() as session:
        assert await teams.member_ids(session, [team.id]) == {people.member.id}
        assert await teams.member_counts(session, [team.id]) == {team.id: 1}
    assert await names_in(db, team) == ["Mo Member"]


async def test_renaming_and_describing(db, people):
    team = await teams.create_team(db, actor=people.admin, name="SRE")
    await teams.create_team(db, actor=people.admin, name="Security")
    changed = await teams.update_team(
        db, actor=people.admin, team_id=team.id, name="sre", description="Keeps it up."
    )
    assert (changed.name, changed.description) == ("sre", "Keeps it up.")  # its own name is fine
    with pytest.raises(Invalid) as taken:
        await teams.update_team(db, actor=people.admin, team_id=team.id, name="SECURITY")
    assert taken.value.field == "name"
    with pytest.raises(NotFound):
        await teams.update_team(db, actor=people.admin, team_id=team.id + 100, name="Nope")


async def test_member_ids_of_several_teams(db, people):
    one = await teams.create_team(db, actor=people.admin, name="One", member_ids=[people.member.id])
    two = await teams.create_team(
        db, actor=people.admin, name="Two", member_ids=[people.member.id, people.responder.id]
    )
    await teams.create_team(db, actor=people.admin, name="Three", member_ids=[people.admin.id])
    async with db.read() as session:
        assert await teams.member_ids(session, [one.id, two.id]) == {
            people.member.id,
            people.responder.id,
        }
        assert await teams.member_ids(session, []) == set()


async def test_members_come_in_bounded_pages_per_team(db, people):
    everyone = [people.viewer, people.member, people.other_member, people.responder, people.admin]
    big = await teams.create_team(
        db, actor=people.admin, name="Big", member_ids=[p.id for p in everyone]
    )
    small = await teams.create_team(
        db, actor=people.admin, name="Small", member_ids=[people.admin.id]
    )
    async with db.read() as session:
        found = await teams.members(session, [big.id, small.id], first=2)
    assert [u.name for u in found[big.id]] == ["Ada Admin", "Max Member"]
    assert [u.name for u in found[small.id]] == ["Ada Admin"]


async def test_sign_in_puts_people_in_their_groups_teams(db, people):
    sre = await teams.create_team(db, actor=people.admin, name="SRE", oidc_group="sre")
    leads = await teams.create_team(db, actor=people.admin, name="Leadership", oidc_group="leads")
    unbound = await teams.create_team(db, actor=people.admin, name="Friends")
    erin = await users.sign_in(db, identity("erin-1", "erin@example.com", "sre", "leads", "other"))
    assert await memberships(db, sre) == {erin.id: True}
    assert await memberships(db, leads) == {erin.id: True}
    assert await memberships(db, unbound) == {}
    # Signing in again changes nothing.
    await users.sign_in(db, identity("erin-1", "erin@example.com", "sre", "leads"))
    assert await memberships(db, sre) == {erin.id: True}


async def test_leaving_a_group_leaves_its_team_but_not_hand_made_memberships(db, people):
    sre = await teams.create_team(db, actor=people.admin, name="SRE", oidc_group="sre")
    leads = await teams.create_team(db, actor=people.admin, name="Leadership", oidc_group="leads")
    erin = await users.sign_in(db, identity("erin-1", "erin@example.com", "sre"))
    # An admin adds Erin to Leadership by hand: the group has nothing to do with it.
    await teams.add_members(db, actor=people.admin, team_id=leads.id, user_ids=[erin.id])
    await users.sign_in(db, identity("erin-1", "erin@example.com"))  # in no group now
    assert await memberships(db, sre) == {}
    assert await memberships(db, leads) == {erin.id: False}
    # Back in the group: back in the team; the hand-made membership is untouched.
    await users.sign_in(db, identity("erin-1", "erin@example.com", "sre", "leads"))
    assert await memberships(db, sre) == {erin.id: True}
    assert await memberships(db, leads) == {erin.id: False}


async def test_adding_someone_in_through_their_group_makes_it_hand_made(db, people):
    sre = await teams.create_team(db, actor=people.admin, name="SRE", oidc_group="sre")
    erin = await users.sign_in(db, identity("erin-1", "erin@example.com", "sre"))
    await teams.add_members(db, actor=people.admin, team_id=sre.id, user_ids=[erin.id])
    assert await memberships(db, sre) == {erin.id: False}
    await users.sign_in(db, identity("erin-1", "erin@example.com"))
    assert await memberships(db, sre) == {erin.id: False}


async def test_removing_a_group_member_lasts_until_their_next_sign_in(db, people):
    sre = await teams.create_team(
        db, actor=people.admin, name="SRE", oidc_group="sre", member_ids=[people.responder.id]
    )
    erin = await users.sign_in(db, identity("erin-1", "erin@example.com", "sre"))
    await teams.remove_members(
        db, actor=people.admin, team_id=sre.id, user_ids=[erin.id, people.responder.id]
    )
    assert await memberships(db, sre) == {}
    await users.sign_in(db, identity("erin-1", "erin@example.com", "sre"))
    assert await memberships(db, sre) == {erin.id: True}


async def test_changing_a_teams_group_drops_what_the_old_group_made(db, people):
    sre = await teams.create_team(
        db, actor=people.admin, name="SRE", oidc_group="sre", member_ids=[people.responder.id]
    )
    erin = await users.sign_in(db, identity("erin-1", "erin@example.com", "sre", "ops"))
    await teams.update_team(db, actor=people.admin, team_id=sre.id, description="Same group")
    assert await memberships(db, sre) == {erin.id: True, people.responder.id: False}
    changed = await teams.update_team(db, actor=people.admin, team_id=sre.id, oidc_group="ops")
    assert changed.oidc_group == "ops"
    assert await memberships(db, sre) == {people.responder.id: False}
    await users.sign_in(db, identity("erin-1", "erin@example.com", "sre", "ops"))
    assert await memberships(db, sre) == {erin.id: True, people.responder.id: False}
    unbound = await teams.update_team(db, actor=people.admin, team_id=sre.id, oidc_group="")
    assert unbound.oidc_group is None
    assert await memberships(db, sre) == {people.responder.id: False}
    await users.sign_in(db, identity("erin-1", "erin@example.com", "sre", "ops"))
    assert await memberships(db, sre) == {people.responder.id: False}


async def test_a_refused_sign_in_changes_no_team(db, people):
    await teams.create_team(db, actor=people.admin, name="SRE", oidc_group="sre")
    # Mo was added beforehand; an unverified email cannot take the account over.
    with pytest.raises(Conflict):
        await users.sign_in(
            db,
            Identity(
                subject="mo-1", email="mo@example.com", email_verified=False, name="Mo",
                role=OrgRole.MEMBER, groups=("sre",),
            ),
        )  # fmt: skip
    async with db.read() as session:
        assert await session.scalar(select(TeamMember.user_id)) is None


async def test_signing_in_through_the_provider_joins_the_groups_team(
    db, database_url, people, identity_provider
):
    """The real OpenID Provider's groups claim (admin@example.com is in muster-admins and sre)."""
    from tests.views.test_sign_in import oidc_app, signed_in

    sre = await teams.create_team(db, actor=people.admin, name="SRE", oidc_group="sre")
    execs = await teams.create_team(db, actor=people.admin, name="Execs", oidc_group="executives")
    app = oidc_app(database_url, identity_provider)
    try:
        async with signed_in(app, "admin@example.com"):
            pass
    finally:
        await app.state.services.db.dispose()
    async with db.read() as session:
        joined = await users.find_user_by_email(session, "admin@example.com")
    assert await memberships(db, sre) == {joined.id: True}
    assert await memberships(db, execs) == {}
