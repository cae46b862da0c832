"""The `coach` command: serve, database migrations, and operator tools. Every command has --help."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot import log_messages as msg
from bot import logging_setup
from bot.app import channel_status, create_app
from bot.cli import crm, digest, scheduling, teams
from bot.cli.database import opened
from bot.config import Settings
from bot.teams.mode import with_teams_emulator
from storage.errors import CoachError

if TYPE_CHECKING:
    from aiohttp import web

Handler = Callable[[argparse.Namespace, Settings], int]

EXIT_CONFIG = 2  # a bad app.yaml or environment variable
EXIT_DATABASE = 3  # the database does not answer
EXIT_PORT_IN_USE = 4


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(demo=True) if getattr(args, "demo", False) else Settings.load()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.org.server.host
    port = args.port if args.port is not None else settings.org.server.port
    if args.teams_emulator:
        settings = with_teams_emulator(settings)
    for line in channel_status(settings, host, port):
        print(line, flush=True)
    return asyncio.run(_serve(create_app(settings), settings, host, port))


async def _serve(app: web.Application, settings: Settings, host: str, port: int) -> int:
    """Start the app (migrations, channels, scheduler), then listen; only then say "listening".
    Runs until SIGINT or SIGTERM, then stops everything it started."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    try:
        await runner.setup()  # the app's startup: the database (migrated), channels, scheduler
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            print(f"coach: {msg.PORT_IN_USE.format(host=host, port=port)}", file=sys.stderr)
            return EXIT_PORT_IN_USE
        bound = runner.addresses[0][1] if runner.addresses else port  # --port 0: the one it got
        print(msg.DATABASE.format(location=settings.database_location), flush=True)
        scheme = settings.database_url.split("://", 1)[0]
        print(msg.SERVING.format(host=host, port=bound, database=scheme), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        return 0
    finally:
        await runner.cleanup()


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage import migrate

    async def run() -> str | None:
        async with opened(settings, migrate_sqlite=False) as engine:
            await migrate.upgrade(engine, args.revision)
            return await migrate.current_revision(engine)

    revision = asyncio.run(run())
    _emit(args, {"revision": revision}, msg.MIGRATED.format(revision=revision))
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    from storage import migrate

    async def run() -> str | None:
        async with opened(settings, migrate_sqlite=False) as engine:
            return await migrate.current_revision(engine)

    current = asyncio.run(run())
    head = migrate.head_revision()
    _emit(args, {"current": current, "head": head, "up_to_date": current == head},
          f"current {current or '(empty)'}, head {head}")
    return 0 if current == head else 1


def _emit(args: argparse.Namespace, data: dict[str, object], line: str) -> None:
    print(json.dumps(data) if getattr(args, "json", False) else line)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach", description="Closing Coach: a sales-coaching bot for Slack, Teams and web chat."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the bot (web chat, Slack, Teams, health, metrics)")
    serve.add_argument("--host", help="address to listen on (default: server.host in app.yaml, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 3978)")
    serve.add_argument("--demo", action="store_true",
                       help="seed a demo team (a manager and three reps with history)")
    serve.add_argument("--teams-emulator", action="store_true",
                       help="serve the local Bot Framework Emulator at POST /api/messages without an "
                            "app id (this machine only; as server.teams_emulator: true)")
    serve.add_argument("--debug", action="store_true",
                       help="log at DEBUG, the database migrations' steps included")
    serve.set_defaults(handler=cmd_serve)

    db = sub.add_parser("db", help="database schema migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_sub.add_parser("upgrade", help="migrate the schema (default: to the newest revision)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.add_argument("--json", action="store_true", help="machine-readable output")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    current = db_sub.add_parser("current", help="show the schema revision; exit 1 if behind")
    current.add_argument("--json", action="store_true", help="machine-readable output")
    current.set_defaults(handler=cmd_db_current)

    for register in SUB_COMMANDS:
        register(sub)
    return parser


# The operator commands beyond serve and db, each module adding its own sub-parsers.
SUB_COMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (
    digest.register,  # digest preview, export, import, retention run
    teams.register,  # teams package, send-test
    scheduling.register,  # outbox list, calendar import / add-feed / poll
    crm.register,  # crm status, connect, poll
)


def _database_failure(exc: Exception, url: str) -> str | None:
    """One line for an unreachable or refusing database (no traceback, no password); else None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, OSError | DBAPIError):
        return None
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return None  # our own port, not the database (cmd_serve says so itself)
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = (str(cause).strip().splitlines() or [""])[0]
    where = make_url(url).render_as_string(hide_password=True)
    return msg.DATABASE_DOWN.format(location=where, error=f"{type(cause).__name__}: {reason}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings: Settings | None = None
    try:
        settings = _settings(args)
        # serve logs from the configured level; the other commands print their results and log
        # warnings and errors only.
        floor = logging.NOTSET if args.handler is cmd_serve else logging.WARNING
        logging_setup.configure(settings.org.logging, debug=getattr(args, "debug", False), floor=floor)
        handler: Handler = args.handler
        return handler(args, settings)
    except CoachError as exc:
        print(f"coach: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:
        line = _database_failure(exc, settings.database_url) if settings is not None else None
        if line is None:
            raise
        print(f"coach: {line}", file=sys.stderr)
        return EXIT_DATABASE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
