"""The public status page, read by a browser with no cookies: ``/status`` (the overall sentence,
components by group with their statuses in words, uptime bars with their text, the open incident's
updates, upcoming maintenance), one incident, the paged history, the Statuspage-format JSON and
the Atom feed; the same bytes whether or not a private internal incident exists or is linked;
and ``/status/internal``, for signed-in people only, with the internal components labelled."""

from __future__ import annotations

import json
from datetime import timedelta
from xml.etree import ElementTree

import httpx2
import pytest
from sqlalchemy import update

from app.models.status_page import (
    ComponentStatus,
    StatusIncident,
    StatusIncidentKind,
    StatusIncidentState,
    StatusPageSettings,
)
from app.services import status_components, status_page
from schema.context import Context, nobody
from tests.app.test_status_public import component, secret_incident, status_incident
from tests.browser import browser  # noqa: F401 (the fixture)
from tests.e2e.conftest import axe
from tests.pages.conftest import SITE, dev_app, hearing
from tests.support.html import parse, text_of

S = ComponentStatus
ATOM = "{http://www.w3.org/2005/Atom}"
COMPONENT_FIELDS = {
    "id", "name", "status", "created_at", "updated_at", "position", "description", "group_id",
    "group", "only_show_if_degraded", "showcase", "start_date",
}  # fmt: skip
INCIDENT_FIELDS = {
    "id", "name", "status", "created_at", "updated_at", "resolved_at", "impact", "shortlink",
    "incident_updates", "components",
}  # fmt: skip


@pytest.fixture
async def anonymous(db, database_url):
    """A browser with no cookies, on the app."""
    app = hearing(db, dev_app(database_url))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=SITE) as http:
        yield http
    await app.state.services.db.dispose()


def without_uptime(page: str) -> str:
    tree = parse(page)
    for bars in tree.css(".uptime"):
        bars.decompose()
    for feed in tree.css("[hx-sse\\:connect]"):  # its id is the live part's, uptime included
        feed.decompose()
    return tree.html


async def a_page(db):
    """Components in two groups, one internal, an open incident and upcoming maintenance."""
    api = await component(db, "API", group="Platform", position=1, status=S.PARTIAL_OUTAGE)
    await component(db, "Dashboard", group="Platform", position=2)
    await component(db, "Website", position=0)
    await component(db, "Merger room", public=False, status=S.MAJOR_OUTAGE)
    opened = await status_incident(
        db, "Slow API responses", affected=[(api, S.PARTIAL_OUTAGE)],
        messages=["We are looking into slow responses.", "We found the cause & fixed it <b>"],
    )  # fmt: skip
    soon = db.now() + timedelta(days=2)
    await status_incident(
        db, "Database upgrade", kind=StatusIncidentKind.MAINTENANCE,
        state=StatusIncidentState.SCHEDULED, starts_at=soon, ends_at=soon + timedelta(hours=2),
        affected=[(api, S.UNDER_MAINTENANCE)], messages=["We upgrade the database."],
    )  # fmt: skip
    return opened


async def test_the_status_page_needs_no_sign_in(db, anonymous):
    await a_page(db)
    answer = await anonymous.get("/status")
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers
    assert "content-security-policy" in answer.headers
    tree = parse(answer.text)
    assert text_of(tree.css_first("#overall")) == "Partial system outage."
    groups = [
        (text_of(g.css_first("h3")) if g.css_first("h3") else None,
         [(text_of(c.css_first(".status-component-name")), text_of(c.css_first(".cs")))
          for c in g.css(".status-component")])
        for g in tree.css(".status-group")
    ]  # fmt: skip
    assert groups == [
        (None, [("Website", "Operational")]),
        ("Platform", [("API", "Partial outage"), ("Dashboard", "Operational")]),
    ]
    assert "Merger room" not in answer.text and "Internal" not in answer.text
    bars = tree.css_first(".status-component svg")
    assert bars.attributes["role"] == "img"
    assert "uptime over the last 90 days: 100%" in bars.attributes["aria-label"]
    assert len(bars.css("rect")) == 90
    incident = tree.css_first("#incidents .status-incident")
    assert [text_of(m) for m in incident.css(".status-update-message")] == [
        "We found the cause & fixed it <b>", "We are looking into slow responses.",
    ]  # fmt: skip
    assert "&lt;b&gt;" in answer.text
    maintenance = text_of(tree.css_first("#maintenance"))
    assert "Database upgrade" in maintenance and "Scheduled" in maintenance
    assert tree.css_first("#maintenance time[data-show=local]") is not None
    assert tree.css_first('link[type="application/atom+xml"]') is not None
    assert tree.css_first("header.top") is None  # no app navigation, no bell


