"""Full-text search over incidents: their name, summary and every update shared on them.

Each incident has one search document, rewritten by the services whenever one of those texts
changes. SQLite keeps it in an FTS5 table (rowid = incident id), PostgreSQL in a ``tsvector``
column with a GIN index; both tokenise the same simple way and match every word typed as a
prefix, so "check fail" finds "Checkout failures". The tables are created by migration 0002 and
are not models (SQLite's virtual table has no SQLAlchemy form).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import ColumnElement, Integer, column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Incident, IncidentUpdate

MAX_TERMS = 12
_WORD = re.compile(r"\w+")


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def index(
    session: AsyncSession, incident: Incident, updates: Iterable[str] | None = None
) -> None:
    """Rewrite the incident's search document; ``updates`` are loaded unless given."""
    if updates is None:
        query = select(IncidentUpdate.message).where(IncidentUpdate.incident_id == incident.id)
        updates = list(await session.scalars(query.order_by(IncidentUpdate.id)))
    body = "\n".join([incident.name, incident.summary, *updates])
    if _dialect(session) == "sqlite":
        await session.execute(
            text("DELETE FROM incident_search WHERE rowid = :id"), {"id": incident.id}
        )
        await session.execute(
            text("INSERT INTO incident_search (rowid, body) VALUES (:id, :body)"),
            {"id": incident.id, "body": body},
        )
        return
    await session.execute(
        text(
            "INSERT INTO incident_search (incident_id, document) "
            "VALUES (:id, to_tsvector('simple', :body)) "
            "ON CONFLICT (incident_id) DO UPDATE SET document = excluded.document"
        ),
        {"id": incident.id, "body": body},
    )


def terms(query: str) -> list[str]:
    """The words of a search, lower-cased; punctuation and operators are ignored."""
    return _WORD.findall(query.lower())[:MAX_TERMS]


def matching(dialect: str, query: str) -> ColumnElement[bool] | None:
    """A WHERE condition on ``Incident.id`` for incidents matching every word, or None."""
    words = terms(query)
    if not words:
        return None
    if dialect == "sqlite":
        expression = " AND ".join(f'"{word}"*' for word in words)
        ids = text("SELECT rowid FROM incident_search WHERE incident_search MATCH :q")
        return Incident.id.in_(ids.bindparams(q=expression).columns(column("rowid", Integer)))
    expression = " & ".join(f"{word}:*" for word in words)
    ids = text("SELECT incident_id FROM incident_search WHERE document @@ to_tsquery('simple', :q)")
    return Incident.id.in_(ids.bindparams(q=expression).columns(column("incident_id", Integer)))
