"""Alembic migrations for Muster's database (configured in pyproject.toml under [tool.alembic])."""
