"""The catalog kept in process (``app.catalog_cache``): a change to it is seen by the very next
request here, by another process's next request once its hub has heard (PostgreSQL), and,
when no process heard of it, once the copy is older than ``FRESH_FOR``."""

from __future__ import annotations

import asyncio

import pytest

from app import catalog_cache
from app.db import Database, Touched
from app.services import catalog, declarations
from schema import ids

SHOWN = """{ incidents(first: 5) { edges { node { name severity { id name }
  type { customFields { id name options { value } } } } } } }"""
RENAME_SEVERITY = """mutation($id: ID!, $name: String!) {
  updateSeverity(input: {severityId: $id, name: $name}) { userErrors { code } } }"""
CHANGE_FIELD = """mutation($id: ID!, $options: [String!]!) {
  updateCustomField(input: {fieldId: $id, options: $options}) { userErrors { code } } }"""


async def shown(client) -> dict:
    """What the one incident shows of the catalog: its severity's name, its fields' options."""
    (edge,) = (await client(SHOWN))["incidents"]["edges"]
    node = edge["node"]
    fields = {f["name"]: [o["value"] for o in f["options"]] for f in node["type"]["customFields"]}
    return {"severity": node["severity"]["name"], "fields": fields}


async def catalog_ids(db: Database) -> tuple[int, int]:
    """The ids of the severity a new incident takes (the least severe) and of the first
    custom field of the default type."""
    async with db.read() as session:
        severity = (await catalog.list_severities(session))[0]
        default = next(t for t in await catalog.list_incident_types(session) if t.name == "Default")
    return severity.id, default.fields[0].id


async def test_a_catalog_change_is_seen_by_the_next_request(api, db, people):
    await declarations.declare(db, actor=people.member, name="Checkout down")
    severity_id, field_id = await catalog_ids(db)
    admin = await api.as_(people.admin)
    before = await shown(admin)
    assert before["severity"] == "Minor"
    assert before["fields"]["Affected features"][:2] == ["Login", "Checkout"]

    renamed = await admin(
        RENAME_SEVERITY, {"id": ids.encode("Severity", severity_id), "name": "Trivial"}
    )
    assert renamed["updateSeverity"]["userErrors"] == []
    changed = await admin(
        CHANGE_FIELD, {"id": ids.encode("CustomField", field_id), "options": ["Login", "Billing"]}
    )
    assert changed["updateCustomField"]["userErrors"] == []
    after = await shown(admin)
    assert after["severity"] == "Trivial"
    assert after["fields"]["Affected features"] == ["Login", "Billing"]


async def test_a_change_no_process_heard_of_is_read_after_a_while(api, db, people, monkeypatch):
    await declarations.declare(db, actor=people.member, name="Checkout down")
    severity_id, _ = await catalog_ids(db)
    viewer = await api.as_(people.viewer)
    assert (await shown(viewer))["severity"] == "Minor"
    # `db` is not the app's database: its write is "another process's", heard by no hub here.
    await catalog.update_severity(db, actor=people.admin, severity_id=severity_id, name="Trivial")
    assert (await shown(viewer))["severity"] == "Minor"  # the copy, until it is too old
    monkeypatch.setattr(catalog_cache, "FRESH_FOR", 0.0)
    assert (await shown(viewer))["severity"] == "Trivial"


async def test_a_change_another_process_writes_is_heard(api, db, people):
    if db.is_sqlite:
        pytest.skip("NOTIFY is PostgreSQL's; one process writes a SQLite database")
    await declarations.declare(db, actor=people.member, name="Checkout down")
    severity_id, _ = await catalog_ids(db)
    services = api.http._transport.app.state.services
    heard = asyncio.Event()
    services.db.on_touched[Touched.CATALOG].append(lambda *_: heard.set())
    await services.hub.start()
    try:
        await asyncio.wait_for(heard.wait(), 5)  # listening: on connecting it tells every mark
        heard.clear()
        viewer = await api.as_(people.viewer)
        assert (await shown(viewer))["severity"] == "Minor"
        # `db` is another process's: the app hears of its write only by NOTIFY.
        await catalog.update_severity(
            db, actor=people.admin, severity_id=severity_id, name="Trivial"
        )
        await asyncio.wait_for(heard.wait(), 5)
        assert (await shown(viewer))["severity"] == "Trivial"
    finally:
        await services.hub.stop()
