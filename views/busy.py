"""The answer when the database pool has no connection for a request in time: 503 with
``Retry-After``, never a 500.

A burst (every browser reconnecting its live feeds after a deploy) queues for the pool's
connections up to ``MUSTER_DATABASE_POOL_TIMEOUT`` seconds; requests still waiting then are shed
with this answer, and a browser's live feed retries (htmx's SSE extension backs off with jitter).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

RETRY_AFTER = 5  # seconds


async def pool_busy(request: Request, error: Exception) -> Response:
    return JSONResponse(
        {"error": "Muster is busy; try again in a few seconds.", "code": "UNAVAILABLE"},
        503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )
