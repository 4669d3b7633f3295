"""Scheduling maintenance from the internal status page: responders and admins get the form
(members do not), a window scheduled there shows on the public page ahead of time, a refused
form comes back as typed with its errors by field, and a window is cancelled early with the
message customers read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.app.test_status_public import component
from tests.support.html import parse, text_of


def local(moment: datetime) -> str:
    """A time as a ``datetime-local`` field sends it (UTC, to the minute)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


async def test_a_responder_schedules_maintenance_customers_see_ahead(db, people, browsers):
    await component(db, "API")
    await component(db, "Billing DB", public=False)
    async with browsers(people.member) as member:
        tree = parse((await member.get("/status/internal")).text)
        assert tree.css_first("#schedule") is None  # members may not publish
    async with browsers(people.responder) as responder:
        tree = parse((await responder.get("/status/internal")).text)
        boxes = {text_of(tree.css_first(f'label[for="{b.attributes["id"]}"]')): b.attributes["value"]
                 for b in tree.css('#schedule input[name="component"]')}  # fmt: skip
        assert set(boxes) == {"API", "Billing DB (internal)"}
        start = datetime.now(UTC) + timedelta(days=3)
        sent = await responder.post("/status/internal/maintenance", {
            "title": "Database upgrade", "message": "We upgrade the database.",
            "starts_at": local(start), "ends_at": local(start + timedelta(hours=2)),
            "component": [boxes["API"], boxes["Billing DB (internal)"]],
        })  # fmt: skip
        assert sent.status_code == 303, sent.text
        public = parse((await responder.get("/status")).text)
        shown = text_of(public.css_first("#maintenance"))
        assert "Database upgrade" in shown and "Scheduled" in shown and "Affects API" in shown
        assert "Billing DB" not in shown

        inside = parse((await responder.get("/status/internal")).text)
        end = inside.css_first("#end-maintenance form")
        assert text_of(end.css_first("button")) == "Cancel it"
        window = end.css_first('input[name="status_incident"]').attributes["value"]
        ended = await responder.post("/status/internal/maintenance/end", {
            "status_incident": window, "message": "Moved to next week.",
        })  # fmt: skip
        assert ended.status_code == 303
        public = parse((await responder.get("/status")).text)
        assert public.css_first("#maintenance") is None
        history = await responder.get("/status/history")
        assert "Moved to next week." in history.text


async def test_a_refused_schedule_comes_back_as_typed(db, people, browsers):
    await component(db, "API")
    async with browsers(people.responder) as responder:
        start = datetime.now(UTC) + timedelta(days=1)
        refused = await responder.post("/status/internal/maintenance", {
            "title": "Upgrade", "message": "Soon.", "starts_at": local(start),
            "ends_at": local(start - timedelta(hours=1)),
        })  # fmt: skip
        assert refused.status_code == 422
        tree = parse(refused.text)
        assert tree.css_first("#m-title").attributes["value"] == "Upgrade"
        assert "Choose the components" in text_of(tree.css_first("#m-components-error"))
        garbled = await responder.post("/status/internal/maintenance", {
            "title": "Upgrade", "message": "Soon.", "starts_at": "tomorrow", "ends_at": "",
        })  # fmt: skip
        tree = parse(garbled.text)
        assert text_of(tree.css_first("#m-starts-error")) == "Give a date and a time (UTC)."
        assert tree.css_first("#m-ends").attributes.get("aria-invalid") == "true"
        public = parse((await responder.get("/status")).text)
        assert public.css_first("#maintenance") is None
