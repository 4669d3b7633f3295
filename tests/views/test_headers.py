"""Security headers on every response of a real uvicorn: pages, the API, static files, health,
errors and redirects; HSTS only over https."""

from __future__ import annotations

import httpx2
import pytest
from starlette.routing import Route

from tests.live.conftest import free_port, serving
from tests.pages.conftest import database_url, dev_app, signed_in  # noqa: F401


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} given twice"
        parsed[name] = values
    return parsed


def assert_secure(response: httpx2.Response) -> None:
    headers = response.headers
    csp = directives(headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["form-action"][0] == "'self'"
    assert not any("unsafe" in value for values in csp.values() for value in values)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


async def boom(request):
    raise RuntimeError("a bug")


@pytest.fixture
def app(db, database_url):  # noqa: F811
    port = free_port()
    made = dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}")
    made.router.routes.append(Route("/boom", boom))  # an unexpected error, as a bug would raise
    return made, port


async def test_every_kind_of_response_carries_the_headers(app, people):
    made, port = app
    with serving(made, port) as url:
        async with httpx2.AsyncClient(base_url=url) as anonymous:
            answers = {
                "redirect": await anonymous.get("/"),
                "sign-in page": await anonymous.get("/auth/sign-in"),
                "static": await anonymous.get("/static/muster.css"),
                "health": await anonymous.get("/healthz"),
                "api 401": await anonymous.get("/graphql", params={"query": "{ viewer { id } }"}),
                "not found": await anonymous.get("/static/nothing.css"),
                "csrf refusal": await anonymous.post(
                    "/auth/dev", data={"email": "x"}, headers={"Origin": "https://evil.test"}
                ),
                "server error": await anonymous.get("/boom"),
            }
        async with signed_in(url, people.member) as http:
            answers["page"] = await http.get("/")
            answers["api"] = await http.get("/graphql", params={"query": "{ viewer { id } }"})
            answers["page 404"] = await http.get("/incidents/INC-99")
            async with http.stream("GET", "/live/dashboard") as stream:  # a live stream's head
                answers["live"] = stream
                assert stream.headers["content-type"].startswith("text/event-stream")
    statuses = {kind: answer.status_code for kind, answer in answers.items()}
    assert statuses == {
        "redirect": 303, "sign-in page": 200, "static": 200, "health": 200, "api 401": 401,
        "not found": 404, "csrf refusal": 403, "server error": 500, "page": 200, "api": 200,
        "page 404": 404, "live": 200,
    }  # fmt: skip
    for kind, answer in answers.items():
        assert_secure(answer), kind
        assert "strict-transport-security" not in answer.headers, kind


async def test_hsts_over_https(db, database_url):  # noqa: F811
    port = free_port()
    made = dev_app(database_url, MUSTER_BASE_URL="https://muster.example.com", MUSTER_DEV_LOGIN="")
    with serving(made, port) as url:
        async with httpx2.AsyncClient(base_url=url) as http:
            for path in ("/healthz", "/auth/sign-in", "/static/muster.css", "/"):
                answer = await http.get(path)
                assert_secure(answer)
                assert answer.headers["strict-transport-security"] == "max-age=31536000"


async def test_sign_out_may_go_on_to_the_provider(db, database_url):  # noqa: F811
    made = dev_app(
        database_url, MUSTER_OIDC_ISSUER="https://login.example.com/tenant/",
        MUSTER_OIDC_CLIENT_ID="muster", MUSTER_OIDC_CLIENT_SECRET="s",
    )  # fmt: skip
    port = free_port()
    with serving(made, port) as url:
        async with httpx2.AsyncClient(base_url=url) as http:
            answer = await http.get("/healthz")
    csp = directives(answer.headers["content-security-policy"])
    assert csp["form-action"] == ["'self'", "https://login.example.com"]
