"""Alembic's environment: runs migrations on Muster's async engine, SQLite or PostgreSQL.

The database comes from ``config.attributes["database_url"]`` when ``muster db upgrade`` calls
Alembic, else (``alembic`` run by hand) from ``MUSTER_DATABASE_URL`` as ``app.config`` reads it.
SQLite gets batch mode so columns and constraints can be altered. The models' metadata is used
only to compare (``alembic check``, autogenerate); the revision scripts themselves never import
the models, so an old revision stays as it was written.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy import DateTime
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import database_url_from_env
from app.models import Base
from app.models.base import UTCDateTime

config = context.config


def _url() -> str:
    given = config.attributes.get("database_url")
    if given:
        return str(given)
    return database_url_from_env()


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    # Write our UTC timestamp type as the plain SQLAlchemy type it stores as.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _compare_type(
    ctx: Any, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    if isinstance(metadata_type, UTCDateTime) and isinstance(inspected_type, DateTime):
        return False
    return None


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # The full-text search tables are raw SQL (see app/search.py), not models.
    return not (type_ == "table" and name is not None and name.startswith("incident_search"))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=_include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=_compare_type,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Muster's migrations run online only: give a database URL.")
connection = config.attributes.get("connection")
if connection is not None:
    _configure(connection)
else:
    asyncio.run(_run())
