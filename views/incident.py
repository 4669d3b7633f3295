"""The incident page, /incidents/INC-<n>, its forms and its live feed."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