async def test_the_page_is_the_same_with_or_without_a_private_incident(db, people, anonymous):
    linked = await a_page(db)
    before = (await anonymous.get("/status")).content
    secret = await secret_incident(db, people)
    assert (await anonymous.get("/status")).content == before
    async with db.write() as session:
        await session.execute(
            update(StatusIncident).where(StatusIncident.id == linked).values(incident_id=secret.id)
        )
    after = await anonymous.get("/status")
    assert after.content == before
    assert "Secret merger leak" not in after.text and secret.reference not in after.text
    for path in ("/status/api/v2/summary.json", "/status/feed.atom", "/status/history"):
        assert "Secret merger leak" not in (await anonymous.get(path)).text


async def test_one_incident_and_the_paged_history(db, anonymous):
    for n in range(25):
        await status_incident(db, f"Old problem {n}", state=StatusIncidentState.RESOLVED,
                              messages=[f"Fixed {n}."])  # fmt: skip
    first = parse((await anonymous.get("/status/history")).text)
    titles = [text_of(t) for t in first.css(".status-incident-title")]
    assert titles == [f"Old problem {n}" for n in range(24, 4, -1)]
    older = first.css_first('a[rel="next"]').attributes["href"]
    second = parse((await anonymous.get(older)).text)
    assert [text_of(t) for t in second.css(".status-incident-title")] == [
        f"Old problem {n}" for n in range(4, -1, -1)
    ]
    assert second.css_first('a[rel="next"]') is None
    link = first.css_first(".status-incident-title a").attributes["href"]
    one = await anonymous.get(link)
    assert one.status_code == 200 and "Fixed 24." in one.text
    assert (await anonymous.get("/status/incidents/nonsense")).status_code == 404
    assert (await anonymous.get("/status/history?after=nonsense")).status_code == 303


async def test_the_internal_page_is_for_signed_in_people(db, people, anonymous, browsers):
    await a_page(db)
    away = await anonymous.get("/status/internal")
    assert away.status_code == 303
    assert away.headers["location"].startswith("/auth/sign-in?next=")
    async with browsers(people.member) as member:
        inside = await member.get("/status/internal")
        assert inside.status_code == 200
        tree = parse(inside.text)
        names = {text_of(n): n for n in tree.css(".status-component-name")}
        assert "Merger room Internal" in names
        assert text_of(tree.css_first(".status-internal-label")) == "Internal"
        assert text_of(tree.css_first("#overall")) == "Major system outage."
        public = await member.get("/status")
        assert "Merger room" not in public.text  # the public page, even when signed in


async def test_the_statuspage_json(db, anonymous):
    await a_page(db)
    summary = (await anonymous.get("/status/api/v2/summary.json")).json()
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert set(summary["page"]) >= {"id", "name", "url", "time_zone", "updated_at"}
    assert summary["page"]["url"] == f"{SITE}/status"
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    components = {c["name"]: c for c in summary["components"]}
    assert set(components) == {"Website", "Platform", "API", "Dashboard"}
    for found in components.values():
        assert set(found) >= COMPONENT_FIELDS
    assert components["API"]["status"] == "partial_outage"
    assert components["API"]["group_id"] == components["Platform"]["id"]
    assert components["Platform"]["group"] is True
    assert components["Platform"]["components"] == [
        components["API"]["id"], components["Dashboard"]["id"],
    ]  # fmt: skip
    (incident,) = summary["incidents"]
    assert set(incident) >= INCIDENT_FIELDS
    assert incident["status"] == "investigating" and incident["impact"] == "major"
    newest = incident["incident_updates"][0]
    assert newest["body"] == "We found the cause & fixed it <b>"
    assert {"id", "status", "body", "created_at"} <= set(incident["incident_updates"][0])
    assert [c["name"] for c in incident["components"]] == ["API"]
    (planned,) = summary["scheduled_maintenances"]
    assert (
        planned["status"] == "scheduled" and planned["scheduled_for"] and planned["scheduled_until"]
    )
    status = (await anonymous.get("/status/api/v2/status.json")).json()
    assert status == {"page": summary["page"], "status": summary["status"]}
    listed = (await anonymous.get("/status/api/v2/components.json")).json()
    assert listed["components"] == summary["components"]
    incidents = (await anonymous.get("/status/api/v2/incidents.json")).json()
    assert [i["name"] for i in incidents["incidents"]] == ["Slow API responses"]
    planned_list = await anonymous.get("/status/api/v2/scheduled-maintenances.json")
    assert [m["name"] for m in planned_list.json()["scheduled_maintenances"]] == [
        "Database upgrade"
    ]
    assert "Merger room" not in json.dumps(summary)


async def test_the_atom_feed(db, anonymous):
    await a_page(db)
    await status_incident(db, "Past <trouble> & more", state=StatusIncidentState.RESOLVED,
                          messages=["All fixed."])  # fmt: skip
    answer = await anonymous.get("/status/feed.atom")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}").text
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    entries = feed.findall(f"{ATOM}entry")
    titles = {e.find(f"{ATOM}title").text for e in entries}
    assert titles == {"Slow API responses", "Database upgrade", "Past <trouble> & more"}
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{required}").text
        assert entry.find(f"{ATOM}link").attrib["href"].startswith(f"{SITE}/status/incidents/")
    assert "All fixed." in "".join(e.find(f"{ATOM}content").text for e in entries)


