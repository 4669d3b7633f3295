"""Keep-alive HTTP clients on raw asyncio sockets, for the request-rate benchmarks.

``load`` opens one connection per request given (each connection sends its own request: its own
path, its own cookie), and each sends its request again as soon as the answer is complete
(Content-Length or the chunked terminator), for ``seconds``; it returns the rate of answers and
their p50/p99 latency, and fails unless every answer had the status expected. ``request`` builds
a GET. The clients are this process's: the benchmarks pin it to CPU 1, the server to CPU 0.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence


def request(port: int, path: str, *, gzip: bool = False, cookie: str | None = None) -> bytes:
    """A keep-alive ``GET path`` as a browser sends it (with ``cookie``, gzip if asked)."""
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bench\r\n"
    if gzip:
        head += "Accept-Encoding: gzip, deflate, br\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    return (head + "Accept: text/html\r\n\r\n").encode()


class Client(asyncio.Protocol):
    """One keep-alive connection sending ``request`` again as soon as each answer is complete,
    recording each answer's latency and status."""

    def __init__(self, request: bytes, latencies: list[float], until: float) -> None:
        self.request = request
        self.latencies = latencies
        self.until = until
        self.buffer = b""
        self.sent = 0.0
        self.statuses: dict[bytes, int] = {}
        self.done = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        self.sent = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        body = len(self.buffer) - end - 4
        if b"content-length:" in head:
            length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            if body < length:
                return
        elif not self.buffer.endswith(b"\r\n0\r\n\r\n"):
            return
        now = time.perf_counter()
        status = head[9:12]
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(now - self.sent)
        self.buffer = b""
        if now < self.until:
            self.send()
        elif not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def load(
    port: int, requests: Sequence[bytes], seconds: float, *, expect: bytes = b"200"
) -> dict[str, float]:
    """One connection per request in ``requests``, each sending it back to back for
    ``seconds``: answers per second, and their p50 and p99 latency in milliseconds."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    start = time.perf_counter()
    until = start + seconds
    made = [
        await loop.create_connection(lambda r=r: Client(r, latencies, until), "127.0.0.1", port)
        for r in requests
    ]
    await asyncio.gather(*(protocol.done for _, protocol in made))
    elapsed = time.perf_counter() - start
    statuses: dict[bytes, int] = {}
    for transport, protocol in made:
        transport.close()
        for status, count in protocol.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    assert set(statuses) == {expect}, statuses  # every answer as expected: none refused, failed
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
    }
