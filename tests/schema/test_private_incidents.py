"""What the outside review found about private incidents, through the API over HTTP: idempotent
replays answer only what the caller may see now and expire; merge events name the other
incident only to those who may see it; ids, cursors and references give nothing away (no
counts, no forgeries, no Unicode digits) and a hidden incident costs the same statements as a
missing one."""

import base64
import json
import sqlite3
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import event, select, text, update

from app.models import IdempotencyKey, Incident
from schema import ids
from tests.schema.conftest import Api, app_for

DECLARE = """mutation($input: DeclareIncidentInput!) { declareIncident(input: $input) {
  incident { reference name updates { message } members { name } timeline { totalCount } }
  userErrors { field message code } } }"""
TIMELINE = """query($ref: String!) { incident(reference: $ref) {
  mergedInto { reference } timeline { edges { node { kind summary } } } } }"""


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
async def served_api(db, database_url):
    """The app and an API client on it (so a test can watch the app's own engine)."""
    app = app_for(database_url)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://muster.test") as http:
        yield app, Api(db, http)
    await app.state.services.db.dispose()


async def point_key_nowhere(db, database_url, key: str) -> None:
    """Make an idempotency key name an incident that does not exist (foreign keys forbid it, so
    they are switched off for this one change)."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"))
        with connection:  # the standard library leaves foreign keys off
            connection.execute(
                "UPDATE idempotency_keys SET incident_id = 999999 WHERE key = ?", (key,)
            )
        connection.close()
        return
    async with db.write() as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(
            update(IdempotencyKey).where(IdempotencyKey.key == key).values(incident_id=999_999)
        )


async def test_a_replay_after_removal_answers_as_for_a_missing_incident(
    api, db, database_url, people
):
    member = await api.as_(people.member)
    responder = await api.as_(people.responder)
    secret = {"name": "Payroll leak", "private": True, "idempotencyKey": "k-secret"}
    first = (await member(DECLARE, {"input": secret}))["declareIncident"]
    assert first["userErrors"] == [] and first["incident"]["reference"] == "INC-1"
    async with db.read() as session:
        incident = await session.scalar(select(Incident).where(Incident.number == 1))
    me = ids.encode("User", people.member.id)
    them = ids.encode("User", people.responder.id)
    invite = """mutation($i: ID!, $u: ID!) { inviteToIncident(input: {incidentId: $i, userId: $u})
      { userErrors { message } } }"""
    remove = """mutation($i: ID!, $u: ID!) { removeFromIncident(input: {incidentId: $i, userId: $u})
      { userErrors { message } } }"""
    hidden = ids.encode("Incident", incident.id)
    assert (await member(invite, {"i": hidden, "u": them}))["inviteToIncident"]["userErrors"] == []
    rename = """mutation($i: ID!) { changeIncidentDetails(input: {incidentId: $i, name: "Renamed"})
      { userErrors { message } } }"""
    assert (await responder(rename, {"i": hidden}))["changeIncidentDetails"]["userErrors"] == []
    assert (await responder(remove, {"i": hidden, "u": me}))["removeFromIncident"][
        "userErrors"
    ] == []

    replayed = await member.post(DECLARE, {"input": secret})
    # The same answer as a key whose incident does not exist: declared publicly, then gone.
    public = {"name": "Printer", "idempotencyKey": "k-gone"}
    assert (await member(DECLARE, {"input": public}))["declareIncident"]["userErrors"] == []
    await point_key_nowhere(db, database_url, "k-gone")
    gone = await member.post(DECLARE, {"input": public})
    assert replayed.status_code == gone.status_code == 200
    assert replayed.content == gone.content
    assert replayed.json() == {"data": {"declareIncident": {"incident": None, "userErrors": [
        {"field": "idempotencyKey", "message": "No incident with that id.", "code": "NOT_FOUND"}
    ]}}}  # fmt: skip
    assert b"Renamed" not in replayed.content and b"Payroll" not in replayed.content
    async with db.read() as session:  # and nothing was declared again
        assert len((await session.scalars(select(Incident))).all()) == 2


async def test_idempotency_keys_expire_after_a_day_and_are_purged(api, db, people):
    member = await api.as_(people.member)
    other = await api.as_(people.other_member)
    asked = {"name": "Disk full", "idempotencyKey": "k-1"}
    first = (await member(DECLARE, {"input": asked}))["declareIncident"]["incident"]
    stale = {"name": "Old", "idempotencyKey": "k-old"}
    assert (await other(DECLARE, {"input": stale}))["declareIncident"]["userErrors"] == []

    async def age(key, hours):
        async with db.write() as session:
            row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key))
            row.created_at -= timedelta(hours=hours)

    await age("k-1", 23)  # within the day: the same incident
    again = (await member(DECLARE, {"input": asked}))["declareIncident"]
    assert again["userErrors"] == [] and again["incident"]["reference"] == first["reference"]
    await age("k-1", 2)
    await age("k-old", 25)
    fresh = (await member(DECLARE, {"input": asked}))["declareIncident"]
    assert fresh["userErrors"] == []
    assert fresh["incident"]["reference"] != first["reference"]  # a fresh declare
    async with db.read() as session:
        keys = {k.key: k for k in await session.scalars(select(IdempotencyKey))}
        renewed = await session.get_one(Incident, keys["k-1"].incident_id)
    assert set(keys) == {"k-1"}  # the other expired key was purged by that declare
    assert renewed.reference == fresh["incident"]["reference"]


async def merged_then_private(api, people, side):
    """INC-1 merged into INC-2 while both were public, then ``side`` made private by the
    responder (who thereby becomes a member of it)."""
    responder = await api.as_(people.responder)
    made = []
    for name in ("Checkout errors", "Payments down"):
        answer = await responder(DECLARE, {"input": {"name": name}})
        made.append(answer["declareIncident"]["incident"]["reference"])
    listed = await responder("{ incidents { edges { node { id reference } } } }")
    by_ref = {e["node"]["reference"]: e["node"]["id"] for e in listed["incidents"]["edges"]}
    merge = """mutation($i: ID!, $into: ID!) { mergeIncident(input: {incidentId: $i, intoId: $into})
      { userErrors { message } } }"""
    merged = await responder(merge, {"i": by_ref["INC-1"], "into": by_ref["INC-2"]})
    assert merged["mergeIncident"]["userErrors"] == []
    private = """mutation($i: ID!) { changeIncidentVisibility(input: {incidentId: $i, private: true})
      { userErrors { message } } }"""
    target = by_ref["INC-2" if side == "target" else "INC-1"]
    assert (await responder(private, {"i": target}))["changeIncidentVisibility"]["userErrors"] == []
    return responder


@pytest.mark.parametrize("side", ["target", "source"])
async def test_merge_events_name_the_other_incident_only_to_who_may_see_it(api, people, side):
    insider = await merged_then_private(api, people, side)
    outsider = await api.as_(people.other_responder)
    seen = "INC-1" if side == "target" else "INC-2"  # the one still public
    hidden, hidden_name = ("INC-2", "Payments down") if side == "target" else ("INC-1", "Checkout errors")  # fmt: skip

    answer = await outsider.post(TIMELINE, {"ref": seen})
    assert hidden.encode() not in answer.content and hidden_name.encode() not in answer.content
    shown = answer.json()["data"]["incident"]
    [merge] = [e["node"] for e in shown["timeline"]["edges"] if e["node"]["kind"] == "MERGED"]
    assert merge["summary"] == (
        "Merged into another incident."
        if side == "target"
        else "Another incident was merged into this incident."
    )
    assert shown["mergedInto"] is None

    inside = (await insider(TIMELINE, {"ref": seen}))["incident"]
    [merge] = [e["node"] for e in inside["timeline"]["edges"] if e["node"]["kind"] == "MERGED"]
    assert merge["summary"] == (
        "Merged into INC-2." if side == "target" else "INC-1 (Checkout errors) was merged into this incident."
    )  # fmt: skip


async def test_ids_and_cursors_tell_no_counts_and_cannot_be_forged(api, db, people):
    member = await api.as_(people.member)
    for name in ("One", "Two", "Three"):
        await member(DECLARE, {"input": {"name": name}})
    page = await member(
        "{ incidents(first: 2) { edges { cursor node { id reference"
        " timeline { edges { cursor node { id } } } } } } }"
    )
    edges = page["incidents"]["edges"]
    incident_ids = [e["node"]["id"] for e in edges]
    events = [t for e in edges for t in e["node"]["timeline"]["edges"]]
    for opaque in incident_ids + [t["cursor"] for t in events] + [t["node"]["id"] for t in events]:
        raw = base64.urlsafe_b64decode(opaque + "=" * (-len(opaque) % 4))
        assert not any(raw.startswith(p) for p in (b"Incident:", b"e:", b"TimelineEvent:")), raw
        assert opaque.isascii() and "=" not in opaque and len(opaque) <= 48
    assert len({len(i) for i in incident_ids}) == 1  # one length, whatever the number
    # The same id in every process and after restarts: it depends only on the secret key.
    async with db.read() as session:
        row = await session.scalar(select(Incident).where(Incident.number == 3))
    assert ids.Sealer("k" * 32).seal("Incident", (row.id,)) == incident_ids[0]

    one = "query($id: ID) { incident(id: $id) { name } }"
    never = await member.post(one, {"id": ids.encode("Incident", 999_999)})
    assert never.json() == {"data": {"incident": None}}
    tampered = incident_ids[0][:-2] + ("AA" if not incident_ids[0].endswith("AA") else "BB")
    for forged in (b64(f"Incident:{row.id}"), tampered, b64("Incident:²"), b64("Incident:" + "9" * 40),
                   ids.Sealer("x" * 32).seal("Incident", (row.id,)), ids.encode("User", row.id)):  # fmt: skip
        assert (await member.post(one, {"id": forged})).content == never.content, forged

    timeline = """query($ref: String!, $after: String) { incident(reference: $ref) {
      timeline(after: $after) { totalCount } } }"""
    refused = {"field": "after", "message": "That cursor is not one this server gave out.", "code": "INVALID"}  # fmt: skip
    foreign = ids.Sealer("x" * 32).seal("cursor:events", (1,))
    for forged in (b64("e:1"), b64("e:²"), b64("e:" + "9" * 40), foreign, incident_ids[0]):
        answer = (await member.post(timeline, {"ref": "INC-3", "after": forged})).json()
        assert answer["data"] == {"incident": None}, forged
        [error] = answer["errors"]
        assert {"message": error["message"], **error["extensions"]} == {
            "message": refused["message"], "code": "INVALID", "field": "after",
        }, forged  # fmt: skip
    listed = "query($after: String) { incidents(after: $after) { totalCount } }"
    for forged in (
        b64("i:2026-01-01T00:00:00+00:00|1"),
        b64("i:2026-01-01T00:00:00+00:00|²"),
        events[0]["cursor"],
    ):
        answer = (await member.post(listed, {"after": forged})).json()
        assert answer["errors"][0]["extensions"]["code"] == "INVALID", forged


async def test_references_take_ascii_digits_only(api, people):
    member = await api.as_(people.member)
    for name in ("One", "Two"):
        await member(DECLARE, {"input": {"name": name}})
    by_ref = "query($ref: String!) { incident(reference: $ref) { reference } }"
    assert (await member(by_ref, {"ref": "inc-2 "}))["incident"] == {"reference": "INC-2"}
    for odd in ("INC-²", "INC-٢", "INC-\uff12", "INC-" + "9" * 40, "INC-1²"):
        answer = await member.post(by_ref, {"ref": odd})
        assert answer.status_code == 200
        assert answer.json() == {"data": {"incident": None}}, odd


async def test_a_hidden_incident_costs_the_statements_of_a_missing_one(served_api, db, people):
    app, api = served_api
    member = await api.as_(people.member)
    outsider = await api.as_(people.other_member)
    declared = await member(DECLARE, {"input": {"name": "Quiet", "private": True}})
    assert declared["declareIncident"]["userErrors"] == []
    async with db.read() as session:
        incident = await session.scalar(select(Incident).where(Incident.number == 1))
    hidden, never = ids.encode("Incident", incident.id), ids.encode("Incident", 999_999)
    await outsider("{ viewer { id } }")  # the token's first use is recorded once, before

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_):
        statements.append(statement)

    engine = app.state.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        seen = {}
        for name, key in (("hidden", hidden), ("never", never)):
            for query, variables in (
                ("query($id: ID) { incident(id: $id) { name } }", {"id": key}),
                ('mutation($id: ID!) { addNote(input: {incidentId: $id, message: "x"}) '
                 "{ userErrors { code } } }", {"id": key}),
            ):  # fmt: skip
                statements.clear()
                answer = await outsider.post(query, variables)
                seen[(name, query)] = (json.dumps(statements), answer.content)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    for (name, query), (run, body) in seen.items():
        if name == "hidden":
            assert (run, body) == seen[("never", query)], query


async def test_work_on_a_hidden_incident_costs_the_statements_of_missing_work(
    served_api, db, people
):
    app, api = served_api
    member = await api.as_(people.member)
    outsider = await api.as_(people.other_member)
    declared = await member(DECLARE, {"input": {"name": "Quiet", "private": True}})
    reference = declared["declareIncident"]["incident"]["reference"]
    added = await member(
        'mutation($r: String) { addAction(input: {reference: $r, title: "Rotate keys"}) '
        "{ action { id } userErrors { code } } }",
        {"r": reference},
    )
    hidden = added["addAction"]["action"]["id"]
    never = ids.encode("Action", 999_999)
    await outsider("{ viewer { id } }")  # the token's first use is recorded once, before

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_):
        statements.append(statement)

    update = ('mutation($id: ID!) { updateAction(input: {actionId: $id, status: DONE}) '
              "{ userErrors { field code message } } }")  # fmt: skip
    engine = app.state.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        seen = {}
        for name, key in (("hidden", hidden), ("never", never)):
            statements.clear()
            answer = await outsider.post(update, {"id": key})
            seen[name] = (json.dumps(statements), answer.content)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert b"NOT_FOUND" in seen["never"][1]
    assert seen["hidden"] == seen["never"]
