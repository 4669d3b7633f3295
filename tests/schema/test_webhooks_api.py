"""Webhook endpoints over the API: the secret in the create and rotate answers only, updates,
the delivery log after "send a test", deletion, and everyone but admins refused."""

from __future__ import annotations

import contextlib

import httpx2
from sqlalchemy import select
from standardwebhooks import Webhook

from app import jobs
from app.models import Job
from app.services import webhooks

CREATE = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    endpoint { id url description format eventTypes includePrivate enabled }
    secret
    userErrors { field code message }
  }
}"""

ENDPOINTS = """
query {
  webhookEndpoints {
    id url format eventTypes enabled disabledReason createdAt
    deliveries(first: 5) {
      id messageId eventType state attempts lastStatusCode lastError lastAttemptAt deliveredAt
      createdAt
    }
  }
}"""

UPDATE = """
mutation($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) {
    endpoint { id description format eventTypes enabled disabledReason }
    userErrors { field code }
  }
}"""

ROTATE = """
mutation($id: ID!) {
  rotateWebhookSecret(input: {endpointId: $id}) { endpoint { id } secret userErrors { code } }
}"""

TEST = """
mutation($id: ID!) {
  sendTestWebhook(input: {endpointId: $id}) {
    delivery { id messageId eventType state attempts }
    userErrors { field code }
  }
}"""

DELETE = """
mutation($id: ID!) {
  deleteWebhookEndpoint(input: {endpointId: $id}) { endpoint { id } userErrors { code } }
}"""

ONE = "query($id: ID!) { webhookEndpoint(id: $id) { id url } }"


async def test_an_admin_manages_an_endpoint(api, people):
    admin = await api.as_(people.admin)
    made = (
        await admin(
            CREATE,
            {
                "input": {
                    "url": "https://chat.example.com/hooks/abc",
                    "description": "#incidents",
                    "format": "SLACK",
                    "eventTypes": ["incident.declared", "incident.resolved"],
                }
            },
        )
    )["createWebhookEndpoint"]
    assert made["userErrors"] == []
    endpoint = made["endpoint"]
    assert endpoint["format"] == "SLACK" and endpoint["enabled"] is True
    assert endpoint["eventTypes"] == ["incident.declared", "incident.resolved"]
    assert made["secret"].startswith("whsec_")
    Webhook(made["secret"])  # a secret the library takes

    listed = (await admin(ENDPOINTS))["webhookEndpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert made["secret"] not in str(listed)
    assert (await admin(ONE, {"id": endpoint["id"]}))["webhookEndpoint"]["url"].endswith("/abc")

    changed = (
        await admin(
            UPDATE,
            {"input": {"endpointId": endpoint["id"], "description": "#ops", "eventTypes": None}},
        )
    )["updateWebhookEndpoint"]
    assert changed["endpoint"]["description"] == "#ops"
    assert changed["endpoint"]["eventTypes"] is None  # every type now
    kept = (await admin(UPDATE, {"input": {"endpointId": endpoint["id"], "format": "TEAMS"}}))[
        "updateWebhookEndpoint"
    ]
    assert kept["endpoint"]["format"] == "TEAMS" and kept["endpoint"]["eventTypes"] is None

    off = (await admin(UPDATE, {"input": {"endpointId": endpoint["id"], "enabled": False}}))[
        "updateWebhookEndpoint"
    ]["endpoint"]
    assert off["enabled"] is False and "Ada Admin" in off["disabledReason"]
    refused = (await admin(TEST, {"id": endpoint["id"]}))["sendTestWebhook"]
    assert refused["userErrors"] == [{"field": "endpointId", "code": "INVALID"}]
    await admin(UPDATE, {"input": {"endpointId": endpoint["id"], "enabled": True}})

    rotated = (await admin(ROTATE, {"id": endpoint["id"]}))["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]

    deleted = (await admin(DELETE, {"id": endpoint["id"]}))["deleteWebhookEndpoint"]
    assert deleted["userErrors"] == []
    assert (await admin(ENDPOINTS))["webhookEndpoints"] == []
    assert (await admin(ONE, {"id": endpoint["id"]}))["webhookEndpoint"] is None


async def test_the_delivery_log(api, people, db):
    admin = await api.as_(people.admin)
    made = (await admin(CREATE, {"input": {"url": "http://127.0.0.1:9/nothing-listens"}}))[
        "createWebhookEndpoint"
    ]
    endpoint_id = made["endpoint"]["id"]
    sent = (await admin(TEST, {"id": endpoint_id}))["sendTestWebhook"]
    assert sent["delivery"]["eventType"] == "webhook.test"
    assert sent["delivery"]["state"] == "PENDING" and sent["delivery"]["attempts"] == 0

    # One attempt, refused (loopback is inside, and nothing listens there anyway).
    async with db.read() as session:
        job = await session.scalar(select(Job))
    async with httpx2.AsyncClient() as http:
        reach = jobs.Outside(
            base_url="http://muster.test", secret_key="k" * 32, mail=None, http=http
        )
        with contextlib.suppress(jobs.RetryLater):
            await webhooks.deliver(db, job.payload, reach)
    [listed] = (await admin(ENDPOINTS))["webhookEndpoints"]
    [delivery] = listed["deliveries"]
    assert delivery["messageId"] == sent["delivery"]["messageId"]
    assert delivery["state"] == "PENDING" and delivery["attempts"] == 1
    assert "loopback" in delivery["lastError"] and delivery["lastAttemptAt"]
    assert delivery["lastStatusCode"] is None and delivery["deliveredAt"] is None


async def test_bad_input_is_named(api, people):
    admin = await api.as_(people.admin)
    bad_type = (
        await admin(
            CREATE, {"input": {"url": "https://example.com/h", "eventTypes": ["incident.gone"]}}
        )
    )["createWebhookEndpoint"]
    assert bad_type["endpoint"] is None and bad_type["secret"] is None
    assert bad_type["userErrors"][0]["field"] == "eventTypes"
    bad_url = (await admin(CREATE, {"input": {"url": "ftp://example.com/h"}}))[
        "createWebhookEndpoint"
    ]
    assert [(e["field"], e["code"]) for e in bad_url["userErrors"]] == [("url", "INVALID")]
    nowhere = (await admin(TEST, {"id": "not-an-id"}))["sendTestWebhook"]
    assert nowhere["userErrors"] == [{"field": "endpointId", "code": "NOT_FOUND"}]


async def test_only_admins(api, people):
    admin = await api.as_(people.admin)
    made = (await admin(CREATE, {"input": {"url": "https://example.com/h"}}))[
        "createWebhookEndpoint"
    ]
    endpoint_id = made["endpoint"]["id"]
    for person in (people.member, people.responder, people.viewer):
        client = await api.as_(person)
        answer = (await client.post(ENDPOINTS)).json()
        assert answer["data"] is None
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        answer = (await client.post(ONE, {"id": endpoint_id})).json()
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        create = (await client(CREATE, {"input": {"url": "https://example.com/mine"}}))[
            "createWebhookEndpoint"
        ]
        assert create["secret"] is None and create["userErrors"][0]["code"] == "FORBIDDEN"
        for mutation, name in ((ROTATE, "rotateWebhookSecret"), (TEST, "sendTestWebhook")):
            payload = (await client(mutation, {"id": endpoint_id}))[name]
            assert payload["userErrors"][0]["code"] == "FORBIDDEN"
            assert payload.get("secret") is None
    assert len((await admin(ENDPOINTS))["webhookEndpoints"]) == 1
