"""Request bodies against a real uvicorn: refused before they are read, cut off past the limit,
and read only for someone signed in; ordinary forms still work."""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import urlsplit

import pytest

from app.models import TokenScope
from app.services import declarations, tokens
from tests.live.conftest import free_port, serving
from tests.pages.conftest import csrf_of, database_url, dev_app, signed_in  # noqa: F401

BIG = 10 * 1024 * 1024
# More than loopback's socket buffers can take while the server has stopped reading (Linux grows
# a receive buffer up to tcp_rmem's 32 MB): a sender cut off stops short of it however slowly the
# server answers; a server reading it all takes every byte.
HUGE = 64 * 1024 * 1024
CHUNK = 16 * 1024


@pytest.fixture
def served(db, database_url):  # noqa: F811
    port = free_port()
    with serving(dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}"), port) as url:
        yield url


async def head_of(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and (Content-Length) body of an HTTP/1.1 response."""
    status_line = await reader.readline()
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def exchange(url, path, headers, chunks=None):
    """Send a POST's head (and, if given, its chunked body while no answer has come); the
    answer's status, headers and body (None for all three if the server reset the connection
    first), and how many body bytes were sent before it came."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    head = [f"POST {path} HTTP/1.1", f"Host: {where.netloc}", f"Origin: {url}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    answer = asyncio.ensure_future(asyncio.wait_for(head_of(reader), 20))
    sent = 0
    with contextlib.suppress(ConnectionError):
        if chunks is not None:
            for chunk in chunks:
                if answer.done():
                    break
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                await writer.drain()
                sent += len(chunk)
                await asyncio.sleep(0)  # let the answer be read as soon as it comes
            else:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
    try:
        status, response_headers, body = await answer
    except ConnectionError:
        status = response_headers = body = None
    finally:
        writer.close()
    return status, response_headers, body, sent


def form_chunks(total: int):
    yield b"name="
    for _ in range(total // CHUNK):
        yield b"x" * CHUNK


FORM = "application/x-www-form-urlencoded"


async def test_an_anonymous_10_mb_form_is_refused_before_it_is_sent(served):
    # A forged session cookie used to make the CSRF guard read up to 1 MB before anyone looked
    # at who was signed in. Only the head is sent: an answer proves nothing was waited for.
    forged = {"Cookie": "muster_session=forged", "Content-Type": FORM}
    status, headers, _, _ = await exchange(
        served, "/settings/tokens", {**forged, "Content-Length": str(BIG)}
    )
    assert status == 413
    assert headers["connection"] == "close"
    # Under the limit, but nobody is signed in: the sign-in redirect, body unread.
    status, headers, _, _ = await exchange(
        served, "/settings/tokens", {**forged, "Content-Length": str(60 * 1024)}
    )
    assert status == 303
    assert headers["location"].startswith("/auth/sign-in")
    # A handler that read its form before checking who was signed in.
    status, headers, _, _ = await exchange(
        served, "/incidents/INC-1/roles", {"Content-Type": FORM, "Content-Length": "60000"}
    )
    assert status == 303
    assert headers["location"].startswith("/auth/sign-in")
    # Chunked, no length: answered before the first chunk is sent.
    status, _, _, _ = await exchange(
        served, "/settings/tokens", {**forged, "Transfer-Encoding": "chunked"}
    )
    assert status == 303
    # Bad bearer credentials on a page form: 401, body unread.
    status, _, _, _ = await exchange(
        served, "/settings/tokens",
        {"Authorization": "Bearer mst_wrong", "Content-Type": FORM, "Content-Length": "60000"},
    )  # fmt: skip
    assert status == 401


async def test_signed_in_oversized_forms_get_413(served, people, db):
    async with signed_in(served, people.member) as http:
        csrf = csrf_of((await http.get("/settings")).text)
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        browser = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": FORM}
        # A chunked body past the limit gets 413 (the CSRF guard used to read up to 1 MB, and
        # with the X-CSRF-Token header the handler read it all).
        status, headers, body, _ = await exchange(
            served, "/settings/tokens", {**browser, "Transfer-Encoding": "chunked"},
            form_chunks(300 * 1024),
        )  # fmt: skip
        assert status == 413, body
        assert headers["connection"] == "close"
        # A chunked 64 MB is cut off as it streams, before its end.
        status, _, _, sent = await exchange(
            served, "/settings/tokens", {**browser, "Transfer-Encoding": "chunked"},
            form_chunks(HUGE),
        )  # fmt: skip
        assert status in (413, None)  # the answer, or the reset that cut the sender off
        assert sent < HUGE - CHUNK
        # 100 KB with a length: 413 at once (the CSRF guard used to read up to 1 MB).
        answer = await http.post(
            "/settings/tokens",
            data={"csrf_token": csrf, "name": "x" * 100_000, "scope": "READ"},
            headers={"Origin": served},
        )
        assert answer.status_code == 413
        # The pages upload no files.
        answer = await http.post(
            "/settings/tokens",
            data={"csrf_token": csrf, "name": "n", "scope": "READ"},
            files={"f": ("a.txt", b"a")},
            headers={"Origin": served, "X-CSRF-Token": csrf},
        )
        assert answer.status_code == 415
        # Ordinary forms work: a token is made, a note is added.
        answer = await http.post(
            "/settings/tokens",
            data={"csrf_token": csrf, "name": "ci", "scope": "READ"},
            headers={"Origin": served},
        )
        assert answer.status_code == 200
        assert 'id="new-token-secret"' in answer.text
        await declarations.declare(db, actor=people.member, name="Disk full")
        answer = await http.post(
            "/incidents/INC-1/notes",
            data={"csrf_token": csrf, "message": "Looking"},
            headers={"Origin": served},
        )
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/incidents/INC-1")


async def test_graphql_answers_its_limit_as_a_graphql_error(served, people, db):
    _, secret = await tokens.create_token(db, user=people.member, name="t", scope=TokenScope.READ)
    query = json.dumps({"query": "{ viewer { email } }", "pad": "x" * 200_000}).encode()
    status, _, body, _ = await exchange(
        served, "/graphql",
        {"Authorization": f"Bearer {secret}", "Content-Type": "application/json",
         "Transfer-Encoding": "chunked"},
        (query[i : i + CHUNK] for i in range(0, len(query), CHUNK)),
    )  # fmt: skip
    assert status == 413
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "TOO_LARGE"
