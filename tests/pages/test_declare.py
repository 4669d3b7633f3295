"""The declare page at ``/incidents/new``: the labelled form and its type-dependent part, type
defaults, declaring once per form, errors shown next to their fields with nothing declared,
custom field values, viewers, escaping, and the htmx fragments."""

from __future__ import annotations

import html
import re

import httpx2
from sqlalchemy import func, select

from app.models import (
    CustomField,
    CustomFieldOption,
    CustomFieldValue,
    Incident,
    IncidentType,
    Member,
    Severity,
)
from schema import ids
from tests.pages.conftest import SITE, dev_app
from tests.support.factories import named


async def type_id(db, name):
    return ids.encode("IncidentType", (await named(db, IncidentType, name)).id)


async def severity_id(db, name):
    return ids.encode("Severity", (await named(db, Severity, name)).id)


async def field_key(db, name):
    return "field-" + ids.encode("CustomField", (await named(db, CustomField, name)).id)


async def option_id(db, field, value):
    async with db.read() as session:
        option = await session.scalar(
            select(CustomFieldOption)
            .join(CustomField)
            .where(CustomField.name == field, CustomFieldOption.value == value)
        )
    return ids.encode("CustomFieldOption", option.id)


async def declared(db) -> list[Incident]:
    async with db.read() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.number)))


async def count(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Incident))


def key_of(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)


def checked(page: str, name: str) -> list[str]:
    """The values of the checked inputs called ``name``."""
    inputs = re.findall(r"<input [^>]*>", page)
    return [
        re.search(r'value="([^"]*)"', i).group(1)
        for i in inputs
        if f'name="{name}"' in i and " checked" in i
    ]


async def form_of(browser, **params):
    """A fresh form as the browser shows it: its hidden fields and the defaults it shows."""
    page = (await browser.get("/incidents/new", params=params)).text
    shown = {
        "idempotency_key": key_of(page),
        "defaults_for": re.search(r'name="defaults_for" value="([^"]*)"', page).group(1),
        "type": checked(page, "type")[0],
        "severity": checked(page, "severity")[0],
    }
    if checked(page, "private"):
        shown["private"] = "on"
    return shown


async def test_the_form_asks_in_plain_words_with_every_field_labelled(db, people, browsers):
    async with browsers(people.member) as browser:
        page = await browser.get("/incidents/new")
    assert page.status_code == 200
    text = page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert "<h1>Declare an incident</h1>" in text
    for control, label in (("declare-name", "Name"), ("declare-summary", "Summary")):
        assert f'<label for="{control}">{label}</label>' in text
        assert f'id="{control}"' in text
    assert re.search(
        r'<label class="check" for="declare-private"><input [^>]*id="declare-private"', text
    )
    assert '<span class="choice-name">Private</span>' in text
    assert "<legend>Type</legend>" in text and "<legend>Severity</legend>" in text
    assert re.search(
        r'<button type="submit" class="primary declare-button">Declare incident</button>', text
    )
    readable = html.unescape(text)
    # Each choice says what it means, to help people pick.
    for description in (
        "Small impact: a few people or a non-critical feature",
        "Severe impact: a core service is down",
        "Breaches, leaked credentials, lost devices",
        "Practice: rehearse the response",
    ):
        assert description in readable, description
    # The default type's custom fields, each labelled.
    features = await field_key(db, "Affected features")
    customers = await field_key(db, "Customers affected")
    status_page = await field_key(db, "Status page")
    assert "<legend>Affected features</legend>" in text
    assert f'<label for="{customers}">Customers affected</label>' in text
    assert f'<label for="{status_page}">Status page</label>' in text
    assert f'name="{features}" value="{await option_id(db, "Affected features", "Login")}"' in text
    # Defaults: the first type, its severity (the least severe), not private; a form key.
    assert checked(text, "type") == [await type_id(db, "Default")]
    assert checked(text, "severity") == [await severity_id(db, "Minor")]
    assert checked(text, "private") == []
    assert len(key_of(text)) >= 20
    # The checklist: a fieldset with a legend, its five questions and the rule in words.
    assert re.search(
        r"<fieldset data-checklist>\s*<legend><h2[^>]*>Is this an incident\?</h2></legend>", text
    )
    assert text.count('<input type="checkbox" value=') == 5
    assert "Two or more yes answers suggest declaring." in text


