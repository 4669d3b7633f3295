"""Following incidents: anyone who can see an incident may follow it to hear of its updates.

Following is personal: it is not recorded on the incident's timeline and does not change the
incident's version.
"""

from __future__ import annotations

from app import policy
from app.db import Database
from app.errors import Invalid
from app.models import Follower, Incident, User
from app.services.changes import changing


async def follow(db: Database, *, actor: User, incident_id: int) -> Incident:
    async with changing(db, actor, incident_id, allowed=policy.can_view) as change:
        session = change.session
        if await session.get(Follower, (incident_id, actor.id)) is not None:
            raise Invalid("You already follow this incident.", field="incidentId")
        session.add(Follower(incident_id=incident_id, user_id=actor.id, followed_at=change.now))
        return change.incident


async def unfollow(db: Database, *, actor: User, incident_id: int) -> Incident:
    async with changing(db, actor, incident_id, allowed=policy.can_view) as change:
        session = change.session
        follower = await session.get(Follower, (incident_id, actor.id))
        if follower is None:
            raise Invalid("You do not follow this incident.", field="incidentId")
        await session.delete(follower)
        return change.incident
