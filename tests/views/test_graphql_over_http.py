"""GraphQL over HTTP conformance: the ``graphql-http`` npm package's server audits, run against a
real uvicorn serving Muster, with a real API token on every request; every MUST and SHOULD passes.
Two audits query ``__type``: with introspection off (production) they fail, and only they do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from app.models import TokenScope
from app.services import tokens
from tests.conftest import missing
from tests.live.conftest import ROOT, free_port, serving
from tests.schema.conftest import app_for

AUDIT = ROOT / "tests" / "graphql_http"


@pytest.fixture
def audit_runner():
    if shutil.which("node") is None:
        missing("Node.js is not installed: the GraphQL over HTTP audit needs `node` (20+)")
    if not (AUDIT / "node_modules" / "graphql-http").is_dir():
        missing(
            "tests/graphql_http/node_modules is missing: run `npm ci --prefix tests/graphql_http`"
        )
    return AUDIT / "audit.mjs"


INTROSPECTING = {
    "MUST allow map {variables} parameter when accepting application/json",
    "SHOULD allow map {variables} parameter when accepting application/graphql-response+json",
}


@pytest.mark.parametrize("introspection", [True, False], ids=["introspection", "production"])
async def test_every_must_and_should_audit_passes(
    db, database_url, people, audit_runner, introspection
):
    _, secret = await tokens.create_token(
        db, user=people.member, name="audit", scope=TokenScope.READ
    )
    port = free_port()
    with serving(app_for(database_url, graphiql=introspection), port) as url:
        ran = subprocess.run(  # noqa: ASYNC221 (the server runs in its own thread)
            ["node", str(audit_runner), url + "/graphql"],
            env={"PATH": os.environ["PATH"], "MUSTER_TOKEN": secret},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)
    assert len(results) > 30  # the suite ran, not an empty list
    failing = {
        r["name"]: r["reason"]
        for r in results
        if r["name"].startswith(("MUST", "SHOULD")) and r["status"] != "ok"
    }
    expected = set() if introspection else INTROSPECTING
    assert set(failing) == expected, failing