async def test_each_form_gets_its_own_key(db, people, browsers):
    async with browsers(people.member) as browser:
        first = key_of((await browser.get("/incidents/new")).text)
        second = key_of((await browser.get("/incidents/new")).text)
    assert first != second


async def test_a_type_shows_its_defaults_and_its_own_fields(db, people, browsers):
    security = await type_id(db, "Security")
    async with browsers(people.member) as browser:
        page = (await browser.get("/incidents/new", params={"type": security})).text
    assert page.startswith("<!doctype html>")
    assert checked(page, "type") == [security]
    assert checked(page, "severity") == [await severity_id(db, "Major")]
    assert checked(page, "private") == ["on"]
    assert "Security incidents start at Major." in page
    assert "Security incidents are private unless you untick this." in page
    assert "Customers affected" not in page  # Security asks for no custom fields


async def test_declaring_through_the_form_goes_to_the_new_incident(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post(
            "/incidents/new",
            {**form, "name": "34 customers can't log in", "summary": "Since 9:00, EU only."},
        )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/incidents/INC-1"
    [incident] = await declared(db)
    assert incident.name == "34 customers can't log in"
    assert incident.summary == "Since 9:00, EU only."
    assert not incident.private
    async with db.read() as session:
        members = list(await session.scalars(select(Member.user_id)))
    assert members == [people.member.id]


async def test_the_same_form_sent_twice_declares_once(db, people, browsers):
    async with browsers(people.member) as browser:
        form = {**await form_of(browser), "name": "Checkout down"}
        first = await browser.post("/incidents/new", form)
        second = await browser.post("/incidents/new", form)
        third = await browser.post("/incidents/new", form, htmx=True)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == "/incidents/INC-1"
    assert third.status_code == 204
    assert third.headers["hx-redirect"] == "/incidents/INC-1"
    assert await count(db) == 1


async def test_htmx_declares_with_a_full_page_load_of_the_incident(db, people, browsers):
    async with browsers(people.member) as browser:
        form = {**await form_of(browser), "name": "Search is slow"}
        answer = await browser.post("/incidents/new", form, htmx=True)
    # Not a redirect (fetch would follow it and swap the incident page into the form).
    assert answer.status_code == 204
    assert answer.headers["hx-redirect"] == "/incidents/INC-1"
    assert "location" not in answer.headers
    assert await count(db) == 1


async def test_a_reused_form_that_changed_declares_nothing_new(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        await browser.post("/incidents/new", {**form, "name": "Checkout down"})
        again = await browser.post("/incidents/new", {**form, "name": "Search down"})
    assert again.status_code == 409
    assert "already used to declare an incident" in html.unescape(again.text)
    assert key_of(again.text) != form["idempotency_key"]  # sending it again declares another
    assert 'value="Search down"' in again.text
    assert await count(db) == 1


async def test_an_empty_name_gets_a_clear_message_and_declares_nothing(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post(
            "/incidents/new", {**form, "name": "   ", "summary": "Kept as typed"}
        )
    assert answer.status_code == 422
    text = answer.text
    summary = re.search(
        r'<div id="declare-problems" class="notice error" role="alert"[^>]*>(.*?)</div>', text, re.S
    )
    assert summary and "Name cannot be empty." in summary.group(1)
    assert '<a href="#declare-name">Name cannot be empty.</a>' in text
    assert '<p class="error-text" id="declare-name-error">Name cannot be empty.</p>' in text
    name_input = re.search(r'<input type="text" id="declare-name"[^>]*>', text).group(0)
    assert 'aria-describedby="declare-name-hint declare-name-error"' in name_input
    assert 'aria-invalid="true"' in name_input
    assert ">Kept as typed</textarea>" in text
    assert key_of(text) == form["idempotency_key"]
    assert await count(db) == 0


async def test_a_name_too_long_is_refused_next_to_the_field(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post("/incidents/new", {**form, "name": "x" * 201})
    assert answer.status_code == 422
    assert "Name is too long: at most 200 characters." in answer.text
    assert 'id="declare-name-error"' in answer.text
    assert await count(db) == 0


async def test_htmx_gets_the_redrawn_form_only(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post("/incidents/new", {**form, "name": ""}, htmx=True)
    assert answer.status_code == 422
    assert answer.text.lstrip().startswith('<form id="declare-form"')
    assert "<html" not in answer.text and "data-checklist" not in answer.text
    assert "Name cannot be empty." in answer.text
    assert {v.strip() for v in answer.headers["vary"].split(",")} >= {"HX-Request", "Cookie"}


async def test_security_comes_out_private_and_a_type_default_severity_applies(db, people, browsers):
    security = await type_id(db, "Security")
    async with browsers(people.member) as browser:
        shown = await form_of(browser, type=security)
        await browser.post("/incidents/new", {**shown, "name": "Laptop lost on a train"})
        # Without JavaScript, a person may pick the type and declare straight away: the type's
        # defaults still apply to what the form showed as the previous type's defaults.
        unchanged = await form_of(browser)
        await browser.post(
            "/incidents/new", {**unchanged, "type": security, "name": "Leaked API key"}
        )
        # What a person chose themselves stays.
        chosen = await form_of(browser)
        await browser.post(
            "/incidents/new",
            {**chosen, "type": security, "severity": await severity_id(db, "Critical"),
             "private": "on", "name": "Customer data exposed"},
        )  # fmt: skip
        public = await form_of(browser, type=security)
        del public["private"]
        await browser.post("/incidents/new", {**public, "name": "Phishing test by IT"})
    major = (await named(db, Severity, "Major")).id
    critical = (await named(db, Severity, "Critical")).id
    first, second, third, fourth = await declared(db)
    assert (first.private, first.severity_id) == (True, major)
    assert (second.private, second.severity_id) == (True, major)
    assert (third.private, third.severity_id) == (True, critical)
    assert (fourth.private, fourth.severity_id) == (False, major)  # unticked on purpose


async def test_custom_field_values_are_stored(db, people, browsers):
    features = await field_key(db, "Affected features")
    customers = await field_key(db, "Customers affected")
    status_page = await field_key(db, "Status page")
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post(
            "/incidents/new",
            {
                **form,
                "name": "Checkout errors",
                features: [
                    await option_id(db, "Affected features", "Checkout"),
                    await option_id(db, "Affected features", "Login"),
                ],
                customers: "1,200",
                status_page: "https://status.example.com/incidents/42",
            },
        )
    assert answer.status_code == 303
    async with db.read() as session:
        rows = list(await session.scalars(select(CustomFieldValue)))
        names = {row.id: (await session.get(CustomField, row.field_id)).name for row in rows}
        options = {
            (await session.get(CustomFieldOption, row.option_id)).value
            for row in rows
            if row.option_id
        }
    by_field = {names[row.id]: row for row in rows}
    assert options == {"Checkout", "Login"}
    assert by_field["Customers affected"].number_value == 1200
    assert by_field["Status page"].text_value == "https://status.example.com/incidents/42"


async def test_fields_another_type_asks_for_are_not_sent(db, people, browsers):
    customers = await field_key(db, "Customers affected")
    async with browsers(people.member) as browser:
        form = await form_of(browser, type=await type_id(db, "Security"))
        answer = await browser.post(
            "/incidents/new", {**form, "name": "Badge reader broken", customers: "12"}
        )
    assert answer.status_code == 303
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(CustomFieldValue)) == 0


async def test_a_bad_custom_field_value_is_shown_next_to_it(db, people, browsers):
    customers = await field_key(db, "Customers affected")
    status_page = await field_key(db, "Status page")
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        not_a_number = await browser.post(
            "/incidents/new", {**form, "name": "Slow", customers: "lots"}
        )
        not_a_link = await browser.post(
            "/incidents/new", {**form, "name": "Slow", status_page: "ftp://status"}
        )
    assert not_a_number.status_code == not_a_link.status_code == 422
    message = "Customers affected must be a number, such as 34 or 2.5."
    assert f'<p class="error-text" id="{customers}-error">{message}</p>' in not_a_number.text
    assert f'<a href="#{customers}">{message}</a>' in not_a_number.text
    field = re.search(rf'<input [^>]*id="{customers}"[^>]*>', not_a_number.text).group(0)
    assert f'aria-describedby="{customers}-hint {customers}-error"' in field
    assert 'value="lots"' in field
    message = "Status page must be an http(s) link."
    assert f'<p class="error-text" id="{status_page}-error">{message}</p>' in not_a_link.text
    assert 'value="ftp://status"' in not_a_link.text
    assert await count(db) == 0


async def test_a_viewer_is_told_who_can_declare_and_cannot_post(db, people, browsers):
    async with browsers(people.viewer) as browser:
        page = await browser.get("/incidents/new")
        csrf = browser.csrf
        answer = await browser.post(
            "/incidents/new", {"name": "Let me in", "idempotency_key": "k" * 22}
        )
    assert page.status_code == 200
    readable = html.unescape(page.text)
    assert "Your role can watch incidents, but not declare them" in readable
    assert "ask your Muster administrators for the member role" in readable
    assert 'name="idempotency_key"' not in page.text and "declare-name" not in page.text
    assert csrf
    assert answer.status_code == 403
    assert "Your role can watch incidents, but not declare them" in html.unescape(answer.text)
    assert await count(db) == 0


async def test_typed_text_is_escaped_on_the_redrawn_form(db, people, browsers):
    hostile = '<script>alert(1)</script><b hx-get="/x">"boo"'
    customers = await field_key(db, "Customers affected")
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post(
            "/incidents/new",
            {**form, "name": hostile, "summary": hostile, customers: hostile},
        )
    assert answer.status_code == 422
    text = answer.text
    assert "<script>alert(1)</script>" not in text
    assert 'hx-get="/x"' not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert text.count("&lt;b hx-get=&#34;/x&#34;&gt;") == 3  # name, summary, the custom field
    assert await count(db) == 0


async def test_the_htmx_type_switch_returns_only_the_type_dependent_part(db, people, browsers):
    default, security = await type_id(db, "Default"), await type_id(db, "Security")
    customers = await field_key(db, "Customers affected")
    switch = {
        "type": security,
        "defaults_for": default,
        "severity": await severity_id(db, "Minor"),
        customers: "34",
    }
    async with browsers(people.member) as browser:
        part = await browser.get("/incidents/new", params=switch, headers={"HX-Request": "true"})
        back = await browser.get(
            "/incidents/new",
            params={**switch, "type": default, "defaults_for": security,
                    "severity": await severity_id(db, "Major"), "private": "on"},
            headers={"HX-Request": "true"},
        )  # fmt: skip
        full = await browser.get("/incidents/new", params=switch)
    assert part.status_code == 200
    assert part.text.lstrip().startswith('<div id="type-part" class="type-part fresh"')
    assert "<html" not in part.text and 'name="name"' not in part.text
    assert {v.strip() for v in part.headers["vary"].split(",")} >= {"HX-Request", "Cookie"}
    assert checked(part.text, "severity") == [await severity_id(db, "Major")]
    assert checked(part.text, "private") == ["on"]
    assert f'name="defaults_for" value="{security}"' in part.text
    assert 'data-announce="Security: severity Major, private."' in part.text
    # The number typed for a field Security does not ask for is kept, hidden, for the way back.
    assert f'<input type="hidden" name="{customers}" value="34">' in part.text
    assert checked(back.text, "severity") == [await severity_id(db, "Minor")]
    assert checked(back.text, "private") == []
    assert re.search(
        rf'<input type="text" inputmode="decimal" id="{customers}" name="{customers}" value="34"',
        back.text,
    )
    assert full.text.startswith("<!doctype html>")
    assert 'name="name"' in full.text


async def test_without_javascript_the_type_button_redraws_the_form(db, people, browsers):
    security = await type_id(db, "Security")
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        assert "Show this type\u2019s fields" in (await browser.get("/incidents/new")).text
        answer = await browser.post(
            "/incidents/new",
            {**form, "type": security, "name": "Kept", "refresh": "1"},
        )
    assert answer.status_code == 200
    assert answer.text.startswith("<!doctype html>")
    assert "Showing what Security incidents ask for. Nothing is declared yet." in answer.text
    assert checked(answer.text, "private") == ["on"]
    assert 'value="Kept"' in answer.text
    assert key_of(answer.text) == form["idempotency_key"]
    assert await count(db) == 0


async def test_signed_out_people_are_sent_to_sign_in(db, database_url):
    app = dev_app(database_url)
    try:
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url=SITE
        ) as http:
            answer = await http.get("/incidents/new?type=x")
    finally:
        await app.state.db.dispose()
    assert answer.status_code == 303
    assert answer.headers["location"] == "/auth/sign-in?next=/incidents/new%3Ftype%3Dx"


async def test_a_type_that_no_longer_exists_is_explained_next_to_the_types(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post(
            "/incidents/new",
            {**form, "name": "Printer on fire", "type": ids.encode("IncidentType", 999)},
        )
    assert answer.status_code == 422
    assert (
        '<p class="error-text" id="type-error">That type no longer exists: choose another.</p>'
        in answer.text
    )
    first = await type_id(db, "Default")
    assert f'<a href="#type-{first}">That type no longer exists: choose another.</a>' in answer.text
    assert await count(db) == 0
