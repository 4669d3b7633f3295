"""The ``muster`` command, run as a user runs it: as a separate process."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

MUSTER = [sys.executable, "-m", "app.cli"]
ROOT = Path(__file__).resolve().parent.parent


def run(*args, env=None, cwd=None, check=True):
    environ = {**os.environ, **(env or {})}
    result = subprocess.run(
        [*MUSTER, *args], env=environ, cwd=cwd or ROOT, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Server:
    def __init__(self, args, env, cwd=ROOT):
        self.port = free_port()
        self.process = subprocess.Popen(
            [*MUSTER, *args, "--port", str(self.port)],
            env={**os.environ, **env},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(self.process.stdout.read())
            try:
                get(self.url + "/healthz")
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=15)


@pytest.fixture
def sqlite_env(tmp_path):
    return {
        "MUSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "MUSTER_SECRET_KEY": "k" * 32,
    }


def test_upgrade_add_user_and_create_token(sqlite_env):
    assert "up to date" in run("db", "upgrade", env=sqlite_env).stdout
    run("db", "upgrade", env=sqlite_env)  # running it again is harmless
    added = run("users", "add", "Sam@Example.com", "--name", "Sam Rivera", "--role", "responder",
                env=sqlite_env)  # fmt: skip
    assert "Sam Rivera <sam@example.com> as responder" in added.stdout
    again = run("users", "add", "sam@example.com", env=sqlite_env, check=False)
    assert again.returncode == 1
    assert "already a user" in again.stderr and "Traceback" not in again.stderr

    created = run("tokens", "create", "sam@example.com", "--scope", "read-write", env=sqlite_env)
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("mst_")
    missing = run("tokens", "create", "nobody@example.com", env=sqlite_env, check=False)
    assert missing.returncode == 1 and "No user" in missing.stderr

    check = (
        "import asyncio, sys\n"
        "from app.db import Database\n"
        "from app.services.tokens import authenticate\n"
        "async def main():\n"
        "    db = Database(sys.argv[1])\n"
        "    found = await authenticate(db, sys.argv[2])\n"
        "    await db.dispose()\n"
        "    print(found[0].email, found[1].scope.name)\n"
        "asyncio.run(main())\n"
    )
    url = sqlite_env["MUSTER_DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://")
    result = subprocess.run(
        [sys.executable, "-c", check, url, token], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["sam@example.com", "READ_WRITE"]


def test_serve_answers_health_and_readiness(sqlite_env):
    run("db", "upgrade", env=sqlite_env)
    server = Server(["serve"], sqlite_env)
    try:
        assert get(server.url + "/healthz") == (200, {"status": "ok"})
        assert get(server.url + "/readyz") == (200, {"status": "ready"})
    finally:
        server.stop()


def test_serve_with_worker_processes_answers_readiness(sqlite_env):
    # Worker processes import the app factory by name and read the same settings themselves.
    run("db", "upgrade", env=sqlite_env)
    server = Server(["serve", "--workers", "2"], sqlite_env)
    try:
        assert get(server.url + "/readyz") == (200, {"status": "ready"})
    finally:
        server.stop()


def test_readiness_fails_fast_when_the_database_is_down():
    env = {
        "MUSTER_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "MUSTER_SECRET_KEY": "k" * 32,
    }
    server = Server(["serve"], env)
    try:
        started = time.monotonic()
        status, body = get(server.url + "/readyz")
        assert status == 503 and body["status"] == "unavailable"
        assert time.monotonic() - started < 5
    finally:
        server.stop()


def test_serve_refuses_bad_settings_with_one_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_")}
    result = subprocess.run(
        [*MUSTER, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("muster: MUSTER_SECRET_KEY is required")
    assert len(result.stderr.strip().splitlines()) == 1


def test_dev_sign_in_refuses_to_listen_beyond_this_machine():
    env = {"MUSTER_SECRET_KEY": "s" * 32, "MUSTER_DEV_LOGIN": "1"}
    result = run("serve", "--host", "0.0.0.0", env=env, check=False)
    assert result.returncode == 2
    assert "MUSTER_DEV_LOGIN" in result.stderr and "0.0.0.0" in result.stderr
    public = {**env, "MUSTER_BASE_URL": "https://muster.example.com"}
    result = run("serve", env=public, check=False)
    assert result.returncode == 2 and "MUSTER_DEV_LOGIN" in result.stderr


def test_demo_refuses_to_listen_beyond_this_machine(tmp_path):
    result = run("demo", "--host", "0.0.0.0", cwd=tmp_path, check=False)
    assert result.returncode == 2 and "only listens on this machine" in result.stderr
    assert not (tmp_path / "muster-demo.db").exists()


def test_demo_refuses_bad_settings_before_replacing_the_old_demo(tmp_path):
    (tmp_path / "muster-demo.db").write_text("the old demo")
    result = run("demo", env={"MUSTER_LOG_LEVEL": "loud"}, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("muster: MUSTER_LOG_LEVEL must be one of")
    assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "muster-demo.db").read_text() == "the old demo"


def test_demo_serves_a_seeded_database(tmp_path):
    (tmp_path / "muster-demo.db").write_text("an old demo, replaced by a fresh one")
    server = Server(["demo"], {}, cwd=tmp_path)
    try:
        assert get(server.url + "/readyz") == (200, {"status": "ready"})
        printed = ""
        while "Authorization: Bearer" not in printed:
            printed = server.process.stdout.readline()
        secret = printed.split("Bearer", 1)[1].strip()
        request = urllib.request.Request(
            server.url
            + "/graphql?query="
            + urllib.parse.quote("{ viewer { email } incidents { totalCount } }"),
            headers={"Authorization": f"Bearer {secret}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.loads(response.read())["data"]
        assert data["viewer"]["email"] == "sre@demo.muster"
        assert data["incidents"]["totalCount"] >= 25
        # The demo's own settings (dev sign-in on) reach the app without an environment saying so.
        with urllib.request.urlopen(server.url + "/auth/sign-in", timeout=10) as response:
            page = LexborHTMLParser(response.read().decode())
        offered = {b.attributes["value"] for b in page.css("form.personas button[name=email]")}
        assert {"support@demo.muster", "sre@demo.muster", "exec@demo.muster"} <= offered
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "muster-demo.db") as connection:
        incidents = connection.execute("SELECT count(*) FROM incidents").fetchone()[0]
        personas = connection.execute(
            "SELECT count(*) FROM users WHERE email LIKE '%@demo.muster'"
        ).fetchone()[0]
    assert incidents >= 25
    assert personas >= 5
