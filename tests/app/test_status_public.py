"""What the public status page reads: public components by group, the overall indicator, open
incidents with their updates, upcoming maintenance, the paged history, and uptime per UTC day
from the status history (maintenance counts as up; no figure before a component existed). And
that nothing internal comes out: no internal-only component, and nothing of a private internal
incident a status incident is linked to."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from app.models import IncidentMode
from app.models.status_page import (
    AffectedComponent,
    ComponentStatus,
    ComponentStatusChange,
    StatusComponent,
    StatusIncident,
    StatusIncidentKind,
    StatusIncidentState,
    StatusUpdate,
)
from app.services import declarations, status_public
from app.services.status_public import Indicator

S = ComponentStatus


async def component(db, name, *, group=None, public=True, status=S.OPERATIONAL, position=0,
                    created_at=None, changes=()):  # fmt: skip
    """A component made at ``created_at`` with its status changes [(at, status)]."""
    made = created_at or db.now() - timedelta(days=200)
    async with db.write() as session:
        row = StatusComponent(
            name=name, description=f"{name} for customers", group_name=group, public=public,
            status=status, position=position, created_at=made, updated_at=made,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        session.add(
            ComponentStatusChange(component_id=row.id, status=S.OPERATIONAL, changed_at=made)
        )
        for at, changed in changes:
            session.add(ComponentStatusChange(component_id=row.id, status=changed, changed_at=at))
        return row.id


async def status_incident(db, title, *, kind=StatusIncidentKind.INCIDENT,
                          state=StatusIncidentState.INVESTIGATING, affected=(), messages=(),
                          incident_id=None, starts_at=None, ends_at=None):  # fmt: skip
    """A status incident with its updates (oldest first) and affected [(component, status)]."""
    now = db.now()
    async with db.write() as session:
        row = StatusIncident(
            kind=kind, incident_id=incident_id, title=title, state=state, starts_at=starts_at,
            ends_at=ends_at, created_at=now, updated_at=now,
            resolved_at=now if state in status_public.CLOSED else None,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        for message in messages:
            session.add(StatusUpdate(status_incident_id=row.id, state=state, message=message,
                                     created_at=now))  # fmt: skip
        for component_id, status in affected:
            session.add(AffectedComponent(status_incident_id=row.id, component_id=component_id,
                                          status=status))  # fmt: skip
        return row.id


async def secret_incident(db, people):
    """A private internal incident whose name must never reach the public page."""
    return await declarations.declare(
        db, actor=people.responder, name="Secret merger leak", private=True,
        mode=IncidentMode.STANDARD,
    )  # fmt: skip


def everything(*reads) -> str:
    """Every value of every read, as text, to search for what must not be there."""
    return repr([dataclasses.asdict(r) if dataclasses.is_dataclass(r) else r for r in reads])


async def test_uptime_counts_an_outage_and_maintenance_as_up(db):
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    outage_day = now - timedelta(days=3)
    maintained = now - timedelta(days=2)
    api = await component(db, "API", created_at=now - timedelta(days=10), changes=[
        (outage_day.replace(hour=8), S.MAJOR_OUTAGE),
        (outage_day.replace(hour=10), S.OPERATIONAL),
        (maintained.replace(hour=1), S.UNDER_MAINTENANCE),
        (maintained.replace(hour=5), S.OPERATIONAL),
    ])  # fmt: skip
    young = await component(db, "Young", created_at=now - timedelta(days=1, hours=6))
    async with db.read() as session:
        found = await status_public.uptime(session, [api, young], days=90, now=now)
    days = {d.day: d.fraction for d in found[api]}
    assert len(found[api]) == 90 and found[api][-1].day == now.date()
    assert found[api][0].day == now.date() - timedelta(days=89)
    assert days[outage_day.date()] == pytest.approx(22 / 24)
    assert days[maintained.date()] == 1.0
    assert days[now.date()] == 1.0  # up to now
    assert days[now.date() - timedelta(days=11)] is None  # before it existed
    assert days[now.date() - timedelta(days=10)] == 1.0  # made at noon: up since
    young_days = {d.day: d.fraction for d in found[young]}
    assert young_days[now.date() - timedelta(days=2)] is None
    assert young_days[now.date() - timedelta(days=1)] == 1.0
    async with db.read() as session:
        week = await status_public.uptime(session, [api], days=7, now=now)
    assert [d.day for d in week[api]] == [now.date() - timedelta(days=i) for i in range(6, -1, -1)]


async def test_public_components_by_group_and_the_indicator(db):
    await component(db, "API", group="Platform", position=1)
    dash = await component(db, "Dashboard", group="Platform", position=2)
    await component(db, "Website", position=0)
    hidden = await component(db, "Billing worker", public=False, status=S.MAJOR_OUTAGE)
    async with db.read() as session:
        listed = await status_public.components(session)
        inside = await status_public.components(session, internal=True)
    assert [(g.name, [c.name for c in g.components]) for g in status_public.groups(listed)] == [
        (None, ["Website"]), ("Platform", ["API", "Dashboard"]),
    ]  # fmt: skip
    assert hidden not in [c.id for c in listed] and hidden in [c.id for c in inside]
    assert status_public.overall(listed, []).indicator is Indicator.NONE
    assert status_public.overall(inside, []).indicator is Indicator.CRITICAL

    def with_status(status):
        return [dataclasses.replace(c, status=status) if c.id == dash else c for c in listed]

    assert (
        status_public.overall(with_status(S.DEGRADED_PERFORMANCE), []).indicator is Indicator.MINOR
    )
    assert status_public.overall(with_status(S.UNDER_MAINTENANCE), []).indicator is Indicator.MINOR
    assert status_public.overall(with_status(S.PARTIAL_OUTAGE), []).indicator is Indicator.MAJOR
    assert status_public.overall(with_status(S.MAJOR_OUTAGE), []).indicator is Indicator.CRITICAL
    assert status_public.overall(listed, []).description == "All systems operational."


async def test_open_incidents_maintenance_and_history(db):
    api = await component(db, "API")
    hidden = await component(db, "Billing worker", public=False)
    await status_incident(
        db, "Slow API", affected=[(api, S.DEGRADED_PERFORMANCE), (hidden, S.MAJOR_OUTAGE)],
        messages=["We are looking into it.", "We found the cause."],
    )  # fmt: skip
    soon = db.now() + timedelta(days=1)
    await status_incident(
        db, "Database upgrade", kind=StatusIncidentKind.MAINTENANCE,
        state=StatusIncidentState.SCHEDULED, starts_at=soon, ends_at=soon + timedelta(hours=1),
        affected=[(api, S.UNDER_MAINTENANCE)],
    )  # fmt: skip
    past = [
        await status_incident(db, f"Old {n}", state=StatusIncidentState.RESOLVED) for n in range(5)
    ]
    async with db.read() as session:
        (open_one,) = await status_public.open_incidents(session)
        (inside,) = await status_public.open_incidents(session, internal=True)
        (upcoming,) = await status_public.maintenance(session)
        first, more = await status_public.history(session, first=3)
        rest, no_more = await status_public.history(session, first=3, after=first[-1].id)
        overall = status_public.overall(await status_public.components(session), [open_one])
    assert [u.message for u in open_one.updates] == [
        "We found the cause.",
        "We are looking into it.",
    ]
    assert [c.name for c in open_one.components] == ["API"]
    assert {c.name for c in inside.components} == {"API", "Billing worker"}
    assert upcoming.title == "Database upgrade" and upcoming.starts_at == soon
    assert [i.id for i in first] == past[::-1][:3] and more
    assert [i.id for i in rest] == past[::-1][3:] and not no_more
    assert overall.indicator is Indicator.MINOR  # an open incident, every component operational


async def test_nothing_of_the_internal_incident_is_read(db, people):
    secret = await secret_incident(db, people)
    api = await component(db, "API")
    hidden = await component(db, "Merger room", public=False)
    linked = await status_incident(
        db, "Degraded API", incident_id=secret.id, messages=["We are on it."],
        affected=[(api, S.PARTIAL_OUTAGE), (hidden, S.MAJOR_OUTAGE)],
    )  # fmt: skip
    only_internal = await status_incident(
        db, "Quiet", incident_id=secret.id, affected=[(hidden, S.MAJOR_OUTAGE)]
    )
    async with db.read() as session:
        reads = [
            await status_public.page_settings(session),
            *await status_public.components(session),
            *await status_public.open_incidents(session),
            *await status_public.maintenance(session),
            *(await status_public.history(session, first=50))[0],
            await status_public.incident(session, linked),
            await status_public.incident(session, only_internal),
        ]
    text = everything(*reads)
    for leak in (
        "Secret merger leak",
        secret.reference,
        "Merger room",
        "incident_id",
        "created_by",
    ):
        assert leak not in text
    assert not any(hasattr(r, "incident_id") for r in reads)
    quiet = next(r for r in reads if getattr(r, "id", None) == only_internal)
    assert quiet.components == []  # listed, naming no internal component


async def test_the_settings_answer_with_defaults_while_missing(db):
    async with db.read() as session:
        found = await status_public.page_settings(session)
    assert found.title == "Status"  # the migration's row, or the defaults after a TRUNCATE
