"""Health and readiness endpoints, through the app factory."""

from starlette.testclient import TestClient

from app.config import Settings
from views.app import create_app


def client_for(database_url):
    settings = Settings(database_url=database_url, secret_key="k" * 32)
    return TestClient(create_app(settings))


def test_healthz_and_readyz_answer_when_the_database_does(database_url):
    with client_for(database_url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready"}


def test_readyz_is_503_when_the_database_does_not_answer():
    with client_for("postgresql+asyncpg://nobody@127.0.0.1:1/none") as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
