"""An HTTP client for /graphql, authenticated with real API tokens for each person in the cast."""

from __future__ import annotations

import dataclasses

import httpx2
import pytest

from app.config import Settings
from app.models import TokenScope, User
from app.services import tokens
from views.app import create_app


@dataclasses.dataclass
class Client:
    http: httpx2.AsyncClient
    secret: str | None

    async def post(self, query, variables=None, **extra):
        headers = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        body = {"query": query, "variables": variables or {}, **extra}
        return await self.http.post("/graphql", json=body, headers=headers)

    async def __call__(self, query, variables=None):
        """Run an operation that must succeed; returns its data."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert "errors" not in payload, payload["errors"]
        return payload["data"]


@dataclasses.dataclass
class Api:
    db: object
    http: httpx2.AsyncClient

    async def as_(self, user: User, scope: TokenScope = TokenScope.READ_WRITE) -> Client:
        _, secret = await tokens.create_token(self.db, user=user, name="test", scope=scope)
        return Client(self.http, secret)

    def anonymous(self, secret: str | None = None) -> Client:
        return Client(self.http, secret)


def app_for(database_url: str, **settings):
    return create_app(Settings(database_url=database_url, secret_key="k" * 32, **settings))


@pytest.fixture
async def api(db, database_url):
    app = app_for(database_url)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://muster.test") as http:
        yield Api(db, http)
    await app.state.services.db.dispose()
