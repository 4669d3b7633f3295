"""The cost limit: nested pages multiply, aliases and fragments add, variables count, and an
operation over the limit is refused before it reads anything; the web pages' own operations
stay well under it. Also the time limit, and a query stopped when its client goes away."""

from __future__ import annotations

import asyncio
import contextlib

import httpx2
import pytest
from graphql import get_operation_ast, parse
from sqlalchemy import event, text

from app.services import declarations
from schema import build_schema, cost, limits, schema
from tests.live.conftest import free_port, serving
from tests.schema.conftest import app_for
from views import operations

WEB_OPERATIONS = operations.load(build_schema())


NESTED = """query($outer: Int!, $inner: Int!) { incidents(first: $outer) { edges { node {
  timeline(first: $inner) { edges { node { incident { timeline(first: $inner) {
    edges { node { kind } } } } } } } } } } }"""

PAGE = (
    "incidents(first: 100) { edges { node { timeline(first: 50) { edges { node { kind } } } } } }"
)


def cost_of(query: str, variables: dict | None = None) -> int:
    document = parse(query)
    operation = get_operation_ast(document, None)
    assert operation is not None
    return cost.operation_cost(schema._schema, document, operation, variables)


@pytest.mark.parametrize("name", sorted(WEB_OPERATIONS))
def test_every_web_operation_costs_at_most_half_the_limit(name):
    assert cost_of(WEB_OPERATIONS[name]) <= cost.MAX_COST // 2


def test_pages_multiply_along_a_path_and_aliases_and_fragments_add():
    one = cost_of("{ " + PAGE + " }")
    assert cost_of("{ a: " + PAGE + " b: " + PAGE + " }") == 2 * one
    spread = "fragment T on Incident { timeline(first: 50) { edges { node { kind } } } } "
    twice = "{ incidents(first: 100) { edges { node { ...T again: timeline(first: 50) {" \
        " edges { node { kind } } } } } } }"  # fmt: skip
    assert cost_of(spread + twice) > cost_of("{ " + PAGE + " }") * 1.9
    assert cost_of(NESTED, {"outer": 10, "inner": 10}) * 50 < cost_of(
        NESTED, {"outer": 100, "inner": 100}
    )


def count_statements(engine, seen):
    def count(*args):
        if not args[2].startswith(("BEGIN", "SELECT 1")):
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    return lambda: event.remove(engine, "before_cursor_execute", count)


async def test_an_operation_over_the_limit_is_refused_before_it_reads(api, people):
    member = await api.as_(people.member)
    engine = api.http._transport.app.state.services.db.engine.sync_engine
    seen: list[str] = []
    stop = count_statements(engine, seen)
    try:
        response = await member.post(NESTED, {"outer": 100, "inner": 100})
    finally:
        stop()
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "TOO_COSTLY"
    assert f"the limit is {cost.MAX_COST}" in error["message"]
    assert response.json()["data"] is None
    assert not [s for s in seen if "incidents" in s]  # the credential check, nothing more
    allowed = await member(NESTED, {"outer": 5, "inner": 5})
    assert allowed["incidents"]["edges"] == []


async def test_aliases_push_an_operation_over_the_limit(api, people):
    member = await api.as_(people.member)
    fits = cost.MAX_COST // cost_of("{ " + PAGE + " }")
    under = "{ " + " ".join(f"a{n}: {PAGE}" for n in range(fits)) + " }"
    assert (await member(under))["a0"]["edges"] == []
    over = await member.post("{ " + " ".join(f"a{n}: {PAGE}" for n in range(fits + 1)) + " }")
    assert over.json()["errors"][0]["extensions"]["code"] == "TOO_COSTLY"


async def test_a_query_past_the_time_limit_is_stopped(database_url, db, people, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "holding a lock that stops readers needs PostgreSQL (SQLite readers never wait)"
        )
    from app.models import TokenScope
    from app.services import tokens

    await declarations.declare(db, actor=people.member, name="Locked away")
    _, secret = await tokens.create_token(db, user=people.member, name="t", scope=TokenScope.READ)
    monkeypatch.setattr(limits, "QUERY_TIME_LIMIT", 0.5)
    app = app_for(database_url)
    async with db.engine.connect() as locker:
        await locker.execute(text("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE"))
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://muster.test"
        ) as client:
            response = await client.post(
                "/graphql",
                json={"query": "{ incidents { totalCount } }"},
                headers={"Authorization": f"Bearer {secret}"},
            )
        await locker.rollback()
    await app.state.services.db.dispose()
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "TIME_LIMIT"


async def test_a_query_stops_when_its_client_goes_away(database_url, db, people, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "holding a lock that stops readers needs PostgreSQL (SQLite readers never wait)"
        )
    from app.models import TokenScope
    from app.services import tokens

    _, secret = await tokens.create_token(db, user=people.member, name="t", scope=TokenScope.READ)
    monkeypatch.setattr(limits, "QUERY_TIME_LIMIT", 60.0)  # only the client leaving stops it
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query ILIKE '%FROM incidents%'"
    )
    app = app_for(database_url)
    with serving(app, free_port()) as url:
        async with db.engine.connect() as locker:
            await locker.execute(text("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE"))
            client = httpx2.AsyncClient(base_url=url)
            request = asyncio.ensure_future(
                client.post(
                    "/graphql",
                    json={"query": "{ incidents { totalCount } }"},
                    headers={"Authorization": f"Bearer {secret}"},
                )
            )

            async def blocked() -> int:  # a new transaction each time: a new statistics snapshot
                async with db.engine.connect() as watcher:
                    return (await watcher.execute(waiting)).scalar_one()

            await until_value(blocked, lambda n: n >= 1)  # the query waits for the lock
            request.cancel()  # the client hangs up
            await client.aclose()
            await until_value(blocked, lambda n: n == 0)  # the server stopped its query
            await locker.rollback()
    await app.state.services.db.dispose()


async def until_value(read, ok, wait: float = 10.0):
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        value = await read()
        if ok(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"still {value}"
        await asyncio.sleep(0.05)


async def test_clients_hanging_up_mid_query_leave_no_error_behind(database_url, db, people, caplog):
    from app.models import TokenScope
    from app.services import tokens

    for n in range(30):
        await declarations.declare(db, actor=people.member, name=f"Incident {n}")
    _, secret = await tokens.create_token(db, user=people.member, name="t", scope=TokenScope.READ)
    query = "{ incidents(first: 100) { edges { node { name timeline(first: 20) { edges { node {" \
        " kind summary actor { name } } } } } } } }"  # fmt: skip
    app = app_for(database_url)
    with serving(app, free_port()) as url:
        async with httpx2.AsyncClient(base_url=url) as client:
            whole = await client.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {secret}"}
            )
            assert len(whole.json()["data"]["incidents"]["edges"]) == 30
        for wait in [0.001 * n for n in range(1, 40)]:
            async with httpx2.AsyncClient(base_url=url) as client:
                with contextlib.suppress(httpx2.TimeoutException):  # hung up, or answered
                    await client.post(
                        "/graphql", json={"query": query},
                        headers={"Authorization": f"Bearer {secret}"}, timeout=wait,
                    )  # fmt: skip
        async with httpx2.AsyncClient(base_url=url) as client:
            again = await client.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {secret}"}
            )
            assert again.status_code == 200 and "errors" not in again.json()
    await app.state.services.db.dispose()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
