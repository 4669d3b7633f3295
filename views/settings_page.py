"""Settings, /settings: the catalog for admins, API tokens for everyone."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
