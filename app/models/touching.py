"""Which writes change what processes keep copies of, marked as they are flushed or executed.

Signed-in pages (``Touched.PAGES``): a rendering is shared by everyone who sees the same, so any
write may change one, except to the rows no shared page shows (``_NOT_ON_PAGES``: sign-ins and
sessions, tokens, jobs and their bookkeeping, deliveries, people's own preferences, the
reference counter). A table not listed there is taken to be shown, so a new model can only make
pages drawn again too often, never stale. A write whose page rows all belong to private
incidents (``_OF_AN_INCIDENT``: shown only through their incident, and it private before and
after) reaches only those incidents' members and the people those rows name (``Reach``), so
nobody outside a private incident finds their pages drawn again, or slower, because of it; any
other write, or an UPDATE, DELETE or INSERT statement on a shown table, reaches everyone.
Credentials (``Touched.CREDENTIALS``): a change to a person (their role, their
being active), a session ending or a token revoked, since a process remembers whom a credential
names; a session being used (its ``last_seen_at``) or a token's ``last_used_at`` is not one. The
status page's own marks are in ``app.models.status_page``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import InstanceState, ORMExecuteState, Session

from app.db import EVERYONE, Reach, Touched, touching
from app.models.incidents import (
    Action,
    Counter,
    CustomFieldValue,
    Follower,
    IdempotencyKey,
    Incident,
    IncidentUpdate,
    Member,
    RoleAssignment,
    TimelineEvent,
)
from app.models.jobs import Job, Nudge, OutboxPosition
from app.models.notifications import Notification, NotificationPreference
from app.models.status_page import StatusDelivery, StatusSubscriber
from app.models.users import ApiToken, BrowserSession, PendingSignIn, User
from app.models.webhooks import WebhookDelivery
from app.models.workflows import WorkflowRun

_NOT_ON_PAGES = (
    ApiToken,
    BrowserSession,
    Counter,
    IdempotencyKey,
    Job,
    NotificationPreference,
    Nudge,
    OutboxPosition,
    PendingSignIn,
    StatusDelivery,
    StatusSubscriber,
    WebhookDelivery,
    WorkflowRun,
)
# Rows shown only through the incident they belong to, and the columns naming people they concern.
_OF_AN_INCIDENT = (
    Incident,
    Action,
    CustomFieldValue,
    Follower,
    IncidentUpdate,
    Member,
    Notification,
    RoleAssignment,
    TimelineEvent,
)
_PEOPLE_COLUMNS = ("user_id", "owner_id")
_NOT_ON_PAGES_TABLES = frozenset(model.__table__ for model in _NOT_ON_PAGES)
_CREDENTIAL_TABLES = frozenset(model.__table__ for model in (User, ApiToken, BrowserSession))
_SESSION_TABLE = frozenset({BrowserSession.__table__})


def _ends_credentials(row: Any, deleted: bool) -> bool:
    if isinstance(row, User):
        return True
    if isinstance(row, BrowserSession):
        return deleted
    if isinstance(row, ApiToken):
        return deleted or inspect(row).attrs.revoked_at.history.has_changes()
    return False


def _reach(session: Session, row: object) -> Reach:
    """Whom a changed row on pages concerns: a private incident's members and the people it
    names, if it belongs to an incident that was private before and stays private; else all."""
    if not isinstance(row, _OF_AN_INCIDENT):
        return EVERYONE
    if isinstance(row, Incident):
        incident: Incident | None = row
        if inspect(row).attrs.private.history.deleted:  # made public, or made private
            return EVERYONE
    else:
        with session.no_autoflush:
            incident = session.get(Incident, row.incident_id) if row.incident_id else None
    if incident is None or not incident.private:
        return EVERYONE
    state: InstanceState[Any] = inspect(row)
    people = {
        person
        for column in _PEOPLE_COLUMNS
        if column in state.attrs
        for person in (*state.attrs[column].history.sum(), getattr(row, column))
        if person is not None
    }
    return Reach(False, frozenset({incident.id}), frozenset(people))


@event.listens_for(Session, "after_flush")
def _mark_pages(session: Session, _context: object) -> None:
    """(After the flush: a new incident has its id, and rows still say what they were.)"""
    changed = [
        row
        for row in (*session.new, *session.dirty, *session.deleted)
        if not isinstance(row, _NOT_ON_PAGES)
    ]
    if changed:
        reach = Reach()
        for row in changed:
            reach |= _reach(session, row)
            if reach.everyone:
                break
        touching(session, Touched.PAGES, reach)


@event.listens_for(Session, "before_flush")
def _mark_flushed(session: Session, _context: object, _instances: object) -> None:
    if any(_ends_credentials(row, False) for row in session.dirty) or any(
        _ends_credentials(row, True) for row in session.deleted
    ):
        touching(session, Touched.CREDENTIALS)


@event.listens_for(Session, "do_orm_execute")
def _mark_statements(state: ORMExecuteState) -> None:
    """An UPDATE, DELETE or INSERT statement marks its transaction as its table says; updating
    a session (it was used) ends no credential, deleting one does."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table not in _NOT_ON_PAGES_TABLES:
        touching(state.session, Touched.PAGES)
    # (an ORM statement's table is an annotated copy: equal to the table, not the same object)
    used = state.is_update and table in _SESSION_TABLE  # a session seen, not ended
    if table in _CREDENTIAL_TABLES and not state.is_insert and not used:
        touching(state.session, Touched.CREDENTIALS)
