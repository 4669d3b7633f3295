"""Settings from the environment, and the one-line errors for bad values."""

import pytest

from app.config import ConfigError, Settings

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
