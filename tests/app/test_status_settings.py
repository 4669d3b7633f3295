"""The status page's settings on both databases: admins save them (row 1 made when it is
missing, then changed in place), what the public pages read follows, each bad value is refused
on its field with nothing saved, and nobody but an admin may change them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select

from app.errors import Forbidden, Invalid
from app.models import StatusPageSettings
from app.services import status_public
from app.services import status_settings as ss


async def shown(db):
    async with db.read() as session:
        return await status_public.page_settings(session)


async def rows(db):
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(StatusPageSettings))


async def test_admin_saves_the_settings_making_the_row_when_missing(db, people):
    async with db.write() as session:
        await session.execute(delete(StatusPageSettings))
    assert (await shown(db)).title == "Status"

    await ss.update_settings(
        db,
        actor=people.admin,
        title="  Acme status ",
        intro="Line one.\nLine two.",
        support_url="mailto:help@acme.test",
        logo_url="/static/acme.svg",
    )
    page = await shown(db)
    assert (page.title, page.intro) == ("Acme status", "Line one.\nLine two.")
    assert (page.support_url, page.logo_url) == ("mailto:help@acme.test", "/static/acme.svg")

    await ss.update_settings(
        db, actor=people.admin, title="Acme", support_url="https://acme.test/help", logo_url=""
    )
    page = await shown(db)
    assert (page.title, page.intro, page.support_url, page.logo_url) == (
        "Acme",
        "",
        "https://acme.test/help",
        None,
    )
    assert await rows(db) == 1


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("title", {"title": ""}),
        ("title", {"title": "   "}),
        ("title", {"title": "x" * 121}),
        ("title", {"title": "Two\nlines"}),
        ("intro", {"intro": "x" * 2001}),
        ("supportUrl", {"support_url": "javascript:alert(1)"}),
        ("supportUrl", {"support_url": "JavaScript:alert(1)"}),
        ("supportUrl", {"support_url": "ftp://acme.test/"}),
        ("supportUrl", {"support_url": "acme.test/help"}),
        ("supportUrl", {"support_url": "https://"}),
        ("supportUrl", {"support_url": "mailto:"}),
        ("supportUrl", {"support_url": "https://acme.test/a b"}),
        ("logoUrl", {"logo_url": "javascript:alert(1)"}),
        ("logoUrl", {"logo_url": "https://cdn.acme.test/logo.png"}),
        ("logoUrl", {"logo_url": "//evil.test/logo.png"}),
        ("logoUrl", {"logo_url": "/\\evil.test/logo.png"}),
        ("logoUrl", {"logo_url": "data:image/svg+xml,<svg/>"}),
        ("logoUrl", {"logo_url": "static/logo.png"}),
        ("logoUrl", {"logo_url": '/static/a"onerror="x'}),
    ],
)
async def test_a_bad_value_is_refused_on_its_field_and_nothing_changes(db, people, field, values):
    await ss.update_settings(db, actor=people.admin, title="Before")
    with pytest.raises(Invalid) as refused:
        await ss.update_settings(db, actor=people.admin, **{"title": "After", **values})
    assert refused.value.field == field
    assert (await shown(db)).title == "Before"


async def test_the_logo_refusal_says_why_off_site_images_are_refused(db, people):
    with pytest.raises(Invalid, match=r"path on this site.*blocks images from other sites"):
        await ss.update_settings(
            db, actor=people.admin, title="Acme", logo_url="https://cdn.acme.test/logo.png"
        )


async def test_only_admins_change_the_settings(db, people):
    for who in (people.viewer, people.member, people.responder):
        with pytest.raises(Forbidden):
            await ss.update_settings(db, actor=who, title="Taken over")
    assert (await shown(db)).title == "Status"
    assert await rows(db) in (0, 1)  # the migration's row on SQLite, none after PG's truncate


async def test_two_first_saves_at_once_both_succeed_on_one_row(db, people):
    async with db.write() as session:
        await session.execute(delete(StatusPageSettings))
    await asyncio.gather(
        ss.update_settings(db, actor=people.admin, title="One"),
        ss.update_settings(db, actor=people.admin, title="Two"),
    )
    assert (await shown(db)).title in ("One", "Two")
    assert await rows(db) == 1
