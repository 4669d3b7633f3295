"""Fuzzing the GraphQL API with schemathesis as a viewer, a member and an admin: whatever the
operations and arguments, the server answers without a 5xx and without an internal error."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from app.models import TokenScope
from app.services import declarations, tokens
from tests.schema.conftest import app_for

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"
EXAMPLES = 8


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the fuzzing exercises the API layer; once, on SQLite, is enough")
    return database_url


@pytest.mark.parametrize("persona", ["viewer", "member", "admin"])
async def test_no_server_errors(sqlite_only, db, people, persona):
    user = getattr(people, persona)
    _, secret = await tokens.create_token(db, user=user, name="fuzz", scope=TokenScope.READ_WRITE)
    await declarations.declare(db, actor=people.member, name="Something to act on")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.graphql.from_path(str(SDL))
    failures = []
    with TestClient(app_for(sqlite_only)) as client:
        for result in schema.get_all_operations():
            fuzz(client, headers, result.ok(), failures)
    assert failures == []


def fuzz(client, headers, operation, failures):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: CI never fails by chance
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        response = client.post("/graphql", json={"query": case.body}, headers=headers)
        errors = (response.json().get("errors") or []) if response.content else []
        internal = [e for e in errors if e.get("extensions", {}).get("code") == "INTERNAL"]
        if response.status_code >= 500 or internal:
            failures.append((operation.label, case.body, response.text[:300]))

    run()
