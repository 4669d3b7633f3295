"""Settings read once, at start-up, from ``MUSTER_*`` environment variables, by this module alone.

``Settings.from_env`` reads them all (for serving), ``Settings.for_demo`` the same with the demo's
database and sign-in, and ``database_url_from_env`` the database alone (for the commands that
only touch it, and for migrations); each reads the process environment unless given a mapping,
and the rest of Muster is handed what they return. Every bad value becomes a ``ConfigError``
whose message is one line naming the variable and what was wrong, so that an operator sees the
mistake rather than a traceback.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from app import logs
from app.models import OrgRole

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./muster.db"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# The largest WebSocket frame taken after connection_init (the HTTP API's body limit too); uvicorn
# is given it as ws_max_size, so no larger frame is even buffered.
WEBSOCKET_FRAME_LIMIT = 100 * 1024
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
    oidc: OidcSettings | None = None
    dev_login: bool = False
    session_idle: timedelta = timedelta(hours=12)
    session_max: timedelta = timedelta(days=7)
    live_feeds_per_person: int = 100  # open live feeds (SSE and WebSocket) per person, per process
    subscriptions_per_socket: int = 50
    database_pool_size: int = 15  # connections per process
    database_pool_timeout: float = 30  # seconds a request waits for one before a 503
    log_format: str = "plain"
    log_level: str = "INFO"
    mail: MailSettings | None = None  # email goes out only when MUSTER_SMTP_URL is set
    webhook_allow_private: bool = False  # webhooks to loopback and private addresses (the demo)
    nudges: NudgeSettings = dataclasses.field(default_factory=lambda: NudgeSettings())
    run_jobs: bool = True  # whether `muster serve` works the job queue too (MUSTER_RUN_JOBS)
    job_lease: timedelta = timedelta(seconds=60)  # a job is a process's this long, then anyone's
    status_requests_per_minute: int = 1200  # public status page requests per client address
    status_live_viewers: int = 20_000  # open anonymous live status pages, per process
    # The bearer token /metrics asks for (MUSTER_METRICS_TOKEN); None: loopback clients only.
    metrics_token: str | None = dataclasses.field(default=None, repr=False)

    @property
    def https(self) -> bool:
        """Whether browsers reach Muster over https (cookies are then Secure, ``__Host-``)."""
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``environ``, by default the process environment."""
        environ = _environment(environ)
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
        dev_login = _flag(environ, "MUSTER_DEV_LOGIN")
        if dev_login and not is_loopback(urlsplit(base_url).hostname or ""):
            raise ConfigError(
                "MUSTER_DEV_LOGIN lets anyone sign in as anyone without a password, so it only "
                "works when MUSTER_BASE_URL is on this machine (127.0.0.1 or localhost), "
                f"not {base_url}"
            )
        return cls(
            database_url=database_url_from_env(environ),
            secret_key=secret_key or "demo-only-secret-key-not-for-production",
            base_url=base_url,
            allowed_origins=_origins(environ.get("MUSTER_ALLOWED_ORIGINS"), base_url),
            demo=demo,
            graphiql=_flag(environ, "MUSTER_GRAPHIQL") if "MUSTER_GRAPHIQL" in environ else demo,
            oidc=OidcSettings.from_env(environ),
            dev_login=dev_login,
            session_idle=timedelta(hours=_number(environ, "MUSTER_SESSION_IDLE_HOURS", 12)),
            session_max=timedelta(days=_number(environ, "MUSTER_SESSION_MAX_DAYS", 7)),
            live_feeds_per_person=_whole(environ, "MUSTER_LIVE_FEEDS_PER_PERSON", 100),
            subscriptions_per_socket=_whole(environ, "MUSTER_SUBSCRIPTIONS_PER_SOCKET", 50),
            database_pool_size=_whole(environ, "MUSTER_DATABASE_POOL_SIZE", 15),
            database_pool_timeout=_number(environ, "MUSTER_DATABASE_POOL_TIMEOUT", 30),
            log_format=_choice(environ, "MUSTER_LOG_FORMAT", logs.FORMATS),
            log_level=_choice(environ, "MUSTER_LOG_LEVEL", logs.LEVELS, default="INFO"),
            mail=MailSettings.from_env(environ, base_url),
            webhook_allow_private=(
                _flag(environ, "MUSTER_WEBHOOK_ALLOW_PRIVATE")
                if "MUSTER_WEBHOOK_ALLOW_PRIVATE" in environ
                else demo
            ),
            nudges=NudgeSettings(
                repeat=timedelta(minutes=_number(environ, "MUSTER_NUDGE_REPEAT_MINUTES", 15)),
                no_lead=timedelta(minutes=_number(environ, "MUSTER_NO_LEAD_MINUTES", 10)),
                check_every=_number(environ, "MUSTER_NUDGE_CHECK_SECONDS", 10),
            ),
            run_jobs=_flag(environ, "MUSTER_RUN_JOBS") if "MUSTER_RUN_JOBS" in environ else True,
            job_lease=timedelta(seconds=_number(environ, "MUSTER_JOB_LEASE_SECONDS", 60)),
            status_requests_per_minute=_whole(environ, "MUSTER_STATUS_REQUESTS_PER_MINUTE", 1200),
            status_live_viewers=_whole(environ, "MUSTER_STATUS_LIVE_VIEWERS", 20_000),
            metrics_token=_metrics_token(environ.get("MUSTER_METRICS_TOKEN", "")),
        )

    @classmethod
    def for_demo(
        cls, *, database_url: str, base_url: str, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """The demo's settings: ``environ``'s, with the demo's database, ``MUSTER_DEMO`` and
        ``MUSTER_DEV_LOGIN`` on, and ``base_url`` unless ``MUSTER_BASE_URL`` is set."""
        environ = _environment(environ)
        return cls.from_env(
            {
                **environ,
                "MUSTER_DATABASE_URL": database_url,
                "MUSTER_DEMO": "1",
                "MUSTER_DEV_LOGIN": "1",
                "MUSTER_BASE_URL": environ.get("MUSTER_BASE_URL", base_url),
            }
        )


@dataclasses.dataclass(frozen=True)
class OidcSettings:
    """Sign-in through an OpenID Connect provider, and how its groups become roles."""

    issuer: str
    client_id: str
    client_secret: str
    # The ``aud`` of provider access tokens sent to the API as bearer tokens; None (not set):
    # no provider tokens are taken as bearers, since no default could be trusted to be the API's.
    audience: str | None
    groups_claim: str = "groups"
    role_map: tuple[tuple[str, OrgRole], ...] = ()
    default_role: OrgRole = OrgRole.MEMBER

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OidcSettings | None:
        # Kept exactly as written (a trailing slash too): the provider's ``iss`` must match it.
        issuer = environ.get("MUSTER_OIDC_ISSUER", "").strip()
        if not issuer:
            return None
        if urlsplit(issuer).scheme not in {"http", "https"} or not urlsplit(issuer).netloc:
            raise ConfigError(f"MUSTER_OIDC_ISSUER must be the provider's URL: {issuer!r}")
        client_id = environ.get("MUSTER_OIDC_CLIENT_ID", "").strip()
        client_secret = environ.get("MUSTER_OIDC_CLIENT_SECRET", "").strip()
        if not client_id or not client_secret:
            raise ConfigError(
                "MUSTER_OIDC_ISSUER is set, so MUSTER_OIDC_CLIENT_ID and "
                "MUSTER_OIDC_CLIENT_SECRET are required too"
            )
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            audience=environ.get("MUSTER_OIDC_AUDIENCE", "").strip() or None,
            groups_claim=environ.get("MUSTER_OIDC_GROUPS_CLAIM", "").strip() or "groups",
            role_map=_role_map(environ.get("MUSTER_OIDC_ROLE_MAP", "")),
            default_role=_role("MUSTER_DEFAULT_ROLE", environ.get("MUSTER_DEFAULT_ROLE", "member")),
        )

    def role_for(self, groups: list[str]) -> OrgRole:
        """The highest role any of ``groups`` maps to, else the default role."""
        matched = [role for group, role in self.role_map if group in groups]
        return max(matched, key=lambda role: role.rank, default=self.default_role)


