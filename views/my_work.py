"""My work, /me: my roles, my open actions and follow-ups, the incidents I follow."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
