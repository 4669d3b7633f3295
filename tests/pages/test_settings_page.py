"""The settings page: everyone's own API tokens (the secret shown once), and for admins the
catalog (severities, statuses, incident types, roles, custom fields) and other people's tokens.
Members see none of the admin tabs and their posts to them change nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.db import Database
from app.models import CustomFieldValue
from app.services import catalog, declarations
from tests.pages.conftest import SITE
from tests.support.html import (
    checked,
    element_ids,
    facts,
    field_error,
    href,
    invalid,
    one,
    parse,
    text,
    texts,
    value,
)

VIEWER_QUERY = {"query": "{ viewer { email } }"}
DECLARE = {"query": 'mutation { declareIncident(input: {name: "Bot"}) { userErrors { code } } }'}


def secret_in(page: str) -> str:
    secret = text(parse(page), "textarea#new-token-secret")  # the new token's, shown once
    assert secret.startswith("mst_")
    return secret


def token_ids(page: str) -> list[str]:
    return element_ids(parse(page), "li.token", "token-")


def tokens(page: str, heading: str = "active-tokens-heading") -> dict[str, dict[str, str]]:
    """The tokens listed under a heading (in use, revoked, someone's): each one's facts, by its
    name as shown."""
    return {
        text(token, ".item-name"): facts(token)
        for token in parse(page).css(f'[aria-labelledby="{heading}"] li.token')
    }


def noticed(page: str) -> str:
    """What the last change did, as confirmed at the top of the section."""
    return text(parse(page), '#settings-section .notice.ok[role="status"]')


def refusal(page: str) -> str:
    """Why the section refused, in its alert."""
    return text(parse(page), '#settings-section > .notice.error[role="alert"]')


def new_form(page: str):
    """The form that adds an entry (or a token) on a settings tab."""
    tree = parse(page)
    return one(
        tree, '[aria-labelledby="new-heading"] form, [aria-labelledby="new-token-heading"] form'
    )


def item(page: str, name: str):
    """The catalog entry whose heading names ``name`` (before its badges)."""
    [found] = [
        li
        for li in parse(page).css('#settings-section li[id^="item-"]')
        if f"{text(li, '.item-name')} ".startswith(f"{name} ")
    ]
    return found


async def bearer(browser, secret: str, body=VIEWER_QUERY):
    """Ask /graphql with a token only (no session cookie)."""
    return await browser.http.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {secret}"}
    )


async def ids_of(db: Database, kind: str) -> dict[str, str]:
    """GraphQL ids of a kind of catalog item, by name (as the pages show them)."""
    from schema import ids

    async with db.read() as session:
        rows = {
            "Severity": catalog.list_severities,
            "IncidentType": catalog.list_incident_types,
            "CustomField": catalog.list_custom_fields,
            "Status": catalog.list_statuses,
        }[kind]
        return {row.name: ids.encode(kind, row.id) for row in await rows(session)}


# API tokens ----------------------------------------------------------------------------------


async def test_a_member_creates_a_token_and_sees_its_secret_only_once(browsers, people):
    async with browsers(people.member) as browser:
        page = await browser.get("/settings")
        assert page.status_code == 200
        assert text(parse(page.text), "#settings-section .empty") == "You have no tokens in use."

        answer = await browser.post("/settings/tokens", {"name": "Deploy bot", "scope": "READ"})
        assert answer.status_code == 200  # answered in place: the secret never goes in a URL
        assert text(parse(answer.text), ".new-secret h3") == (
            "Copy your new token now: it will not be shown again"
        )
        secret = secret_in(answer.text)
        assert list(tokens(answer.text)) == ["Deploy bot"]
        listed_first = tokens(answer.text)["Deploy bot"]
        assert secret.startswith(listed_first["Starts with"].removesuffix("…"))

        again = await browser.get("/settings")
        assert secret not in again.text
        assert secret[:12] not in again.text  # only the short prefix is ever listed
        assert parse(again.text).css(".new-secret, #new-token-secret") == []
        assert tokens(again.text)["Deploy bot"]["May"] == "Read only"

        works = await bearer(browser, secret)
        assert works.status_code == 200
        assert works.json()["data"]["viewer"]["email"] == people.member.email
        # Read only: it cannot change anything.
        refused = await bearer(browser, secret, DECLARE)
        assert refused.json()["data"]["declareIncident"]["userErrors"][0]["code"] == "FORBIDDEN"

        listed = await browser.get("/settings")
        assert tokens(listed.text)["Deploy bot"]["Last used"] not in ("", "Never")


async def test_a_read_write_token_can_change_things(browsers, people):
    async with browsers(people.member) as browser:
        answer = await browser.post("/settings/tokens", {"name": "CI", "scope": "READ_WRITE"})
        secret = secret_in(answer.text)
        declared = await bearer(browser, secret, DECLARE)
        assert declared.json()["data"]["declareIncident"]["userErrors"] == []
        assert tokens((await browser.get("/settings")).text)["CI"]["May"] == "Read and write"


async def test_renaming_and_revoking_a_token(browsers, people):
    async with browsers(people.member) as browser:
        secret = secret_in(
            (await browser.post("/settings/tokens", {"name": "Old", "scope": "READ"})).text
        )
        [token] = token_ids((await browser.get("/settings")).text)

        renamed = await browser.post(f"/settings/tokens/{token}/rename", {"name": "Grafana"})
        assert renamed.status_code == 303
        page = await browser.get(renamed.headers["location"])
        assert noticed(page.text) == "Renamed the token to “Grafana”."
        assert list(tokens(page.text)) == ["Grafana"]

        empty = await browser.post(f"/settings/tokens/{token}/rename", {"name": "  "})
        assert empty.status_code == 422
        renaming = one(parse(empty.text), f'li[id="token-{token}"] form[action$="/rename"]')
        assert field_error(renaming, "name") == "Name cannot be empty."
        assert list(tokens((await browser.get("/settings")).text)) == ["Grafana"]

        revoked = await browser.post(f"/settings/tokens/{token}/revoke")
        assert revoked.status_code == 303
        page = await browser.get(revoked.headers["location"])
        assert noticed(page.text) == "Revoked “Grafana”: it no longer works."
        assert list(tokens(page.text, "revoked-tokens-heading")) == ["Grafana Revoked"]
        assert tokens(page.text) == {}
        assert text(parse(page.text), "#settings-section .empty") == "You have no tokens in use."
        assert (await bearer(browser, secret)).status_code == 401


async def test_bad_token_input_is_refused_with_the_input_kept(browsers, people):
    async with browsers(people.member) as browser:
        answer = await browser.post("/settings/tokens", {"name": "", "scope": "READ_WRITE"})
        assert answer.status_code == 422
        form = new_form(answer.text)
        assert field_error(form, "name") == "Name cannot be empty." and invalid(form, "name")
        assert checked(form, "scope") == ["READ_WRITE"]
        assert "new-token-secret" not in answer.text

        answer = await browser.post("/settings/tokens", {"name": "x", "scope": "ADMIN"})
        assert answer.status_code == 422
        form = new_form(answer.text)
        assert field_error(form, "scope") == "Choose what the token may do."
        assert value(form, "name") == "x"
        assert tokens((await browser.get("/settings")).text) == {}


async def test_a_member_cannot_rename_or_revoke_someone_elses_token(browsers, people):
    async with browsers(people.other_member) as other:
        secret = secret_in(
            (await other.post("/settings/tokens", {"name": "Mine", "scope": "READ"})).text
        )
        [token] = token_ids((await other.get("/settings")).text)
    async with browsers(people.member) as browser:
        answer = await browser.post(f"/settings/tokens/{token}/revoke")
        assert answer.status_code == 404
        answer = await browser.post(f"/settings/tokens/{token}/rename", {"name": "Hijacked"})
        assert answer.status_code == 404
        assert (await bearer(browser, secret)).status_code == 200


async def test_an_admin_revokes_someone_elses_token(browsers, people):
    async with browsers(people.member) as member:
        secret = secret_in(
            (await member.post("/settings/tokens", {"name": "Laptop", "scope": "READ"})).text
        )
    async with browsers(people.admin) as admin:
        found = await admin.get("/settings/people", params={"search": "mo@"})
        assert found.status_code == 200
        assert texts(parse(found.text), "ul.people li a") == [people.member.name]
        link = href(parse(found.text), people.member.name)
        assert link.startswith("/settings/people?") and "user=" in link
        chosen = await admin.get(link)
        assert text(parse(chosen.text), "#tokens-heading") == f"Tokens of {people.member.name}"
        assert list(tokens(chosen.text, "tokens-heading")) == ["Laptop"]
        [token] = token_ids(chosen.text)
        revoking = one(parse(chosen.text), f'li[id="token-{token}"] form')
        user = value(revoking, "user")
        assert value(revoking, "search") == "mo@"

        revoked = await admin.post(
            f"/settings/tokens/{token}/revoke", {"user": user, "search": "mo@"}
        )
        assert revoked.status_code == 303
        assert revoked.headers["location"].startswith("/settings/people?")
        page = await admin.get(revoked.headers["location"])
        assert noticed(page.text) == "Revoked “Laptop”: it no longer works."
        assert (await bearer(admin, secret)).status_code == 401


# Who sees what ---------------------------------------------------------------------------------


ADMIN_TABS = ["/settings/severities", "/settings/statuses", "/settings/types", "/settings/roles",
              "/settings/fields", "/settings/people"]  # fmt: skip


async def test_a_member_sees_only_their_tokens(browsers, people):
    async with browsers(people.member) as browser:
        page = await browser.get("/settings")
        tree = parse(page.text)
        assert any("managed by admins" in t for t in texts(tree, "#settings-section > p.muted"))
        tabs = [a.attributes["href"] for a in tree.css("nav.settings-tabs a")]
        assert tabs == ["/settings", "/settings/notifications"]  # everyone's tabs only
        for tab in ADMIN_TABS:
            assert tree.css(f'a[href="{tab}"]') == []
            answer = await browser.get(tab)
            assert answer.status_code == 403
            assert refusal(answer.text) == "Only admins can change the configuration."
            assert parse(answer.text).css("form #new-heading, #new-heading") == []


async def test_an_admin_form_posted_by_a_member_changes_nothing(browsers, people, db):
    before = await ids_of(db, "Severity")
    types = await ids_of(db, "IncidentType")
    async with browsers(people.member) as browser:
        answer = await browser.post("/settings/severities", {"name": "Apocalyptic", "rank": ""})
        assert answer.status_code == 403
        assert refusal(answer.text) == "Only admins can change the configuration."
        answer = await browser.post(
            f"/settings/severities/{before['Minor']}", {"name": "Tiny", "description": ""}
        )
        assert answer.status_code == 403
        answer = await browser.post(
            f"/settings/types/{types['Default']}", {"name": "Mine", "description": ""}, htmx=True
        )
        assert answer.status_code == 403
        assert answer.text.lstrip().startswith('<section id="settings-section"')
        assert refusal(answer.text) == "Only admins can change the configuration."
    assert await ids_of(db, "Severity") == before
    assert await ids_of(db, "IncidentType") == types


async def test_settings_needs_a_signed_in_person(browsers, people, database_url):
    import httpx2

    from tests.pages.conftest import dev_app

    app = dev_app(database_url)
    try:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url=SITE) as http:
            answer = await http.get("/settings/severities")
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/auth/sign-in?next=")
    finally:
        await app.state.services.db.dispose()


# The catalog (admins) --------------------------------------------------------------------------


async def test_an_admin_adds_a_severity(browsers, people, db):
    async with browsers(people.admin) as browser:
        page = await browser.get("/settings/severities")
        assert page.status_code == 200
        assert text(item(page.text, "Critical"), ".item-name").startswith("Critical rank ")
        assert text(parse(page.text), "#new-heading") == "New severity"

        answer = await browser.post(
            "/settings/severities",
            {"name": "Catastrophic", "description": "All hands.", "rank": ""},
        )
        assert answer.status_code == 303
        page = await browser.get(answer.headers["location"])
        assert noticed(page.text) == "Created “Catastrophic”."
        assert text(item(page.text, "Catastrophic"), ".description") == "All hands."
    async with db.read() as session:
        added = [s for s in await catalog.list_severities(session) if s.name == "Catastrophic"]
    assert added[0].rank == 4 and added[0].description == "All hands."


async def test_an_admin_edits_a_severity(browsers, people, db):
    minor = (await ids_of(db, "Severity"))["Minor"]
    async with browsers(people.admin) as browser:
        answer = await browser.post(
            f"/settings/severities/{minor}", {"name": "Low", "description": "Meh.", "rank": "1"}
        )
        assert answer.status_code == 303
        page = (await browser.get(answer.headers["location"])).text
        assert noticed(page) == "Saved the changes to “Low”."
        assert text(item(page, "Low"), ".item-name") == "Low rank 1"
    assert "Low" in await ids_of(db, "Severity")


async def test_bad_catalog_input_gives_422_with_the_message_and_changes_nothing(
    browsers, people, db
):
    before = await ids_of(db, "Severity")
    async with browsers(people.admin) as browser:
        empty = await browser.post("/settings/severities", {"name": " ", "description": "kept"})
        assert empty.status_code == 422
        form = new_form(empty.text)
        assert field_error(form, "name") == "Name cannot be empty."
        assert value(form, "description") == "kept"

        duplicate = await browser.post("/settings/severities", {"name": "major", "rank": "7"})
        assert duplicate.status_code == 422
        form = new_form(duplicate.text)
        assert field_error(form, "name") == "There is already one named 'major'."
        assert value(form, "rank") == "7"

        rank = await browser.post("/settings/severities", {"name": "Odd", "rank": "many"})
        assert rank.status_code == 422
        assert field_error(new_form(rank.text), "rank") == (
            "Rank must be a whole number from 1 to 999."
        )

        renamed = await browser.post(
            f"/settings/severities/{before['Minor']}", {"name": "Critical", "description": ""}
        )
        assert renamed.status_code == 422
        # The failing item's edit form is open, with what was typed and why it was refused.
        editor = one(item(renamed.text, "Minor"), "details")
        assert "open" in editor.attributes and text(editor, "summary") == "Edit Minor"
        assert field_error(editor, "name") == "There is already one named 'Critical'."
        assert value(editor, "name") == "Critical"

        missing = await browser.post("/settings/severities/U2V2ZXJpdHk6OTk5", {"name": "Ghost"})
        assert missing.status_code == 404

        status = await browser.post("/settings/statuses", {"name": "Waiting", "category": "LATER"})
        assert status.status_code == 422
        assert field_error(new_form(status.text), "category") == (
            "Choose the category the status belongs to."
        )
    assert await ids_of(db, "Severity") == before
    assert "Waiting" not in await ids_of(db, "Status")


async def test_an_admin_adds_a_custom_field_and_an_incident_type_uses_it(browsers, people, db):
    async with browsers(people.admin) as browser:
        no_options = await browser.post(
            "/settings/fields", {"name": "Region", "kind": "SINGLE_SELECT", "options": "\n \n"}
        )
        assert no_options.status_code == 422
        assert field_error(new_form(no_options.text), "options") == (
            "A select field needs at least one option."
        )

        answer = await browser.post(
            "/settings/fields",
            {
                "name": "Region",
                "kind": "SINGLE_SELECT",
                "description": "Where it happens.",
                "options": "EU\r\nUS\r\n\r\nAPAC\r\n",
            },
        )
        assert answer.status_code == 303
        page = await browser.get(answer.headers["location"])
        assert noticed(page.text) == "Created “Region”."
        assert texts(item(page.text, "Region"), ".options .badge") == ["EU", "US", "APAC"]

        region = (await ids_of(db, "CustomField"))["Region"]
        migration = (await ids_of(db, "IncidentType"))["Migration"]
        major = (await ids_of(db, "Severity"))["Major"]
        answer = await browser.post(
            f"/settings/types/{migration}",
            {
                "name": "Migration",
                "description": "Moving things.",
                "practice": "on",
                "defaultSeverityId": major,
                "customFieldIds": [region],
            },
        )
        assert answer.status_code == 303
        page = await browser.get("/settings/types")
        migration_item = item(page.text, "Migration")
        assert text(migration_item, ".description") == "Moving things."
        assert facts(migration_item, "dl.facts") == {
            "Default severity": "Major", "Custom fields": "Region",
        }  # fmt: skip

        # An incident chose APAC; taking the option away takes it off the incident too.
        async with db.read() as session:
            field = {f.name: f for f in await catalog.list_custom_fields(session)}["Region"]
            kind = {t.name: t for t in await catalog.list_incident_types(session)}["Migration"]
        apac = {o.value: o.id for o in field.options}["APAC"]
        incident = await declarations.declare(
            db, actor=people.admin, name="Move", type_id=kind.id, custom_fields={field.id: apac}
        )
        edited = await browser.post(
            f"/settings/fields/{region}", {"name": "Region", "description": "", "options": "EU\nUS"}
        )
        assert edited.status_code == 303
        async with db.read() as session:
            left = await session.scalars(
                select(CustomFieldValue).where(CustomFieldValue.incident_id == incident.id)
            )
            assert left.all() == []

    async with db.read() as session:
        kinds = {t.name: t for t in await catalog.list_incident_types(session)}
        fields = {f.name: f for f in await catalog.list_custom_fields(session)}
    migration_type = kinds["Migration"]
    assert [f.name for f in migration_type.fields] == ["Region"]
    assert migration_type.practice and not migration_type.private_by_default
    assert migration_type.default_severity_id is not None
    assert [o.value for o in fields["Region"].options] == ["EU", "US"]


async def test_an_admin_adds_a_status_a_type_and_a_role(browsers, people, db):
    async with browsers(people.admin) as browser:
        status = await browser.post(
            "/settings/statuses", {"name": "Waiting on vendor", "category": "ACTIVE"}
        )
        assert status.status_code == 303
        kind = await browser.post(
            "/settings/types", {"name": "Vendor outage", "privateByDefault": "on"}
        )
        assert kind.status_code == 303
        role = await browser.post(
            "/settings/roles", {"name": "Scribe", "instructions": "Write down what happens."}
        )
        assert role.status_code == 303
        page = await browser.get("/settings/roles")
        assert texts(item(page.text, "Scribe"), ".description") == [
            "Instructions: Write down what happens."
        ]
        statuses = (await browser.get("/settings/statuses")).text
        assert item(statuses, "Waiting on vendor").css(".description") == []
    async with db.read() as session:
        kinds = {t.name: t for t in await catalog.list_incident_types(session)}
    assert kinds["Vendor outage"].private_by_default
    assert kinds["Vendor outage"].fields == []


# Escaping and htmx -------------------------------------------------------------------------------


async def test_names_people_type_are_escaped(browsers, people):
    evil = '<script>alert(1)</script><b hx-get="/x">'
    async with browsers(people.admin) as browser:
        assert (await browser.post("/settings/roles", {"name": evil[:60]})).status_code == 303
        page = await browser.get("/settings/roles")
        assert "<script>alert(1)" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert '<b hx-get="/x">' not in page.text
        assert evil in texts(parse(page.text), ".item-name")  # as text, where people read it

        answer = await browser.post("/settings/tokens", {"name": evil, "scope": "READ"})
        assert "<script>alert(1)" not in answer.text
        assert "&lt;script&gt;" in answer.text
        listed = await browser.get("/settings")
        assert "<script>alert(1)" not in listed.text
        assert list(tokens(listed.text)) == [evil]


async def test_htmx_gets_the_section_and_a_plain_request_the_page(browsers, people):
    async with browsers(people.admin) as browser:
        full = await browser.get("/settings/severities")
        assert full.text.lstrip().lower().startswith("<!doctype html>")
        assert text(parse(full.text), 'nav.settings-tabs a[aria-current="page"]') == "Severities"
        assert {v.strip() for v in full.headers["vary"].split(",")} >= {"HX-Request", "Cookie"}

        part = await browser.get("/settings/severities", headers={"HX-Request": "true"})
        assert part.status_code == 200
        assert part.text.lstrip().startswith('<section id="settings-section"')
        assert "<html" not in part.text and parse(part.text).css("h1") == []

        created = await browser.post("/settings/severities", {"name": "Dire"}, htmx=True)
        assert created.status_code == 200
        assert created.text.lstrip().startswith('<section id="settings-section"')
        assert noticed(created.text) == "Created “Dire”."

        refused = await browser.post("/settings/severities", {"name": "Dire"}, htmx=True)
        assert refused.status_code == 422
        assert refused.text.lstrip().startswith('<section id="settings-section"')
        assert field_error(new_form(refused.text), "name") == "There is already one named 'Dire'."

        token = await browser.post("/settings/tokens", {"name": "Bot", "scope": "READ"}, htmx=True)
        assert token.status_code == 200
        assert token.text.lstrip().startswith('<section id="settings-section"')
        secret_in(token.text)
