"""The declare page at ``/incidents/new``: the labelled form and its type-dependent part, type
defaults, declaring once per form, errors shown next to their fields with nothing declared,
custom field values, viewers, escaping, and the htmx fragments."""

from __future__ import annotations

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
from tests.support.html import (
    checked,
    controls,
    field_error,
    href,
    invalid,
    one,
    parse,
    text,
    texts,
    value,
)


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
    return value(parse(page), "idempotency_key")


async def form_of(browser, **params):
    """A fresh form as the browser shows it: its hidden fields and the defaults it shows."""
    tree = parse((await browser.get("/incidents/new", params=params)).text)
    shown = {
        "idempotency_key": value(tree, "idempotency_key"),
        "defaults_for": value(tree, "defaults_for"),
        "type": checked(tree, "type")[0],
        "severity": checked(tree, "severity")[0],
    }
    if checked(tree, "private"):
        shown["private"] = "on"
    return shown


async def test_the_form_asks_in_plain_words_with_every_field_labelled(db, people, browsers):
    async with browsers(people.member) as browser:
        page = await browser.get("/incidents/new")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    tree = parse(page.text)
    assert text(tree, "main h1") == "Declare an incident"
    for control, label in (("declare-name", "Name"), ("declare-summary", "Summary")):
        assert text(tree, f'label[for="{control}"]') == label
        one(tree, f"#{control}")
    one(tree, 'label.check[for="declare-private"] > input#declare-private[type="checkbox"]')
    assert text(tree, 'label[for="declare-private"]') == "Private"
    legends = texts(tree, "#declare-form legend")
    assert "Type" in legends and "Severity" in legends
    assert texts(tree, "#declare-form .form-actions button") == ["Declare incident"]
    assert one(tree, ".form-actions button").attributes["type"] == "submit"
    # Each choice says what it means, to help people pick.
    descriptions = texts(tree, ".choice .hint")
    for description in (
        "Small impact: a few people or a non-critical feature",
        "Severe impact: a core service is down",
        "Breaches, leaked credentials, lost devices",
        "Practice: rehearse the response",
    ):
        assert any(description in d for d in descriptions), description
    # The default type's custom fields, each labelled.
    features = await field_key(db, "Affected features")
    customers = await field_key(db, "Customers affected")
    status_page = await field_key(db, "Status page")
    assert "Affected features" in legends
    assert text(tree, f'label[for="{customers}"]') == "Customers affected"
    assert text(tree, f'label[for="{status_page}"]') == "Status page"
    login = await option_id(db, "Affected features", "Login")
    assert login in [c.attributes["value"] for c in controls(tree, features)]
    # Defaults: the first type, its severity (the least severe), not private; a form key.
    assert checked(tree, "type") == [await type_id(db, "Default")]
    assert checked(tree, "severity") == [await severity_id(db, "Minor")]
    assert checked(tree, "private") == []
    assert len(value(tree, "idempotency_key")) >= 20
    # The checklist: a fieldset with a legend, its five questions and the rule in words.
    checklist = one(tree, "fieldset[data-checklist]")
    assert text(checklist, "legend > h2") == "Is this an incident?"
    assert len(checklist.css('input[type="checkbox"]')) == 5
    assert "Two or more yes answers suggest declaring." in text(checklist, "#checklist-rule")


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
    tree = parse(page)
    assert checked(tree, "type") == [security]
    assert checked(tree, "severity") == [await severity_id(db, "Major")]
    assert checked(tree, "private") == ["on"]
    assert text(tree, "#severity-hint").endswith("Security incidents start at Major.")
    assert text(tree, "#declare-private-hint").endswith(
        "Security incidents are private unless you untick this."
    )
    assert tree.css(".custom-fields") == []  # Security asks for no custom fields


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
    tree = parse(again.text)
    assert "already used to declare an incident" in text(tree, "#declare-problems")
    assert value(tree, "idempotency_key") != form["idempotency_key"]  # sending it again declares
    assert value(tree, "name") == "Search down"
    assert await count(db) == 1


