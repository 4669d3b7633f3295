"""Settings from the environment, and the one-line errors for bad values."""

import os

import pytest

from app.config import ConfigError, Settings, database_url_from_env

SECRET = {"MUSTER_SECRET_KEY": "s" * 32}


def test_defaults():
    settings = Settings.from_env(SECRET)
    assert settings.database_url == "sqlite+aiosqlite:///./muster.db"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert not settings.demo


def test_database_urls_get_their_async_driver():
    for given, expected in [
        ("postgresql://u@db/muster", "postgresql+asyncpg://u@db/muster"),
        ("postgres://u@db/muster", "postgresql+asyncpg://u@db/muster"),
        ("sqlite:///data/muster.db", "sqlite+aiosqlite:///data/muster.db"),
    ]:
        settings = Settings.from_env({**SECRET, "MUSTER_DATABASE_URL": given})
        assert settings.database_url == expected


def test_demo_needs_no_secret():
    assert Settings.from_env({"MUSTER_DEMO": "1"}).demo


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, "MUSTER_SECRET_KEY"),
        ({"MUSTER_SECRET_KEY": "short"}, "MUSTER_SECRET_KEY"),
        ({**SECRET, "MUSTER_DATABASE_URL": "mysql://x/y"}, "MUSTER_DATABASE_URL"),
        ({**SECRET, "MUSTER_DATABASE_URL": "muster.db"}, "MUSTER_DATABASE_URL"),
        ({**SECRET, "MUSTER_BASE_URL": "muster.example.com"}, "MUSTER_BASE_URL"),
        ({**SECRET, "MUSTER_DEMO": "maybe"}, "MUSTER_DEMO"),
    ],
)
def test_bad_settings_name_the_variable_on_one_line(environ, names):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(environ)
    assert names in str(error.value)
    assert "\n" not in str(error.value)


def test_the_process_environment_is_read_when_no_mapping_is_given(monkeypatch):
    monkeypatch.setenv("MUSTER_SECRET_KEY", "e" * 32)
    monkeypatch.setenv("MUSTER_DATABASE_URL", "postgresql://u@db/from-the-environment")
    assert Settings.from_env().database_url == "postgresql+asyncpg://u@db/from-the-environment"
    assert database_url_from_env() == "postgresql+asyncpg://u@db/from-the-environment"


def test_the_database_alone_needs_no_other_setting():
    assert database_url_from_env({}) == "sqlite+aiosqlite:///./muster.db"
    # No secret and a bad MUSTER_DEMO: neither matters to the commands that only migrate or seed.
    environ = {"MUSTER_DATABASE_URL": "postgres://u@db/muster", "MUSTER_DEMO": "maybe"}
    assert database_url_from_env(environ) == "postgresql+asyncpg://u@db/muster"
    with pytest.raises(ConfigError, match="MUSTER_DATABASE_URL is not a database URL"):
        database_url_from_env({"MUSTER_DATABASE_URL": "muster.db"})


def test_demo_settings_turn_on_the_demo_its_sign_in_and_its_database():
    environ = {"MUSTER_DATABASE_URL": "postgresql://u@db/production", "MUSTER_DEV_LOGIN": "0"}
    settings = Settings.for_demo(
        database_url="sqlite:///./muster-demo.db", base_url="http://127.0.0.1:8123", environ=environ
    )
    assert settings.demo and settings.dev_login and settings.graphiql
    assert settings.database_url == "sqlite+aiosqlite:///./muster-demo.db"
    assert settings.base_url == "http://127.0.0.1:8123"
    assert environ == {
        "MUSTER_DATABASE_URL": "postgresql://u@db/production",
        "MUSTER_DEV_LOGIN": "0",
    }


def test_demo_settings_keep_the_rest_of_the_environment():
    environ = {
        "MUSTER_BASE_URL": "http://localhost:9000",
        "MUSTER_GRAPHIQL": "0",
        "MUSTER_LOG_FORMAT": "json",
    }
    settings = Settings.for_demo(
        database_url="sqlite:///./muster-demo.db", base_url="http://127.0.0.1:8000", environ=environ
    )
    assert settings.base_url == "http://localhost:9000"
    assert not settings.graphiql
    assert settings.log_format == "json"
    with pytest.raises(
        ConfigError, match="MUSTER_DEV_LOGIN"
    ):  # the demo signs in without passwords
        Settings.for_demo(
            database_url="sqlite:///./muster-demo.db",
            base_url="http://127.0.0.1:8000",
            environ={"MUSTER_BASE_URL": "https://muster.example.com"},
        )


def test_demo_settings_leave_the_process_environment_alone(monkeypatch):
    for name in ("MUSTER_DEMO", "MUSTER_DEV_LOGIN", "MUSTER_DATABASE_URL", "MUSTER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    settings = Settings.for_demo(
        database_url="sqlite:///./muster-demo.db", base_url="http://127.0.0.1:8000"
    )
    assert settings.demo and settings.dev_login
    assert dict(os.environ) == before
