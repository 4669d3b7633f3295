"""The demo's chat channel, ``/demo/chat``: after ``muster demo`` starts, the leadership
workflow's announcement of the Critical incident support declared shows up there (sent by the
server's worker over real HTTP to the demo's own hook), and nothing but a post signed by the
channel's endpoint gets in, each message once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx2
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from app import demo
from app.db import Database
from app.models import WebhookEndpoint
from app.services import webhook_endpoints
from tests.pages.conftest import SITE, csrf_of, dev_app
from tests.support.html import parse
from tests.support.servers import free_port, serving, until

KEY = "k" * 32  # dev_app's secret key
WORKFLOW = "Loop in leadership for Critical incidents"


async def seed(database_url: str, site: str) -> None:
    db = Database(database_url)
    try:
        await demo.seed(db, chat=demo.Chat.at(site, KEY))
    finally:
        await db.dispose()


def sign_in(http: httpx2.Client, site: str, email: str) -> None:
    page = http.get("/auth/sign-in")
    answer = http.post(
        "/auth/dev",
        data={"csrf_token": csrf_of(page.text), "email": email},
        headers={"Origin": site},
    )
    assert answer.status_code == 303


def said(page: str) -> list[str]:
    return [node.text(strip=True) for node in parse(page).css("#chat-messages .body")]


async def test_the_workflow_announcement_reaches_the_chat_channel(database_url):
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    await seed(database_url, site)
    app = dev_app(database_url, MUSTER_BASE_URL=site, MUSTER_DEMO="1")
    with serving(app, port), httpx2.Client(base_url=site, timeout=10) as http:
        sign_in(http, site, "exec@demo.muster")
        pages: list[str] = []

        def announced() -> bool:
            pages.append(http.get("/demo/chat").text)
            return any(WORKFLOW in line for line in said(pages[-1]))

        await until(announced)
        page = parse(pages[-1])
        inbox = http.get("/notifications").text
    (line,) = said(pages[-1])
    assert line.startswith("INC-") and "Public API answers every request with an error" in line
    assert "Severity: Critical" in page.css_first("#chat-messages .meta").text()
    link = page.css_first("#chat-messages a")
    assert link.attributes["href"].startswith(f"{site}/incidents/INC-")
    assert f"Workflow “{WORKFLOW}”" in inbox


@pytest.fixture
async def chat_app(database_url):
    await seed(database_url, SITE)
    app = dev_app(database_url, MUSTER_DEMO="1")
    yield app
    await app.state.services.db.dispose()


async def secret_of(database_url: str) -> str:
    db = Database(database_url)
    try:
        async with db.read() as session:
            endpoint = await session.scalar(select(WebhookEndpoint))
    finally:
        await db.dispose()
    assert endpoint is not None
    return webhook_endpoints.unseal(endpoint.sealed_secret, KEY)


def signed(secret: str, message_id: str, text: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"text": text, "blocks": []})
    at = datetime.now(UTC)
    return body.encode(), {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


async def test_only_posts_signed_by_the_channel_endpoint_get_in_each_once(chat_app, database_url):
    secret = await secret_of(database_url)
    transport = httpx2.ASGITransport(app=chat_app)
    async with httpx2.AsyncClient(transport=transport, base_url=SITE) as http:
        hook = "/demo/chat/hook"
        unsigned = await http.post(hook, json={"text": "Unsigned"})
        body, headers = signed(webhook_endpoints.new_secret(), "msg_forged", "Forged")
        forged = await http.post(hook, content=body, headers=headers)
        body, headers = signed(secret, "msg_1", "Hello <!channel> & all")
        first = await http.post(hook, content=body, headers=headers)
        again = await http.post(hook, content=body, headers=headers)
        huge = await http.post(hook, content=b"x" * (65 * 1024), headers=headers)
        page = await http.get("/auth/sign-in")
        await http.post(
            "/auth/dev",
            data={"csrf_token": csrf_of(page.text), "email": "support@demo.muster"},
            headers={"Origin": SITE},
        )
        shown = (await http.get("/demo/chat")).text
    assert unsigned.status_code == forged.status_code == 401
    assert first.status_code == again.status_code == 200
    assert huge.status_code == 413
    assert said(shown) == ["Hello <!channel> & all"]
    assert "&lt;!channel&gt; &amp; all" in shown  # escaped, as text


async def test_outside_the_demo_there_is_no_chat_channel(database_url):
    app = dev_app(database_url)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url=SITE) as http:
        looked = await http.get("/demo/chat")
    async with httpx2.AsyncClient(transport=transport, base_url=SITE) as stranger:
        posted = await stranger.post("/demo/chat/hook", json={"text": "hi"})
    await app.state.services.db.dispose()
    assert looked.status_code == 404
    assert posted.status_code in (303, 401)  # a stranger's body is not read at all
