"""Migrations upgrade and downgrade on both databases, and match the models."""

import asyncio
import os

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import Base


def alembic_config(url):
    config = Config()
    config.set_main_option("script_location", "migrations")
    config.attributes["database_url"] = url
    return config


async def table_names(url):
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    # The full-text search tables are raw SQL, not models (see app/search.py).
    return {n for n in names if n != "alembic_version" and not n.startswith("incident_search")}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path, postgres_url_factory):
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    return postgres_url_factory("muster_migrations")


@pytest.fixture
def postgres_url_factory(request):
    def make(name):
        base, _, own = request.getfixturevalue("postgres_url").rpartition("/")
        dsn = base.replace("postgresql+asyncpg://", "postgresql://")
        name = f"{name}_{os.getpid()}"

        async def recreate():
            connection = await asyncpg.connect(f"{dsn}/{own}")
            await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await connection.execute(f"CREATE DATABASE {name}")
            await connection.close()

        asyncio.run(recreate())
        return f"{base}/{name}"

    return make


def test_upgrade_check_downgrade_upgrade(empty_database):
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    assert asyncio.run(table_names(empty_database)) == set(Base.metadata.tables)
    command.check(config)  # the models and the migrations describe the same schema
    command.downgrade(config, "base")
    assert asyncio.run(table_names(empty_database)) == set()
    command.upgrade(config, "head")
    assert asyncio.run(table_names(empty_database)) == set(Base.metadata.tables)
