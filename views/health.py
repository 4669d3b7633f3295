"""Health endpoints for load balancers and orchestrators.

``/healthz`` answers as long as the process serves requests; ``/readyz`` also asks the database
and answers 503 within a couple of seconds when it does not reply, so traffic moves elsewhere.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from views.services import services

READY_TIMEOUT = 2.0
log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    db = services(request).db
    try:
        await asyncio.wait_for(db.ping(), READY_TIMEOUT)
    except Exception as error:  # whatever went wrong, the database did not answer
        log.warning("readiness check failed: %s", error)
        return JSONResponse({"status": "unavailable", "database": "not answering"}, 503)
    return JSONResponse({"status": "ready"})
