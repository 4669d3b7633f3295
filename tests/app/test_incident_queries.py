"""Listing, filtering, searching and counting incidents as one person sees them."""

from datetime import date, timedelta

from sqlalchemy import select

from app.models import ActionStatus, IncidentMode, IncidentType, Severity, StatusCategory
from app.services import actions, catalog, declarations, fields, followers, incidents, roles
from app.services.incident_queries import (
    IncidentFilter,
    Position,
    count_incidents,
    list_incidents,
)


async def named(db, model, name):
    async with db.read() as session:
        return (await session.scalars(select(model).where(model.name == name))).one()


async def listed(db, actor, first=100, **wanted):
    async with db.read() as session:
        rows, _ = await list_incidents(session, actor, IncidentFilter(**wanted), first=first)
        return [r.name for r in rows]


async def test_keyset_pages_newest_first_without_gaps_or_repeats(db, people, clock):
    for n in range(25):
        clock.advance(minutes=1)
        await declarations.declare(db, actor=people.member, name=f"Incident {n:02}")
    seen, after = [], None
    async with db.read() as session:
        while True:
            rows, more = await list_incidents(
                session, people.viewer, IncidentFilter(), first=10, after=after
            )
            seen += [r.name for r in rows]
            if not more:
                break
            after = Position(rows[-1].declared_at, rows[-1].id)
        assert await count_incidents(session, people.viewer, IncidentFilter()) == 25
    assert seen == [f"Incident {n:02}" for n in reversed(range(25))]


async def test_filters(db, people, clock):
    major = await named(db, Severity, "Major")
    security = await named(db, IncidentType, "Security")
    game_day = await named(db, IncidentType, "Game day")
    await declarations.declare(db, actor=people.member, name="Login broken", severity_id=major.id)
    await declarations.declare(db, actor=people.other_member, name="Drill", type_id=game_day.id)
    await declarations.declare(db, actor=people.member, name="Waiting", triage=True)
    await declarations.declare(
        db, actor=people.member, name="Old one", mode=IncidentMode.RETROSPECTIVE,
        declared_at=clock() - timedelta(days=2),
    )  # fmt: skip
    secret = await declarations.declare(
        db, actor=people.responder, name="Secret", type_id=security.id
    )
    async with db.read() as session:
        lead = next(r for r in await catalog.list_incident_roles(session) if r.kind.name == "LEAD")
    await roles.assign_role(
        db, actor=people.member, incident_id=1, role_id=lead.id, user_id=people.responder.id
    )
    await followers.follow(db, actor=people.viewer, incident_id=2)

    viewer = people.viewer
    assert await listed(db, viewer, severity_ids=[major.id]) == ["Login broken"]
    assert await listed(db, viewer, type_ids=[game_day.id]) == ["Drill"]
    assert await listed(db, viewer, modes=[IncidentMode.TEST]) == ["Drill"]
    assert await listed(db, viewer, categories=[StatusCategory.TRIAGE]) == ["Waiting"]
    assert await listed(db, viewer, categories=[StatusCategory.POST_INCIDENT]) == ["Old one"]
    assert await listed(db, viewer, lead_id=people.responder.id) == ["Login broken"]
    assert await listed(db, viewer, reporter_id=people.other_member.id) == ["Drill"]
    assert await listed(db, viewer, followed_by_id=viewer.id) == ["Drill"]
    # Private incidents: invisible to outsiders in lists and counts, even when asked for.
    assert await listed(db, viewer, private=True) == []
    assert await listed(db, people.responder, private=True) == ["Secret"]
    async with db.read() as session:
        assert await count_incidents(session, viewer, IncidentFilter()) == 4
        assert await count_incidents(session, people.responder, IncidentFilter()) == 5
    assert secret.private


async def test_full_text_search_over_name_summary_and_updates(db, people):
    checkout = await declarations.declare(
        db, actor=people.member, name="Checkout failures", summary="Card payments declined"
    )
    await declarations.declare(db, actor=people.member, name="Revenue dashboard shows zero")
    await incidents.share_update(
        db, actor=people.responder, incident_id=checkout.id,
        message="Rolled back the Stripe webhook change",
    )  # fmt: skip
    viewer = people.viewer
    assert await listed(db, viewer, search="checkout") == ["Checkout failures"]
    assert await listed(db, viewer, search="check fail") == ["Checkout failures"]
    assert await listed(db, viewer, search="PAYMENTS") == ["Checkout failures"]
    assert await listed(db, viewer, search="stripe webhook") == ["Checkout failures"]
    assert await listed(db, viewer, search="dashboard") == ["Revenue dashboard shows zero"]
    assert await listed(db, viewer, search="nothing-like-this") == []
    # Search syntax of either database is just text here.
    for odd in ['"', "a*", "OR", "NEAR(", "x:*", "!&|", "'; DROP TABLE incidents; --"]:
        await listed(db, viewer, search=odd)
    await incidents.change_details(
        db, actor=people.member, incident_id=checkout.id, name="Payments outage"
    )
    assert await listed(db, viewer, search="outage") == ["Payments outage"]
    assert await listed(db, viewer, search="checkout") == []


async def test_search_never_finds_private_incidents_for_outsiders(db, people):
    security = await named(db, IncidentType, "Security")
    await declarations.declare(db, actor=people.member, name="Credential leak", type_id=security.id)
    assert await listed(db, people.admin, search="credential") == []
    async with db.read() as session:
        wanted = IncidentFilter(search="credential")
        assert await count_incidents(session, people.admin, wanted) == 0
        assert await count_incidents(session, people.member, wanted) == 1


async def test_role_holder_and_custom_field_option_filters_and_open_work(db, people):
    async with db.read() as session:
        teams = next(
            f for f in await catalog.list_custom_fields(session) if f.name == "Affected teams"
        )
        lead = next(r for r in await catalog.list_incident_roles(session) if r.kind.name == "LEAD")
    payments, support = teams.options[0], teams.options[1]
    first = await declarations.declare(db, actor=people.member, name="Payments down")
    second = await declarations.declare(db, actor=people.other_member, name="Chat slow")
    await fields.set_custom_field_value(
        db, actor=people.member, incident_id=first.id, field_id=teams.id, value=[payments.id]
    )
    await roles.assign_role(
        db, actor=people.other_member, incident_id=second.id, role_id=lead.id,
        user_id=people.responder.id,
    )  # fmt: skip
    viewer = people.viewer
    assert await listed(db, viewer, option_ids=[payments.id]) == ["Payments down"]
    assert await listed(db, viewer, option_ids=[support.id]) == []
    assert await listed(db, viewer, role_holder_id=people.member.id) == ["Payments down"]
    assert await listed(db, viewer, role_holder_id=people.responder.id) == ["Chat slow"]

    done = await actions.add_action(
        db, actor=people.member, incident_id=first.id, title="Call the bank",
        owner_id=people.member.id,
    )  # fmt: skip
    await actions.add_action(
        db, actor=people.member, incident_id=first.id, title="Refund", owner_id=people.member.id,
        due_on=date(2030, 1, 1),
    )  # fmt: skip
    await actions.add_action(
        db, actor=people.member, incident_id=first.id, title="Someone else's",
        owner_id=people.other_member.id,
    )  # fmt: skip
    await actions.update_action(
        db, actor=people.member, action_id=done.id, status=ActionStatus.DONE
    )
    async with db.read() as session:
        work = await actions.open_work(session, people.member)
    assert [a.title for a in work] == ["Refund"]
