"""The ``muster`` command: migrate, serve, run the demo, seed, and manage users and tokens.

Settings come from ``app.config`` (the only reader of the environment): commands that only touch
the database take ``MUSTER_DATABASE_URL`` alone; ``serve`` and ``demo`` check all settings first
so a bad value stops them with one line instead of a traceback. The web app's factory is named by
its import string (``views.app:create_app``), so the domain never imports the web layer; one
server process is handed the factory with the settings already read (the demo's own among them,
never written to the environment), while worker processes (``--workers``) import it by that
string and each read the same environment.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging.config
import signal
import sys
from collections.abc import Callable, Sequence
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config

from app import demo, logs
from app.config import (
    WEBSOCKET_FRAME_LIMIT,
    ConfigError,
    Settings,
    database_url_from_env,
    is_loopback,
)
from app.db import Database
from app.errors import MusterError
from app.models import OrgRole, TokenScope
from app.services import catalog, tokens, users

APP_FACTORY = "views.app:create_app"
DEMO_DATABASE = Path("muster-demo.db")
DEMO_API_USER = "sre@demo.muster"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ConfigError as error:
        print(f"muster: {error}", file=sys.stderr)
        return 2
    except MusterError as error:
        print(f"muster: {error.message}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="muster", description="Muster: incident management for everyone."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema").add_subparsers(required=True)
    upgrade = db.add_parser("upgrade", help="migrate the database to the latest schema")
    upgrade.set_defaults(run=_db_upgrade)

    serve = sub.add_parser("serve", help="serve Muster over HTTP")
    _listen_options(serve)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(run=_serve)

    worker = sub.add_parser(
        "worker", help="work the job queue only: notifications, email, webhooks, workflows, nudges"
    )
    worker.set_defaults(run=_worker)

    demo_cmd = sub.add_parser("demo", help="serve a fresh demo with sample data (SQLite)")
    _listen_options(demo_cmd)
    demo_cmd.set_defaults(run=_demo)

    seed = sub.add_parser("seed-demo", help="add the demo organisation to the database")
    seed.set_defaults(run=_seed_demo)

    user_cmd = sub.add_parser("users", help="manage users").add_subparsers(required=True)
    add = user_cmd.add_parser("add", help="add a user")
    add.add_argument("email")
    add.add_argument("--name")
    add.add_argument(
        "--role", choices=[r.name.lower() for r in OrgRole], default="member", help="org role"
    )
    add.set_defaults(run=_users_add)

    token_cmd = sub.add_parser("tokens", help="manage API tokens").add_subparsers(required=True)
    create = token_cmd.add_parser("create", help="create an API token (printed once)")
    create.add_argument("email")
    create.add_argument("--scope", choices=["read", "read-write"], default="read")
    create.add_argument("--name", default="API token")
    create.set_defaults(run=_tokens_create)
    return parser


def _listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the latest schema and install the default catalog."""
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")

    async def defaults() -> None:
        db = Database(url)
        try:
            await catalog.install_defaults(db)
        finally:
            await db.dispose()

    asyncio.run(defaults())


def _db_upgrade(args: argparse.Namespace) -> None:
    url = database_url_from_env()
    migrate(url)
    print("The database is up to date.")


def _serve(args: argparse.Namespace) -> None:
    settings = Settings.from_env()  # refuse a bad setting before forking workers
    if settings.dev_login and not is_loopback(args.host):
        raise ConfigError(
            "MUSTER_DEV_LOGIN lets anyone sign in as anyone without a password, so the server "
            f"only listens on this machine with it (127.0.0.1 or localhost), not {args.host}"
        )
    _run_server(args.host, args.port, workers=args.workers, settings=settings)


