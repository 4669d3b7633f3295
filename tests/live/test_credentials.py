"""Live feeds end when their credentials do: a browser session that signs out (its SSE stream
and its WebSocket subscription) and a revoked API token stop receiving within 5 seconds, and a
provider's access token ends with the same leeway past ``exp`` as requests take it, on a real
server."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import httpx2
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import update

from app.models import User
from app.services import declarations, tokens
from tests.live.conftest import EVENTS, sse_messages, subscriber, until

LIMIT = 5.0  # seconds, QUALITY-BARS security bar 2
LEEWAY = 30  # seconds past exp a provider token is taken, as README's security section says


@contextlib.asynccontextmanager
async def signed_in_browser(server, email):
    """An httpx client holding a session cookie from the dev sign-in, and its CSRF token."""
    async with httpx2.AsyncClient(base_url=server.url, timeout=20) as http:
        page = await http.get("/auth/sign-in")
        answer = await http.post(
            "/auth/dev",
            data={"csrf_token": _csrf(page), "email": email},
            headers={"Origin": server.url},
        )
        assert answer.status_code == 303, answer.text
        yield http, _csrf(await http.get("/"))


async def sign_out(http, csrf, server):
    answer = await http.post(
        "/auth/logout", data={"csrf_token": csrf}, headers={"Origin": server.url}
    )
    assert answer.status_code == 303


async def test_a_signed_out_sessions_sse_stream_closes_within_5s(in_process, db, people):
    server = in_process(MUSTER_DEV_LOGIN="1")
    lines: list[str] = []
    async with (
        signed_in_browser(server, people.member.email) as (http, csrf),
        signed_in_browser(server, people.member.email) as (other, other_csrf),  # elsewhere
        http.stream("GET", "/live/events") as response,
        other.stream("GET", "/live/events") as elsewhere,
    ):
        assert response.status_code == elsewhere.status_code == 200
        await server.feeds_started(2)
        await declarations.declare(db, actor=people.member, name="Before")

        async def read():
            async for line in response.aiter_lines():
                lines.append(line)

        reading = asyncio.create_task(read())
        await until(lambda: any("Before" in line for line in lines))
        await sign_out(other, other_csrf, server)  # the same person, in another browser
        # That browser's stream ends at the next check of the feeds' credentials, which found
        # this one's still holding: it still streams what happens next.
        ended = await sse_messages(elsewhere.aiter_lines(), 2, LIMIT)
        assert "Before" in ended[0]["data"] and ended[-1]["event"] == "error"
        assert "Your session has ended" in ended[-1]["data"]
        await declarations.declare(db, actor=people.member, name="After")
        await until(lambda: any("After" in line for line in lines))
        assert not reading.done()
        signed_out = time.monotonic()
        await sign_out(http, csrf, server)
        await asyncio.wait_for(reading, LIMIT)
        closed = time.monotonic() - signed_out
    assert closed < LIMIT
    assert any("Your session has ended" in line for line in lines)


async def test_a_signed_out_sessions_subscription_ends_within_5s(in_process, db, people):
    server = in_process(MUSTER_DEV_LOGIN="1")
    async with signed_in_browser(server, people.member.email) as (http, csrf):
        cookie = f"muster_session={http.cookies['muster_session']}"
        transport = WebsocketsTransport(
            url=server.ws_url,
            init_payload={},  # no token: the handshake's session cookie says who it is
            headers={"Cookie": cookie, "Origin": server.url},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        client = Client(transport=transport, fetch_schema_from_transport=False)
        async with client as session:
            received = []

            async def run():
                async for result in session.subscribe(GraphQLRequest(EVENTS)):
                    received.append(result)

            running = asyncio.create_task(run())
            await server.feeds_started()
            await declarations.declare(db, actor=people.member, name="Seen over the cookie")
            await until(lambda: len(received) == 1)
            signed_out = time.monotonic()
            await sign_out(http, csrf, server)
            with pytest.raises(TransportQueryError, match="Your session has ended"):
                await asyncio.wait_for(running, LIMIT)
            assert time.monotonic() - signed_out < LIMIT


async def test_a_revoked_tokens_subscription_ends_within_5s(in_process, db, people):
    server = in_process()
    token, secret = await tokens.create_token(db, user=people.viewer, name="wall screen")
    async with subscriber(server, secret) as session:

        async def run():
            async for _ in session.subscribe(GraphQLRequest(EVENTS)):
                pass

        running = asyncio.create_task(run())
        await server.feeds_started()
        revoked = time.monotonic()
        await tokens.revoke_token(db, actor=people.viewer, token_id=token.id)
        with pytest.raises(TransportQueryError, match="ended"):
            await asyncio.wait_for(running, LIMIT)
        assert time.monotonic() - revoked < LIMIT


async def test_an_access_tokens_feed_ends_when_requests_stop_taking_it(
    in_process, db, people, identity_provider
):
    idp = identity_provider
    env = {k: v for k, v in idp.muster_env("").items() if k != "MUSTER_BASE_URL"}
    server = in_process(**env)
    async with db.write() as session:  # someone who has signed in at the provider before
        await session.execute(
            update(User).where(User.id == people.member.id).values(oidc_subject="mo")
        )
    now = int(time.time())
    # Expired LEEWAY - 6 seconds ago: still taken for 6 seconds, by requests and feeds alike.
    exp = now - LEEWAY + 6
    token = idp.sign({"iss": idp.issuer, "aud": idp.resource, "sub": "mo", "iat": now - 600,
                      "exp": exp})  # fmt: skip

    async def over_http() -> int:
        async with httpx2.AsyncClient(base_url=server.url) as http:
            answer = await http.post(
                "/graphql",
                json={"query": "{ viewer { email } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        return answer.status_code

    assert await over_http() == 200
    received = []
    async with subscriber(server, token) as session:

        async def run():
            async for result in session.subscribe(GraphQLRequest(EVENTS)):
                received.append(result)

        running = asyncio.create_task(run())
        await server.feeds_started()
        await declarations.declare(db, actor=people.member, name="Seen with the access token")
        with pytest.raises(TransportQueryError, match="ended"):
            await asyncio.wait_for(running, exp + LEEWAY - time.time() + LIMIT)
        ended = time.time()
    assert [r["incidentEvents"]["incident"]["name"] for r in received] == [
        "Seen with the access token"
    ]  # the feed ran past exp, within the leeway
    assert exp + LEEWAY <= ended < exp + LEEWAY + LIMIT
    assert await over_http() == 401  # and requests stop taking the token as the feed ends


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
