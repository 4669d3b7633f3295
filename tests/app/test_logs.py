"""Log lines of a real ``muster serve``: one JSON object per line with MUSTER_LOG_FORMAT=json,
uvicorn's lines included, and a masked error's line carrying the request id the client saw;
plain lines with timestamps by default."""

from __future__ import annotations

import json
import re

import httpx2
from sqlalchemy import text

from app.models import TokenScope
from app.services import tokens
from tests.live.conftest import servers  # noqa: F401

QUERY = {"query": "{ severities { name } }"}


async def _rename(db, table: str, to: str) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {table} RENAME TO {to}"))


async def test_json_lines_carry_the_request_id_of_a_masked_error(servers, db, people):  # noqa: F811
    _, secret = await tokens.create_token(db, user=people.member, name="t", scope=TokenScope.READ)
    server = servers(MUSTER_LOG_FORMAT="json", MUSTER_LOG_LEVEL="info")
    await _rename(db, "severities", "severities_gone")  # reading them is now a bug: masked
    try:
        async with httpx2.AsyncClient(base_url=server.url) as http:
            answer = await http.post(
                "/graphql", json=QUERY, headers={"Authorization": f"Bearer {secret}"}
            )
    finally:
        await _rename(db, "severities_gone", "severities")  # as the test database's end needs
    error = answer.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL"
    reference = error["extensions"]["requestId"]
    assert answer.headers["x-request-id"] == reference
    server.stop()
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
    for line in lines:
        assert {"timestamp", "level", "logger", "message", "request_id"} <= line.keys(), line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["timestamp"])
    failed = [line for line in lines if line["level"] == "ERROR"]
    assert [line["request_id"] for line in failed] == [reference]
    assert failed[0]["logger"] == "muster.graphql"
    assert reference in failed[0]["message"]
    assert "severities" in failed[0]["exception"]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any("POST /graphql" in line["message"] and line["request_id"] == reference
               for line in access)  # fmt: skip
    started = [line for line in lines if "Application startup complete" in line["message"]]
    assert started and started[0]["request_id"] == "-"  # logged outside any request


async def test_plain_lines_have_timestamps(servers, db):  # noqa: F811
    server = servers()
    async with httpx2.AsyncClient(base_url=server.url) as http:
        answer = await http.get("/healthz")
    server.stop()
    request = answer.headers["x-request-id"]
    lines = server.log.read_text().splitlines()
    access = [line for line in lines if "GET /healthz" in line and request in line]
    assert access, lines
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO uvicorn.access \[", access[0])
