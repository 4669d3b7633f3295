"""Test data: catalog entries found by name or category, and incidents in the shapes several
test modules build (one merged into another that then became private)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import EventKind, TimelineEvent
from app.services import catalog, declarations, incidents


async def named(db, model, name):
    """The catalog entry of ``model`` called ``name``."""
    async with db.read() as session:
        return (await session.scalars(select(model).where(model.name == name))).one()


async def status_in(db, category):
    """The first status of ``category``."""
    async with db.read() as session:
        return await catalog.first_status(session, category)


async def lead_role(db):
    """The incident role of kind LEAD."""
    async with db.read() as session:
        return next(r for r in await catalog.list_incident_roles(session) if r.kind.name == "LEAD")


async def merged_into_private(db, people) -> TimelineEvent:
    """INC-1 merged into INC-2 while both were public; then INC-2 was made private by the
    responder (a member of it now). INC-1's first event, to replay from."""
    source = await declarations.declare(db, actor=people.responder, name="Checkout errors")
    target = await declarations.declare(db, actor=people.responder, name="Payments down")
    await incidents.merge(db, actor=people.responder, incident_id=source.id, into_id=target.id)
    await incidents.change_visibility(
        db, actor=people.responder, incident_id=target.id, private=True
    )
    async with db.read() as session:
        declared = await session.scalar(
            select(TimelineEvent).where(
                TimelineEvent.incident_id == source.id, TimelineEvent.kind == EventKind.DECLARED
            )
        )
    assert declared is not None
    return declared