@dataclasses.dataclass(frozen=True)
class MailSettings:
    """Where email goes (``MUSTER_SMTP_URL``) and whom it is from (``MUSTER_MAIL_FROM``).

    ``smtp://host:25`` speaks plain SMTP, upgraded with STARTTLS when the server offers it;
    ``smtps://user:pass@host:465`` opens TLS first. A user and password in the URL log in.
    """

    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str], base_url: str) -> MailSettings | None:
        value = environ.get("MUSTER_SMTP_URL", "").strip()
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ConfigError(
                "MUSTER_SMTP_URL must be smtp://host:port or smtps://user:password@host:port "
                f"(got {parts.scheme or 'no'} scheme)"
            )
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError:
            raise ConfigError("MUSTER_SMTP_URL has a port that is not a number") from None
        host = urlsplit(base_url).hostname or "localhost"
        sender = environ.get("MUSTER_MAIL_FROM", "").strip() or f"Muster <muster@{host}>"
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )


@dataclasses.dataclass(frozen=True)
class NudgeSettings:
    """When reminders go out: an overdue update again every ``repeat``; an active incident
    without a lead after ``no_lead``; checked every ``check_every`` seconds."""

    repeat: timedelta = timedelta(minutes=15)
    no_lead: timedelta = timedelta(minutes=10)
    check_every: float = 10


def _metrics_token(value: str) -> str | None:
    token = value.strip()
    if not token:
        return None
    if len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token:
        raise ConfigError(
            "MUSTER_METRICS_TOKEN must be at least 16 printable ASCII characters without spaces "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return token


def _role_map(value: str) -> tuple[tuple[str, OrgRole], ...]:
    pairs = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        group, sep, role = entry.partition("=")
        if not sep or not group.strip():
            raise ConfigError(
                "MUSTER_OIDC_ROLE_MAP must list group=role pairs separated by commas, such as "
                f"sre=responder,muster-admins=admin: {entry!r}"
            )
        pairs.append((group.strip(), _role("MUSTER_OIDC_ROLE_MAP", role)))
    return tuple(pairs)


def _role(name: str, value: str) -> OrgRole:
    try:
        return OrgRole[value.strip().upper()]
    except KeyError:
        roles = ", ".join(role.name.lower() for role in OrgRole)
        raise ConfigError(f"{name}: {value.strip()!r} is not a role (one of {roles})") from None


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1
    if number <= 0:
        raise ConfigError(f"{name} must be a positive number (got {value!r})")
    return number


def _whole(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1 (got {value!r})")
    return int(value)


def _environment(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``MUSTER_DATABASE_URL`` (else the default) from ``environ``, by default the process's."""
    value = _environment(environ).get("MUSTER_DATABASE_URL", DEFAULT_DATABASE_URL)
    return database_url(value)


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


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def _choice(
    environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str | None = None
) -> str:
    """One of ``choices`` (case as listed), the first when unset unless ``default`` says."""
    value = environ.get(name, "").strip()
    if not value:
        return default or choices[0]
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name} must be one of {', '.join(choices)} (got {value!r})")


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (got {value!r})")
