"""Settings read once, at start-up, from ``MUSTER_*`` environment variables.

``Settings.from_env`` is the only place that reads the environment; it turns every bad value into
a ``ConfigError`` whose message is one line naming the variable and what was wrong, so that an
operator sees the mistake rather than a traceback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./muster.db"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is meant for the operator, on one line."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything configurable about one Muster process."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    base_url: str = DEFAULT_BASE_URL
    demo: bool = False
    graphiql: bool = False
    allowed_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        demo = _flag(environ, "MUSTER_DEMO")
        secret_key = environ.get("MUSTER_SECRET_KEY", "")
        if not secret_key and not demo:
            raise ConfigError(
                "MUSTER_SECRET_KEY is required: set it to a long random string "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if secret_key and len(secret_key) < 16:
            raise ConfigError("MUSTER_SECRET_KEY is too short: use at least 16 characters")
        base_url = _base_url(environ.get("MUSTER_BASE_URL", DEFAULT_BASE_URL))
        return cls(
            database_url=database_url(environ.get("MUSTER_DATABASE_URL", DEFAULT_DATABASE_URL)),
            secret_key=secret_key or "demo-only-secret-key-not-for-production",
            base_url=base_url,
            allowed_origins=_origins(environ.get("MUSTER_ALLOWED_ORIGINS"), base_url),
            demo=demo,
            graphiql=_flag(environ, "MUSTER_GRAPHIQL") if "MUSTER_GRAPHIQL" in environ else demo,
        )


def database_url(value: str) -> str:
    """Check a database URL and name its async driver (``postgresql://`` → ``+asyncpg``)."""
    scheme, sep, rest = value.strip().partition("://")
    if not sep or not rest:
        raise ConfigError(
            f"MUSTER_DATABASE_URL is not a database URL: {value!r} "
            "(expected sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db)"
        )
    drivers = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }
    if scheme not in drivers:
        raise ConfigError(
            f"MUSTER_DATABASE_URL uses an unsupported database {scheme!r}: "
            "use sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    return f"{drivers[scheme]}://{rest}"


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(
            f"MUSTER_BASE_URL must be an http(s) URL such as https://muster.example.com: {value!r}"
        )
    return value.strip().rstrip("/")


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, the form browsers send in the Origin header."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _origins(value: str | None, base_url: str) -> tuple[str, ...]:
    if value is None or not value.strip():
        return (origin(base_url),)
    origins = tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
    for each in origins:
        parts = urlsplit(each)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path:
            raise ConfigError(
                "MUSTER_ALLOWED_ORIGINS must list origins such as https://muster.example.com, "
                f"separated by commas: {each!r}"
            )
    return origins


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (got {value!r})")