def _worker(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    logging.config.dictConfig(logs.config(settings.log_format, settings.log_level))
    asyncio.run(_work(settings))


async def _work(settings: Settings) -> None:
    """Run the worker until SIGTERM or SIGINT, woken by the event hub's NOTIFY listener."""
    from app.events import EventHub
    from app.worker import Worker

    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    hub = EventHub(db)
    worker = Worker(db, settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopping.set)
    await hub.start()
    hub.on_wake.append(worker.wake)
    await worker.start()
    print("Muster worker: working the job queue (Ctrl-C to stop).", flush=True)
    try:
        await stopping.wait()
    finally:
        await worker.stop()
        await hub.stop()
        await db.dispose()


def _run_server(host: str, port: int, *, settings: Settings, workers: int = 1) -> None:
    import uvicorn  # imported here: only the serving commands need it
    from uvicorn.importer import import_from_string

    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    if workers == 1:  # this process serves: the factory gets the settings already read
        app: Callable[[], object] | str = functools.partial(
            import_from_string(APP_FACTORY), settings
        )
    else:  # each worker process imports the factory by name and reads the same environment
        app = APP_FACTORY
    log_config = logs.config(settings.log_format, settings.log_level)
    uvicorn.run(
        app, factory=True, host=host, port=port, workers=workers, log_config=log_config,
        ws_max_size=WEBSOCKET_FRAME_LIMIT,  # no larger frame is even buffered (views.sockets)
    )  # fmt: skip


def _demo(args: argparse.Namespace) -> None:
    if not is_loopback(args.host):
        raise ConfigError(
            f"the demo prints an API token and lets anyone act as its personas, so it only "
            f"listens on this machine (127.0.0.1 or localhost), not {args.host}"
        )
    url = f"sqlite+aiosqlite:///./{DEMO_DATABASE}"
    site = f"http://{args.host}:{args.port}"
    settings = Settings.for_demo(database_url=url, base_url=site)  # refuse a bad one first
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    migrate(url)
    asyncio.run(_seed(url, chat=demo.Chat.at(settings.base_url, settings.secret_key)))
    secret = asyncio.run(_demo_token(url))
    print(
        f"Muster demo: {site}/  (data in {DEMO_DATABASE})\n"
        "Sign in there as any demo person, no password needed; the personas are\n"
        "  support@, exec@, security@, sre@ and data@demo.muster\n"
        f"The demo's chat channel, where its webhooks post: {settings.base_url}{demo.CHAT_PAGE}\n"
        f"GraphQL API and GraphiQL: {site}/graphql, with the header\n"
        f"  Authorization: Bearer {secret}\n"
        f"  (a read-write token of {DEMO_API_USER}, the SRE persona)",
        flush=True,
    )
    _run_server(args.host, args.port, settings=settings)


async def _demo_token(url: str) -> str:
    db = Database(url)
    try:
        async with db.read() as session:
            user = await users.get_user_by_email(session, DEMO_API_USER)
        _, secret = await tokens.create_token(
            db, user=user, name="demo", scope=TokenScope.READ_WRITE
        )
    finally:
        await db.dispose()
    return secret


def _seed_demo(args: argparse.Namespace) -> None:
    asyncio.run(_seed(database_url_from_env()))


async def _seed(url: str, *, chat: demo.Chat | None = None) -> None:
    db = Database(url)
    try:
        count = await demo.seed(db, chat=chat)
    finally:
        await db.dispose()
    print(f"Seeded the demo organisation: {count} incidents.")


def _users_add(args: argparse.Namespace) -> None:
    async def add() -> None:
        db = Database(database_url_from_env())
        try:
            user = await users.add_user(
                db, email=args.email, name=args.name, role=OrgRole[args.role.upper()]
            )
        finally:
            await db.dispose()
        print(f"Added {user.name} <{user.email}> as {user.role.name.lower()}.")

    asyncio.run(add())


def _tokens_create(args: argparse.Namespace) -> None:
    scope = TokenScope.READ_WRITE if args.scope == "read-write" else TokenScope.READ

    async def create() -> str:
        db = Database(database_url_from_env())
        try:
            async with db.read() as session:
                user = await users.get_user_by_email(session, args.email)
            token, secret = await tokens.create_token(db, user=user, name=args.name, scope=scope)
        finally:
            await db.dispose()
        print(
            f"Created {token.scope.name.lower().replace('_', '-')} token {token.name!r} "
            f"for {user.email}. It is shown only this once:"
        )
        return secret

    print(asyncio.run(create()))


if __name__ == "__main__":
    sys.exit(main())