async def test_an_empty_name_gets_a_clear_message_and_declares_nothing(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post(
            "/incidents/new", {**form, "name": "   ", "summary": "Kept as typed"}
        )
    assert answer.status_code == 422
    tree = parse(answer.text)
    assert one(tree, "#declare-problems").attributes["role"] == "alert"
    assert texts(tree, "#declare-problems li") == ["Name cannot be empty."]
    assert href(tree, "Name cannot be empty.") == "#declare-name"
    assert field_error(tree, "name") == "Name cannot be empty." and invalid(tree, "name")
    described = one(tree, "#declare-name").attributes["aria-describedby"]
    assert described == "declare-name-hint declare-name-error"
    assert value(tree, "summary") == "Kept as typed"
    assert value(tree, "idempotency_key") == form["idempotency_key"]
    assert await count(db) == 0


async def test_a_name_too_long_is_refused_next_to_the_field(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post("/incidents/new", {**form, "name": "x" * 201})
    assert answer.status_code == 422
    assert field_error(parse(answer.text), "name") == "Name is too long: at most 200 characters."
    assert await count(db) == 0


async def test_htmx_gets_the_redrawn_form_only(db, people, browsers):
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        answer = await browser.post("/incidents/new", {**form, "name": ""}, htmx=True)
    assert answer.status_code == 422
    assert answer.text.lstrip().startswith('<form id="declare-form"')
    assert "<html" not in answer.text and "data-checklist" not in answer.text
    assert field_error(parse(answer.text), "name") == "Name cannot be empty."
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
        too_long = await browser.post(
            "/incidents/new", {**form, "name": "Slow", status_page: "https://" + "x" * 2000}
        )
    assert not_a_number.status_code == not_a_link.status_code == too_long.status_code == 422
    message = "Customers affected must be a number, such as 34 or 2.5."
    tree = parse(not_a_number.text)
    assert field_error(tree, customers) == message and invalid(tree, customers)
    assert href(tree, message) == f"#{customers}"
    described = one(tree, f'input[id="{customers}"]').attributes["aria-describedby"]
    assert described == f"{customers}-hint {customers}-error"
    assert value(tree, customers) == "lots"
    tree = parse(not_a_link.text)
    assert field_error(tree, status_page) == "Status page must be an http(s) link."
    assert value(tree, status_page) == "ftp://status"
    said = "Status page is too long: at most 2,000 characters."  # the API names the field
    assert field_error(parse(too_long.text), status_page) == said
    assert await count(db) == 0


async def test_a_viewer_is_told_who_can_declare_and_cannot_post(db, people, browsers):
    async with browsers(people.viewer) as browser:
        page = await browser.get("/incidents/new")
        csrf = browser.csrf
        answer = await browser.post(
            "/incidents/new", {"name": "Let me in", "idempotency_key": "k" * 22}
        )
    assert page.status_code == 200
    tree = parse(page.text)
    assert text(tree, "#viewer-heading") == "Your role can watch incidents, but not declare them"
    assert "ask your Muster administrators for the member role" in text(tree, ".declare-viewer")
    assert tree.css("#declare-form, #declare-name") == [] and "declare-name" not in page.text
    assert csrf
    assert answer.status_code == 403
    refused = parse(answer.text)
    assert text(refused, "#viewer-heading") == "Your role can watch incidents, but not declare them"
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
    markup = answer.text
    assert "<script>alert(1)</script>" not in markup
    assert 'hx-get="/x"' not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert markup.count("&lt;b hx-get=&#34;/x&#34;&gt;") == 3  # name, summary, the custom field
    tree = parse(markup)  # kept as typed, as text
    assert [value(tree, name) for name in ("name", "summary", customers)] == [hostile] * 3
    assert one(tree, "#declare-form").css('script, b, [hx-get="/x"]') == []
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
    tree = parse(part.text)
    assert "<html" not in part.text and controls(tree, "name") == []
    assert {v.strip() for v in part.headers["vary"].split(",")} >= {"HX-Request", "Cookie"}
    assert checked(tree, "severity") == [await severity_id(db, "Major")]
    assert checked(tree, "private") == ["on"]
    assert value(tree, "defaults_for") == security
    assert (
        one(tree, "#type-part").attributes["data-announce"] == "Security: severity Major, private."
    )
    # The number typed for a field Security does not ask for is kept, hidden, for the way back.
    [kept] = controls(tree, customers)
    assert (kept.attributes["type"], value(tree, customers)) == ("hidden", "34")
    tree = parse(back.text)
    assert checked(tree, "severity") == [await severity_id(db, "Minor")]
    assert checked(tree, "private") == []
    [shown] = controls(tree, customers)
    assert (shown.attributes["type"], shown.attributes["inputmode"], shown.id) == (
        "text", "decimal", customers,
    )  # fmt: skip
    assert value(tree, customers) == "34"
    assert full.text.startswith("<!doctype html>")
    assert len(controls(parse(full.text), "name")) == 1


async def test_without_javascript_the_type_button_redraws_the_form(db, people, browsers):
    security = await type_id(db, "Security")
    async with browsers(people.member) as browser:
        form = await form_of(browser)
        fresh = parse((await browser.get("/incidents/new")).text)
        assert text(fresh, 'button[name="refresh"]') == "Show this type\u2019s fields"
        answer = await browser.post(
            "/incidents/new",
            {**form, "type": security, "name": "Kept", "refresh": "1"},
        )
    assert answer.status_code == 200
    assert answer.text.startswith("<!doctype html>")
    tree = parse(answer.text)
    assert text(tree, '#type-part [role="status"]') == (
        "Showing what Security incidents ask for. Nothing is declared yet."
    )
    assert checked(tree, "private") == ["on"]
    assert value(tree, "name") == "Kept"
    assert value(tree, "idempotency_key") == form["idempotency_key"]
    assert await count(db) == 0


async def test_signed_out_people_are_sent_to_sign_in(db, database_url):
    app = dev_app(database_url)
    try:
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url=SITE
        ) as http:
            answer = await http.get("/incidents/new?type=x")
    finally:
        await app.state.services.db.dispose()
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
    tree = parse(answer.text)
    message = "That type no longer exists: choose another."
    assert field_error(tree, "type") == message
    assert href(tree, message) == f"#type-{await type_id(db, 'Default')}"
    assert await count(db) == 0
