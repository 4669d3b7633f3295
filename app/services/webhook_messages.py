"""Webhook messages: the body and headers of one delivery's request, signed, in its endpoint's
shape.

A delivery's stored payload is the Standard Webhooks message (JSON ``{type, timestamp, data}``,
the incident's path made absolute with the base URL here); ``request_for`` sends it as it is to a
``STANDARD`` endpoint, as a Slack incoming-webhook message (``slack_message``: mrkdwn escaped so
no mention or link can be smuggled in) or as a Microsoft Teams Adaptive Card (``teams_message``),
each led by ``headline``, the one line saying what happened. Every shape is signed the same way,
with the endpoint's unsealed secret: ``webhook-id`` (the delivery's stable ``message_id``),
``webhook-timestamp`` and ``webhook-signature`` headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

from app import jobs
from app.models import WebhookDelivery, WebhookEndpoint, WebhookFormat
from app.services.webhook_endpoints import TEST, unseal

TEXT_LENGTH = 2900  # Slack's section text takes 3,000 characters


def request_for(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, outside: jobs.Outside
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery's request, in the endpoint's format."""
    message = _absolute(delivery.payload, outside.base_url)
    headers = {"Content-Type": "application/json", "User-Agent": "Muster-Webhooks/1"}
    if endpoint.format is WebhookFormat.SLACK:
        body: dict[str, Any] = slack_message(message)
    elif endpoint.format is WebhookFormat.TEAMS:
        body = teams_message(message)
    else:
        body = message
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    signed_at = datetime.now(UTC)  # the receiver compares it with its own clock
    secret = unseal(endpoint.sealed_secret, outside.secret_key)
    headers |= {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery.message_id, signed_at, text),
    }
    return text.encode(), headers


def _absolute(message: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    data = dict(message.get("data") or {})
    incident = data.get("incident")
    if isinstance(incident, dict) and isinstance(incident.get("url"), str):
        data["incident"] = {**incident, "url": base_url.rstrip("/") + incident["url"]}
    return {**message, "data": data}


def _escape(text: Any) -> str:
    """Text for Slack's mrkdwn: no mention (``<!channel>``) or link can be smuggled in."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def headline(message: Mapping[str, Any], escape: Callable[[Any], str] = str) -> str:
    """One line saying what happened, for chat."""
    data = message.get("data") or {}
    kind = message.get("type")
    incident = data.get("incident")
    if kind == TEST or not isinstance(incident, dict):
        return escape(data.get("message", "A message from Muster."))
    ref, name = incident["reference"], escape(incident["name"])
    moved = f"{escape(data.get('from'))} → {escape(data.get('to'))}"
    sentences = {
        "incident.declared": f"{ref} declared: {name}",
        "incident.accepted": f"{ref} accepted into {escape(data.get('status'))}: {name}",
        "incident.updated": f"Update on {ref} {name}: {escape(data.get('message', ''))}",
        "incident.status_changed": f"{ref} {name}: status {moved}",
        "incident.severity_changed": f"{ref} {name}: severity {moved}",
        "incident.role_assigned": (
            f"{ref} {name}: {escape(data.get('user'))} is now {escape(data.get('role'))}"
        ),
        "incident.resolved": f"{ref} resolved: {name}",
        "incident.closed": f"{ref} closed: {name}",
        "workflow.step": f"{ref} {name}: from the workflow “{escape(data.get('workflow'))}”",
    }
    return sentences.get(str(kind), f"{ref} {name}: {escape(kind)}")


def _facts(incident: Mapping[str, Any]) -> list[tuple[str, str]]:
    facts = [
        ("Severity", incident.get("severity")),
        ("Status", incident.get("status")),
        ("Type", incident.get("type")),
    ]
    if incident.get("mode") == "TEST":
        facts.append(("Mode", "Test"))
    if incident.get("private"):
        facts.append(("Visibility", "Private"))
    return [(title, str(value)) for title, value in facts if value]


def slack_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message (``text`` for Mattermost and Rocket.Chat, ``blocks``
    for Slack): the headline, the incident's facts and a button to it."""
    line = headline(message, _escape)[:TEXT_LENGTH]
    incident = (message.get("data") or {}).get("incident")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]
    if isinstance(incident, dict):
        facts = " · ".join(f"{title}: {_escape(value)}" for title, value in _facts(incident))
        if facts:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": facts}]})
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": f"Open {incident['reference']}"},
                        "url": incident["url"],
                    }
                ],
            }
        )
    return {"text": line, "blocks": blocks}


def teams_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A Microsoft Teams message with an Adaptive Card (1.4): the headline, the incident's facts
    and a button to it."""
    incident = (message.get("data") or {}).get("incident")
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": headline(message)[:TEXT_LENGTH],
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    actions: list[dict[str, Any]] = []
    if isinstance(incident, dict):
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": t, "value": v} for t, v in _facts(incident)],
            }
        )
        actions.append(
            {
                "type": "Action.OpenUrl",
                "title": f"Open {incident['reference']}",
                "url": incident["url"],
            }
        )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": actions,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }
