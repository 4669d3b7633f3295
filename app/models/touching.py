"""Which writes change what processes keep copies of, marked as they are flushed or executed.

Signed-in pages (``Touched.PAGES``): a rendering is shared by everyone who sees the same, so any
write may change one, except to the rows no shared page shows (``_NOT_ON_PAGES``: sign-ins and
sessions, tokens, jobs and their bookkeeping, deliveries, people's own preferences). A table
not listed there is taken to be shown, so a new model can only make pages drawn again too
often, never stale. Credentials (``Touched.CREDENTIALS``): a change to a person (their role, their
being active), a session ending or a token revoked, since a process remembers whom a credential
names; a session being used (its ``last_seen_at``) or a token's ``last_used_at`` is not one. The
status page's own marks are in ``app.models.status_page``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from app.db import Touched, touching
from app.models.incidents import IdempotencyKey
from app.models.jobs import Job, Nudge, OutboxPosition
from app.models.notifications import NotificationPreference
from app.models.status_page import StatusDelivery, StatusSubscriber
from app.models.users import ApiToken, BrowserSession, PendingSignIn, User
from app.models.webhooks import WebhookDelivery
from app.models.workflows import WorkflowRun

_NOT_ON_PAGES = (
    ApiToken,
    BrowserSession,
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


@event.listens_for(Session, "before_flush")
def _mark_flushed(session: Session, _context: object, _instances: object) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(not isinstance(row, _NOT_ON_PAGES) for row in changed):
        touching(session, Touched.PAGES)
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
