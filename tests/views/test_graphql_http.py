"""/graphql over HTTP: credentials, limits before execution, errors, and what is switched off."""

import json

import httpx2
import pytest

from app.services import declarations
from tests.schema.conftest import Api, app_for


@pytest.fixture
async def http(database_url):
    made = []

    async def make(**settings):
        app = app_for(database_url, **settings)
        made.append(app)
        client = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://muster.test"
        )
        return client

    yield make
    for app in made:
        await app.state.services.db.dispose()


@pytest.fixture
async def member(db, people, http):
    client = await http()
    api = Api(db, client)
    yield await api.as_(people.member)
    await client.aclose()


async def test_no_or_bad_credentials_get_401_and_nothing_else(http, db, people):
    client = await http()
    answers = []
    for headers in ({}, {"Authorization": "Bearer mst_wrong"}, {"Authorization": "Basic eDp5"},
                    {"Authorization": "Bearer"}):  # fmt: skip
        response = await client.post(
            "/graphql", json={"query": "{ viewer { email } }"}, headers=headers
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        answers.append(response.content)
    assert len(set(answers)) == 1
    assert json.loads(answers[0])["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await client.aclose()


async def test_get_for_queries_post_for_mutations(member):
    headers = {"Authorization": f"Bearer {member.secret}"}
    got = await member.http.get(
        "/graphql", params={"query": "{ viewer { email } }"}, headers=headers
    )
    assert got.status_code == 200
    assert got.json()["data"]["viewer"]["email"] == "mo@example.com"
    mutation = 'mutation { declareIncident(input: {name: "via GET"}) { incident { id } } }'
    refused = await member.http.get("/graphql", params={"query": mutation}, headers=headers)
    assert refused.status_code in (400, 405)
    assert (await member("{ incidents { totalCount } }"))["incidents"]["totalCount"] == 0


async def test_malformed_and_batched_bodies_are_refused(member):
    headers = {"Authorization": f"Bearer {member.secret}", "Content-Type": "application/json"}
    for body in (b"{not json", b"\xff\xfe\x00", b"[1, 2]",
                 json.dumps([{"query": "{ viewer { id } }"}] * 2).encode()):  # fmt: skip
        response = await member.http.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["message"]


async def test_bodies_over_100_kb_get_413(member, db):
    big = {"input": {"name": "x" * 1_000_000}}
    response = await member.post(
        "mutation($input: DeclareIncidentInput!) { declareIncident(input: $input) { incident { id } } }",
        big,
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_LARGE"
    assert (await member("{ incidents { totalCount } }"))["incidents"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("query", "operation", "message"),
    [
        ("{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(31)) + " }", None, "aliases"),
        (
            "fragment F on User { " + " ".join(f"a{i}: id" for i in range(15)) + " } "
            "{ x: viewer { ...F } y: viewer { ...F } }",
            None,
            "aliases",
        ),
        (
            "{ incidents { edges { node { timeline { edges { node { incident { timeline { edges {"
            " node { incident { timeline { edges { node { id } } } } } } } } } } } } } } }",
            None,
            "nested",
        ),
        ("query Q { " + " ".join(["viewer { id }"] * 700) + " }", "Q", "tokens"),
        ("query A { viewer { id } } query B { viewer { id } }", "B", "one operation"),
    ],
)
async def test_limits_are_checked_before_execution(member, query, operation, message):
    response = await member.post(query, operationName=operation)
    errors = response.json().get("errors") or []
    assert errors, response.text
    assert "data" not in response.json() or response.json()["data"] is None
    assert message in errors[0]["message"].lower()


async def test_introspection_and_graphiql_only_when_enabled(http, db, people):
    from app.services import tokens

    _, secret = await tokens.create_token(db, user=people.member, name="t")
    headers = {"Authorization": f"Bearer {secret}"}
    closed = await http()
    answer = await closed.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=headers
    )
    assert "introspection" in answer.json()["errors"][0]["message"].lower()
    page = await closed.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 401
    opened = await http(graphiql=True)
    answer = await opened.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=headers
    )
    assert "Incident" in [t["name"] for t in answer.json()["data"]["__schema"]["types"]]
    page = await opened.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_unexpected_errors_are_masked_with_a_request_id(member, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(declarations, "declare", broken)
    response = await member.post(
        'mutation { declareIncident(input: {name: "boom"}) { incident { id } } }'
    )
    error = response.json()["errors"][0]
    assert "hunter2" not in response.text
    assert error["message"].startswith("Internal error; reference ")
    reference = error["extensions"]["requestId"]
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "query",
    [
        "mutation { declareIncident(input: {name: 5}) { incident { id } } }",
        'mutation { declareIncident(input: {name: "x", mode: BOGUS}) { incident { id } } }',
        "mutation { declareIncident(input: {}) { incident { id } } }",
        'mutation { declareIncident(input: {name: "x", nextUpdateInMinutes: "soon"}) { incident { id } } }',
        'mutation { declareIncident(input: {name: "x", declaredAt: "yesterday"}) { incident { id } } }',
        "{ incidents(filter: {statusCategories: [OPEN]}) { totalCount } }",
        "{ incidents(first: -1) { totalCount } }",
        "{ incident(id: 12) { name nope } }",
    ],
)
async def test_bad_input_gets_a_clear_error_and_changes_nothing(member, query):
    response = await member.post(query)
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert errors[0]["message"]
    assert errors[0].get("extensions", {}).get("code") != "INTERNAL"
    assert (await member("{ incidents { totalCount } }"))["incidents"]["totalCount"] == 0


async def test_overlong_text_is_a_user_error(member):
    answer = await member(
        "mutation($input: DeclareIncidentInput!) { declareIncident(input: $input) {"
        " incident { id } userErrors { field code message } } }",
        {"input": {"name": "x" * 10_000}},
    )
    assert answer["declareIncident"]["userErrors"] == [
        {"field": "name", "code": "INVALID", "message": "Name is too long: at most 200 characters."}
    ]


async def test_a_mutation_over_get_is_405_naming_post(member):
    headers = {"Authorization": f"Bearer {member.secret}"}
    mutation = 'mutation { declareIncident(input: {name: "via GET"}) { incident { id } } }'
    refused = await member.http.get("/graphql", params={"query": mutation}, headers=headers)
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert "POST" in refused.json()["errors"][0]["message"]
    assert (await member("{ incidents { totalCount } }"))["incidents"]["totalCount"] == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_http_says_where_subscriptions_are(member, method):
    headers = {"Authorization": f"Bearer {member.secret}"}
    query = "subscription { incidentEvents { kind } }"
    if method == "GET":
        response = await member.http.get("/graphql", params={"query": query}, headers=headers)
    else:
        response = await member.http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 400
    assert "WebSocket" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("application/graphql-response+json", "application/graphql-response+json"),
        (
            "application/graphql-response+json, application/json;q=0.9",
            "application/graphql-response+json",
        ),
        ("application/json, application/graphql-response+json;q=0.5", "application/json"),
        ("text/plain", "application/json"),
    ],
)
async def test_answers_in_the_media_type_the_client_prefers(member, accept, expected):
    headers = {"Authorization": f"Bearer {member.secret}"}
    if accept is not None:
        headers["Accept"] = accept
    response = await member.http.post(
        "/graphql", json={"query": "{ viewer { email } }"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected
    assert response.json()["data"]["viewer"]["email"] == "mo@example.com"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ viewer { email", None),  # does not parse
        ("{ viewer { nope } }", None),  # does not validate
        ("query($n: Int!) { incidents(first: $n) { totalCount } }", {"n": "many"}),  # bad variable
    ],
)
async def test_request_errors_are_400_without_data_in_graphql_response_json(
    member, query, variables
):
    headers = {
        "Authorization": f"Bearer {member.secret}",
        "Accept": "application/graphql-response+json",
    }
    body = {"query": query, "variables": variables}
    strict = await member.http.post("/graphql", json=body, headers=headers)
    assert strict.status_code == 400
    assert "data" not in strict.json() and strict.json()["errors"][0]["message"]
    headers["Accept"] = "application/json"
    legacy = await member.http.post("/graphql", json=body, headers=headers)
    assert legacy.status_code == 200 and legacy.json()["data"] is None


async def test_a_field_error_keeps_status_200_and_data_in_graphql_response_json(member):
    headers = {
        "Authorization": f"Bearer {member.secret}",
        "Accept": "application/graphql-response+json",
    }
    body = {"query": "{ viewer { email } incidents(first: -1) { totalCount } }"}
    response = await member.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200  # execution started: a field failed, not the request
    assert "data" in response.json()
    assert response.json()["errors"][0]["path"] == ["incidents"]


async def test_deeply_nested_json_is_a_400(member):
    headers = {"Authorization": f"Bearer {member.secret}", "Content-Type": "application/json"}
    nested = '{"query": "{ viewer { id } }", "variables": {"a": ' + "[" * 20_000 + "]" * 20_000
    response = await member.http.post("/graphql", content=nested + "}}", headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_graphiqls_introspection_query_passes_the_limits_when_enabled(http, db, people):
    from graphql import get_introspection_query

    from app.services import tokens

    _, secret = await tokens.create_token(db, user=people.member, name="t")
    opened = await http(graphiql=True)
    answer = await opened.post(
        "/graphql",
        json={"query": get_introspection_query(descriptions=True)},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert "errors" not in answer.json(), answer.json()["errors"]
    assert answer.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_a_chain_of_fragments_spread_twice_each_is_measured_once(member):
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = "{ ...F0 } " + chain + " fragment F40 on Query { viewer { email } }"
    response = await member.post(query)  # 2^40 spreads if walked at each one: this would hang
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "TOO_COSTLY"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ incidents(frist: 1) { totalCount } }", None),  # an argument
        ("{ incidents(filter: {statusCategories: [TRIAG]}) { totalCount } }", None),  # enum value
        ("query($f: IncidentFiltr) { incidents(filter: $f) { totalCount } }", None),  # a type
        ("{ incidents { totalCont } }", None),  # a field
        (
            "query($f: IncidentFilter) { incidents(filter: $f) { totalCount } }",
            {"f": {"statusCategories": ["TRIAG"]}},
        ),  # an enum value in the variables
    ],
)
async def test_no_hints_about_the_schema_without_introspection(http, db, people, query, variables):
    from app.services import tokens

    _, secret = await tokens.create_token(db, user=people.member, name="t")
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"query": query, "variables": variables}
    closed, opened = await http(), await http(graphiql=True)
    hidden = (await closed.post("/graphql", json=body, headers=headers)).json()["errors"]
    shown = (await opened.post("/graphql", json=body, headers=headers)).json()["errors"]
    assert "Did you mean" in shown[0]["message"]  # the hint exists, for those allowed to look
    assert hidden[0]["message"] and not any("Did you mean" in e["message"] for e in hidden)
