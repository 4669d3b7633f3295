"""How Muster's log lines look, and the request id each line logged while serving carries.

``config(format, level)`` is the ``logging.config.dictConfig`` for a server process (``muster
serve`` hands it to uvicorn, so its workers and uvicorn's own loggers get it too): ``plain`` lines
for a terminal (``2026-12-06 13:40:00,123 INFO muster.auth [1f2e…] message``) or ``json``, one
object per line with ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
``request_id`` and, for an exception, ``exception``. ``REQUEST_ID`` holds the id of the request
being served (set by the web layer for each request); ``request_id()`` is that id, or a new one
outside any request, and it is the id masked errors show to the client, so the client's
``requestId`` finds the server's lines.
"""

from __future__ import annotations

import json
import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

FORMATS = ("plain", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
REQUEST_ID: ContextVar[str | None] = ContextVar("muster_request_id", default=None)
PLAIN = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def request_id() -> str:
    """The id of the request being served, or a new one."""
    return REQUEST_ID.get() or new_request_id()


class RequestIdFilter(logging.Filter):
    """Puts the request being served (or ``-``) on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def config(format: str = "plain", level: str = "INFO") -> dict[str, Any]:
    """The logging configuration for a server process."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if format == "json" else {"format": PLAIN}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "muster",
        "filters": ["request_id"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"muster": formatter},
        "handlers": {"muster": handler},
        "root": {"handlers": ["muster"], "level": level},
        "loggers": {  # uvicorn's loggers go through the same handler, not their own
            name: {"handlers": [], "level": level, "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
