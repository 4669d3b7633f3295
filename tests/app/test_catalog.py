"""The default catalog and admins changing it."""

import pytest

from app.errors import Forbidden, Invalid, NotFound
from app.models import FieldKind, StatusCategory
from app.services import catalog, declarations


async def test_defaults_are_installed_once(db):
    assert not await catalog.install_defaults(db)
    async with db.read() as session:
        assert [s.name for s in await catalog.list_severities(session)] == [
            "Minor", "Major", "Critical",
        ]  # fmt: skip
        assert [s.name for s in await catalog.list_statuses(session)] == [
            "Triage", "Investigating", "Fixing", "Monitoring", "Documenting", "Reviewing",
            "Closed", "Declined", "Merged", "Canceled",
        ]  # fmt: skip
        types = {t.name: t for t in await catalog.list_incident_types(session)}
        assert list(types) == [
            "Default", "Security", "Customer issue", "Data & dashboards", "Migration",
            "Product launch", "Game day",
        ]  # fmt: skip
        assert types["Security"].private_by_default
        assert types["Game day"].practice
        roles = await catalog.list_incident_roles(session)
        assert [(r.name, r.required) for r in roles] == [
            ("Reporter", False), ("Incident lead", True), ("Communications lead", False),
        ]  # fmt: skip


async def test_only_admins_configure(db, people):
    for someone in (people.viewer, people.member, people.responder):
        with pytest.raises(Forbidden):
            await catalog.create_severity(db, actor=someone, name="Apocalyptic")
    worst = await catalog.create_severity(db, actor=people.admin, name="Apocalyptic")
    assert worst.rank == 4
    with pytest.raises(Invalid):
        await catalog.create_severity(db, actor=people.admin, name="major")


async def test_admin_changes_statuses_types_roles_and_fields(db, people):
    admin = people.admin
    paused = await catalog.create_status(
        db, actor=admin, name="Paused", category=StatusCategory.ACTIVE
    )
    async with db.read() as session:
        names = [s.name for s in await catalog.list_statuses(session)]
    assert names[1:5] == ["Investigating", "Fixing", "Monitoring", "Paused"]
    renamed = await catalog.update_status(db, actor=admin, status_id=paused.id, name="On hold")
    assert renamed.name == "On hold"
    with pytest.raises(NotFound):
        await catalog.update_status(db, actor=admin, status_id=999, name="x")

    region = await catalog.save_custom_field(
        db, actor=admin, name="Region", kind=FieldKind.SINGLE_SELECT, options=["EU", "US"]
    )
    eu = region.options[0].id
    reordered = await catalog.save_custom_field(
        db, actor=admin, field_id=region.id, options=["US", "EU", "APAC"]
    )
    assert [o.value for o in reordered.options] == ["US", "EU", "APAC"]
    assert reordered.options[1].id == eu  # kept, so values already chosen survive
    with pytest.raises(Invalid):
        await catalog.save_custom_field(db, actor=admin, name="Empty", kind=FieldKind.MULTI_SELECT)
    with pytest.raises(Invalid):
        await catalog.save_custom_field(
            db, actor=admin, name="Notes", kind=FieldKind.TEXT, options=["a"]
        )

    kind = await catalog.save_incident_type(
        db, actor=admin, name="Vendor outage", private_by_default=False, field_ids=[region.id]
    )
    assert [f.name for f in kind.fields] == ["Region"]
    scribe = await catalog.save_incident_role(
        db, actor=admin, name="Scribe", instructions="Keep the timeline complete."
    )
    assert scribe.kind.name == "CUSTOM"

    incident = await declarations.declare(
        db, actor=people.member, name="Vendor down", type_id=kind.id,
        custom_fields={region.id: eu},
    )  # fmt: skip
    assert incident.type_id == kind.id
