"""Requests Muster sends to addresses people typed in (webhooks and chat), made safe to send.

``check_url`` takes only ``http``/``https`` URLs with a host and no credentials. ``send`` resolves
the host once, refuses it if any of its addresses is loopback, link-local, private, unique-local,
shared, multicast, unspecified or reserved (unless ``allow_private``, which the demo and tests
turn on with ``MUSTER_WEBHOOK_ALLOW_PRIVATE``), and then connects to the address it checked, not
to the name: the URL sent carries the address, with the ``Host`` header and the TLS server name
(``sni_hostname``, which the certificate is checked against) kept as the name, so a DNS answer
that changes between the check and the connection (rebinding) cannot reach an inside address.
HTTPS connections are not kept for reuse, so one name's checked certificate never carries another
name's request. Every request takes at most ``TIMEOUT`` seconds in all, follows no redirect and
reads at most ``BODY_LIMIT`` bytes of the answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

import httpx2

TIMEOUT = 10.0  # seconds for the whole request: resolving, connecting, sending and reading
BODY_LIMIT = 64 * 1024  # bytes of the answer read, at most
URL_LENGTH = 2000

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL or the address it leads to is not one Muster sends to; the message says why."""


class Failed(Exception):
    """The request could not be made or answered (no such host, refused, timed out...)."""


@dataclasses.dataclass(frozen=True)
class Answer:
    """What the receiver said: its status and the start of its body (``BODY_LIMIT`` at most)."""

    status_code: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


def check_url(url: str) -> SplitResult:
    """``url`` split, if Muster may send to it at all (its address is checked when sending)."""
    if len(url) > URL_LENGTH:
        raise Refused(f"The URL is too long: at most {URL_LENGTH:,} characters.")
    if not url.isascii() or any(char.isspace() or ord(char) < 32 for char in url):
        raise Refused("The URL may not contain spaces or non-ASCII characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port that is not a number from 0 to 65535)
    except ValueError:
        raise Refused("That is not a URL.") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("The URL must start with https:// or http://.")
    if not parts.hostname:
        raise Refused("The URL needs a host name.")
    if parts.username is not None or parts.password is not None:
        raise Refused("The URL may not contain a user name or password.")
    return parts


def refusal(address: Address) -> str | None:
    """Why Muster does not send to ``address`` by default, or None if it may."""
    inner: Address | None = None
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
    for candidate in (address, inner):
        if candidate is None:
            continue
        for test, what in (
            (candidate.is_loopback, "a loopback"),
            (candidate.is_link_local, "a link-local"),
            (candidate.is_multicast, "a multicast"),
            (candidate.is_unspecified, "an unspecified"),
            (candidate.is_reserved, "a reserved"),
            (candidate.is_private, "a private"),
            (not candidate.is_global, "a non-public"),
        ):
            if test:
                return f"{what} address ({candidate})"
    return None


async def resolve(host: str, port: int, *, allow_private: bool) -> Address:
    """The address to connect to for ``host``: the first it resolves to, once every one of them
    is allowed."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError) as error:
        raise Failed(f"Could not find the host {host}: {error}") from None
    addresses: list[Address] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Failed(f"Could not find the host {host}.")
    if not allow_private:
        for address in addresses:
            why = refusal(address)
            if why is not None:
                raise Refused(f"{host} leads to {why}, which webhooks may not reach.")
    return addresses[0]


async def send(
    client: httpx2.AsyncClient,
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    allow_private: bool = False,
) -> Answer:
    """POST ``content`` to ``url`` at the address checked for it; ``Refused`` or ``Failed``
    when it cannot be sent or answered."""
    parts = check_url(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(TIMEOUT):
            address = await resolve(host, port, allow_private=allow_private)
            return await _post(client, parts, address, port, content, headers)
    except TimeoutError:
        raise Failed(f"No answer within {TIMEOUT:g} seconds.") from None


async def _post(
    client: httpx2.AsyncClient,
    parts: SplitResult,
    address: Address,
    port: int,
    content: bytes,
    headers: Mapping[str, str],
) -> Answer:
    host = parts.hostname or ""
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = shown if parts.port is None else f"{shown}:{port}"
    target = parts._replace(netloc=netloc, fragment="").geturl()
    named = f"[{host}]" if ":" in host else host
    sent = {
        **headers,
        "Host": named if parts.port is None else f"{named}:{port}",
        "Accept-Encoding": "identity",
    }
    extensions: dict[str, object] = {}
    if parts.scheme == "https":
        extensions["sni_hostname"] = host
        sent["Connection"] = "close"
    request = client.build_request(
        "POST", target, content=content, headers=sent, extensions=extensions, timeout=TIMEOUT
    )
    try:
        response = await client.send(request, stream=True, follow_redirects=False)
    except httpx2.HTTPError as error:
        raise Failed(_said(error)) from None
    try:
        body = bytearray()
        async for chunk in response.aiter_raw():
            body.extend(chunk)
            if len(body) >= BODY_LIMIT:
                break
        return Answer(response.status_code, bytes(body[:BODY_LIMIT]))
    except httpx2.HTTPError as error:
        raise Failed(_said(error)) from None
    finally:
        await response.aclose()


def _said(error: httpx2.HTTPError) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}" if text != type(error).__name__ else text
