"""The services the web layer works with, typed, in one object: ``Services``.

The app factory (``views.app.create_app``) builds them once and keeps them on the app
(``app.state.services``); a handler, middleware or template helper gets them with
``services(request)`` instead of reading untyped attributes off ``app.state``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from app.config import Settings
from app.db import Database
from app.events import EventHub
from app.identity import Authenticator
from app.oidc import Provider
from app.worker import Worker
from schema.limits import MusterSchema
from views.status_cache import StatusPages

if TYPE_CHECKING:  # (it reads the services itself)
    from views.page_cache import SharedPages


@dataclasses.dataclass(frozen=True)
class Services:
    """Everything one app runs on, made once at start-up."""

    settings: Settings
    db: Database
    authenticator: Authenticator
    hub: EventHub
    provider: Provider | None  # the identity provider, when sign-in is configured
    schema: MusterSchema
    operations: Mapping[str, str]  # the web layer's GraphQL operations by name (views.operations)
    pages: SharedPages  # signed-in pages' shared parts, drawn once per sight and change
    worker: Worker | None = None  # the background worker, unless MUSTER_RUN_JOBS=0
    # the public status pages, drawn once per change
    status_pages: StatusPages = dataclasses.field(default_factory=StatusPages)


def services(connection: HTTPConnection) -> Services:
    """The services of the app serving ``connection``."""
    found = connection.app.state.services
    assert isinstance(found, Services), "create_app sets app.state.services"
    return found