async def test_the_settings_title_support_link_and_logo(db, anonymous):
    async with db.write() as session:
        await session.execute(
            update(StatusPageSettings).where(StatusPageSettings.id == 1).values(
                title="Acme status", intro="How Acme is doing.",
                support_url="https://help.example.com/", logo_url="/static/favicon.svg",
            )
        )  # fmt: skip
    tree = parse((await anonymous.get("/status")).text)
    assert text_of(tree.css_first("title")) == "Acme status"
    assert text_of(tree.css_first(".status-intro")) == "How Acme is doing."
    support = next(a for a in tree.css("a") if text_of(a) == "Contact support")
    assert support.attributes["href"] == "https://help.example.com/"
    assert tree.css_first("img.status-logo").attributes["src"] == "/static/favicon.svg"
    async with db.write() as session:
        await session.execute(
            update(StatusPageSettings).where(StatusPageSettings.id == 1).values(
                support_url="javascript:alert(1)", logo_url="//elsewhere.example/logo.png"
            )
        )  # fmt: skip
    answer = await anonymous.get("/status")
    assert "javascript:" not in answer.text and "elsewhere.example" not in answer.text
    assert "Contact support" not in answer.text


async def test_the_internal_read_is_refused_to_nobody(db, anonymous):
    await a_page(db)
    schema = anonymous._transport.app.state.services.schema
    context = Context(db=db, viewer=nobody())
    try:
        refused = await schema.execute(
            "{ publicStatus(internal: true) { title } }", context_value=context
        )
        public = await schema.execute(
            "{ publicStatus { groups { components { name } } } }", context_value=context
        )
    finally:
        await context.close()
    assert refused.data is None
    assert refused.errors[0].message == "Sign in to see the internal status page."
    names = [c["name"] for g in public.data["publicStatus"]["groups"] for c in g["components"]]
    assert names == ["Website", "API", "Dashboard"]


async def test_in_a_real_browser_light_dark_phone_and_without_script(db, served, browser):  # noqa: F811
    await a_page(db)
    await status_incident(db, "Past trouble", state=StatusIncidentState.RESOLVED, messages=["Ok."])
    plain = await browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 800}
    )
    try:
        page = await plain.new_page()
        await page.goto(f"{served}/status")
        assert await page.locator("#overall").inner_text() == "Partial system outage."
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390  # nothing wider than a phone
    finally:
        await plain.close()
    context = await browser.new_context()
    try:
        page = await context.new_page()
        for path in ("/status", "/status/history"):
            for scheme in ("light", "dark"):
                await page.emulate_media(color_scheme=scheme)
                await page.goto(f"{served}{path}")
                assert await axe(page) == [], (path, scheme)
    finally:
        await context.close()


async def test_what_support_publishes_reaches_the_page(db, people, anonymous, browsers):
    secret = await secret_incident(db, people)
    api = await status_components.create_component(
        db, actor=people.admin, name="API", group_name="Platform"
    )
    await status_components.create_component(db, actor=people.admin, name="Vault", public=False)
    before = (await anonymous.get("/status")).content
    await status_page.publish_status_incident(
        db, actor=people.responder, incident_id=secret.id, title="Errors on the API",
        message="Some requests fail; we are on it.", affected=[(api.id, S.MAJOR_OUTAGE)],
    )  # fmt: skip
    answer = await anonymous.get("/status")
    assert answer.content != before
    tree = parse(answer.text)
    assert text_of(tree.css_first("#overall")) == "Major system outage."
    assert text_of(tree.css_first(".status-update-message")) == "Some requests fail; we are on it."
    assert text_of(tree.css_first("#components .cs")) == "Major outage"
    assert "Secret merger leak" not in answer.text and secret.reference not in answer.text
    assert "Vault" not in answer.text
    async with browsers(people.member) as member:  # the public page is the same signed in
        signed_in = await member.get("/status")
    assert without_uptime(signed_in.text) == without_uptime(answer.text)  # today's share moves


async def test_a_logo_on_another_site_is_allowed_by_the_page_policy(db, anonymous):
    async with db.write() as session:
        await session.execute(
            update(StatusPageSettings).where(StatusPageSettings.id == 1).values(
                logo_url="https://cdn.example.com/acme/logo.png"
            )
        )  # fmt: skip
    answer = await anonymous.get("/status")
    assert parse(answer.text).css_first("img.status-logo").attributes["src"] == (
        "https://cdn.example.com/acme/logo.png"
    )
    directives = dict(
        d.strip().split(" ", 1) for d in answer.headers["content-security-policy"].split(";")
    )
    assert directives["img-src"].split() == ["'self'", "data:", "https://cdn.example.com"]
    assert directives["script-src"] == "'self'"  # nothing else loosened
    inside = await anonymous.get("/healthz")
    assert "cdn.example.com" not in inside.headers["content-security-policy"]
