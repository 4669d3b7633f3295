"""The demo's chat channel, ``#incidents``: a stand-in for Slack that Muster's webhooks post to,
so someone trying the demo sees a chat announcement without a Slack workspace.

The demo adds a Slack-format webhook endpoint whose URL is ``hook_url(base_url)`` (the demo's
own site). ``receive`` is what that URL does with a request: it takes a message only if the
request carries a valid Standard Webhooks signature (which Muster sends in every format) by the
secret of an endpoint registered at exactly that URL, so only Muster's own deliveries reach the
channel and nobody else can post into it; it returns the message's headline, its facts and its
link (only a link into the demo itself), each bounded. Messages are kept by the web layer, in
memory: a fresh ``muster demo`` starts a fresh channel.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.db import Database
from app.models import WebhookEndpoint, WebhookFormat
from app.services import webhook_endpoints

CHANNEL = "#incidents"
PAGE_PATH = "/demo/chat"
HOOK_PATH = "/demo/chat/hook"
TEXT_LIMIT = 3000  # characters of a headline or of the facts kept


@dataclasses.dataclass(frozen=True)
class Chat:
    """Where the demo's chat channel listens, and the key webhook secrets are sealed with."""

    url: str
    secret_key: str

    @classmethod
    def at(cls, base_url: str, secret_key: str) -> Chat:
        return cls(hook_url(base_url), secret_key)


@dataclasses.dataclass(frozen=True)
class ChatMessage:
    """One message in the channel, as a chat client would show it."""

    message_id: str
    text: str
    facts: str = ""
    link: str | None = None
    link_label: str = ""


def hook_url(base_url: str) -> str:
    return base_url.rstrip("/") + HOOK_PATH


async def receive(
    db: Database,
    *,
    url: str,
    secret_key: str,
    body: bytes,
    headers: Mapping[str, str],
    base_url: str,
) -> ChatMessage | None:
    """The message a signed request to ``url`` carries, or None if no endpoint at ``url``
    signed it (or it is not a Slack message)."""
    wanted = ("webhook-id", "webhook-timestamp", "webhook-signature")
    signed = {name: headers.get(name, "") for name in wanted}
    if not all(signed.values()):
        return None
    async with db.read() as session:
        sealed = (
            await session.scalars(
                select(WebhookEndpoint.sealed_secret).where(
                    WebhookEndpoint.url == url, WebhookEndpoint.format == WebhookFormat.SLACK
                )
            )
        ).all()
    for one in sealed:
        try:
            Webhook(webhook_endpoints.unseal(one, secret_key)).verify(
                body, signed, json_parse=False
            )
        except (ValueError, WebhookVerificationError):
            continue
        return _message(signed["webhook-id"], body, base_url)
    return None


def _message(message_id: str, body: bytes, base_url: str) -> ChatMessage | None:
    try:
        sent: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(sent, dict) or not isinstance(sent.get("text"), str):
        return None
    facts, link, label = "", None, ""
    for block in sent.get("blocks") or ():
        if not isinstance(block, dict):
            continue
        if block.get("type") == "context":
            facts = " ".join(
                str(element.get("text", ""))
                for element in block.get("elements") or ()
                if isinstance(element, dict)
            )
        elif block.get("type") == "actions":
            for element in block.get("elements") or ():
                href = element.get("url") if isinstance(element, dict) else None
                if isinstance(href, str) and href.startswith(base_url.rstrip("/") + "/"):
                    link = href
                    label = str((element.get("text") or {}).get("text", "Open"))[:100]
    return ChatMessage(
        message_id=message_id[:100],
        text=_plain(sent["text"]),
        facts=_plain(facts),
        link=link,
        link_label=label,
    )


def _plain(mrkdwn: str) -> str:
    """Slack's escaped text as it reads (the page escapes it again for HTML)."""
    text = mrkdwn[:TEXT_LIMIT]
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
