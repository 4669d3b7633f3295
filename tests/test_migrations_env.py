"""Alembic run by hand (``alembic upgrade head``, configured in pyproject.toml) takes the database
from ``MUSTER_DATABASE_URL`` as ``app.config`` reads it: the driver named, a bad URL refused."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def alembic(*args, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_")}
    env["MUSTER_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_upgrade_by_hand_uses_the_configured_database(tmp_path):
    path = tmp_path / "by-hand.db"
    # A plain sqlite:// URL: only app.config's reading gives it the async driver Alembic runs on.
    result = alembic("upgrade", "head", database_url=f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {"incidents", "users", "timeline_events"} <= tables
    heads = alembic("heads", database_url=f"sqlite:///{path}")
    assert heads.stdout.split()[0] == version


def test_upgrade_by_hand_refuses_a_bad_url_as_config_words_it(tmp_path):
    result = alembic("upgrade", "head", database_url="mysql://nobody@db/muster")
    assert result.returncode != 0
    assert "MUSTER_DATABASE_URL uses an unsupported database 'mysql'" in result.stderr
