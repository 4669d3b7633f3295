"""Requests a minute per client address, for the pages anyone may open without signing in (the
public status page, its JSON, feed, live streams and subscription forms): ``PerAddress`` is the
ASGI middleware that answers 429 with ``Retry-After`` beyond ``MUSTER_STATUS_REQUESTS_PER_MINUTE``
(a sliding window, the ``limits`` library, in process memory: each process counts its own). The
address is the one uvicorn gives the request, which behind a proxy is the forwarded client's when
the proxy is trusted (uvicorn's ``--forwarded-allow-ips`` / ``FORWARDED_ALLOW_IPS``); an IPv6
client is counted by its /64, since one host commonly holds a whole /64. The default is generous:
an office behind one address reloading the page together stays under it, while a client hammering
uncached URLs (made-up ids, cursors) is stopped. Asking for email updates has a tight limit of its
own (``views.status_subscriptions.ASKS_PER_MINUTE``): each ask may send a confirmation mail.
"""

from __future__ import annotations

import ipaddress
import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send


def client_key(host: str | None) -> str:
    """Whom a request is counted against: its IPv4 address, or its IPv6 address's /64."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a unix socket or a test client: counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


class PerAddress:
    """ASGI middleware: at most ``per_minute`` requests a minute from one client to the paths
    ``prefix`` and under it (``skip`` aside), of the HTTP ``methods`` given (all, by default);
    429 with ``Retry-After`` beyond."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        skip: tuple[str, ...] = (),
        per_minute: int,
        methods: frozenset[str] | None = None,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.skip = skip
        self.methods = methods
        self.limit = RateLimitItemPerMinute(per_minute)
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def _counted(self, path: str) -> bool:
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            return False
        return not any(path == s or path.startswith(s + "/") for s in self.skip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self._counted(scope["path"])
            or (self.methods is not None and scope["method"] not in self.methods)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client_key(client[0] if client else None)
        if self.limiter.hit(self.limit, key):
            await self.app(scope, receive, send)
            return
        reset = self.limiter.get_window_stats(self.limit, key).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        refused = PlainTextResponse(
            f"Too many requests from your address: try again in {wait} s.",
            429,
            headers={"Retry-After": str(wait)},
        )
        await refused(scope, receive, send)
