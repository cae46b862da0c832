"""`coach teams package` (the app to sideload) and `coach send-test` (a proactive Teams message)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from botbuilder.integration.aiohttp import CloudAdapter

from bot.app import COACH, SETTINGS, coach_context
from bot.cli.database import opened
from bot.config import Settings
from bot.delivery import Outgoing
from bot.teams.auth import CoachBotAuthentication
from bot.teams.connector import ConnectorPool
from bot.teams.package import Publisher, manifest, write_package
from bot.teams.sender import TeamsSender
from storage import directory
from storage.errors import CoachError, ConfigError, NotFound


def register(sub: argparse._SubParsersAction) -> None:
    teams = sub.add_parser("teams", help="Microsoft Teams: the app package to sideload")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True, metavar="COMMAND")
    package = teams_sub.add_parser(
        "package", help="write teams-app.zip (manifest.json and icons) for the bot in MicrosoftAppId")
    package.add_argument("--out", default="teams-app.zip", help="where to write it (default teams-app.zip)")
    package.add_argument("--bot-id", help="the bot's Azure app id (default: MicrosoftAppId)")
    package.add_argument("--app-version", default="1.0.0",
                         help="the app's version (semver; raise it per upload)")
    package.add_argument("--developer-name",
                         help="publisher shown in Teams (default: organisation in app.yaml)")
    package.add_argument("--website-url", default="https://www.example.com/closing-coach",
                         help="publisher's https support page")
    package.add_argument("--privacy-url", default="https://www.example.com/closing-coach/privacy",
                         help="https privacy statement")
    package.add_argument("--terms-url", default="https://www.example.com/closing-coach/terms",
                         help="https terms of use")
    package.add_argument("--json", action="store_true", help="machine-readable output")
    package.set_defaults(handler=cmd_package)

    send = sub.add_parser("send-test", help="send a test message to someone's Teams chat with the bot")
    send.add_argument("--person", required=True, help="person id, e-mail address or AAD object id")
    send.add_argument("--text", help="what to send (default: a short test line)")
    send.add_argument("--json", action="store_true", help="machine-readable output")
    send.set_defaults(handler=cmd_send_test)


def cmd_package(args: argparse.Namespace, settings: Settings) -> int:
    from dialogs.text import default_texts

    bot_id = args.bot_id or settings.microsoft_app_id
    if not bot_id:
        raise ConfigError("environment: MicrosoftAppId is not set (or pass --bot-id); "
                          "the package needs the bot's Azure app id")
    publisher = Publisher(args.developer_name or settings.org.organisation, args.website_url,
                          args.privacy_url, args.terms_url)
    app_manifest = manifest(bot_id=bot_id, texts=default_texts(), publisher=publisher,
                            version=args.app_version)
    path = write_package(Path(args.out), app_manifest, default_texts())
    data = {"package": str(path), "bot_id": app_manifest["bots"][0]["botId"],
            "manifest_version": app_manifest["manifestVersion"]}
    print(json.dumps(data) if args.json else
          f"Wrote {path} (manifest {data['manifest_version']}, bot {data['bot_id']}): "
          "upload it in Teams > Apps > Manage your apps > Upload an app")
    return 0


def cmd_send_test(args: argparse.Namespace, settings: Settings) -> int:
    try:
        person_id, name = asyncio.run(_send_test(settings, args.person, args.text))
    except CoachError as exc:
        if args.json:
            print(json.dumps({"sent": False, "error": exc.message}))
            return 1
        raise
    print(json.dumps({"sent": True, "person_id": person_id}) if args.json
          else f"Sent a test message to {name or 'person'} (id {person_id}) in Teams")
    return 0


async def _send_test(settings: Settings, who: str, text: str | None) -> tuple[int, str]:
    from aiohttp import web

    from dialogs.messages import Reply
    from dialogs.text import default_texts
    from storage.engine import session_factory

    pool = ConnectorPool()
    async with opened(settings) as engine:
        try:
            db = session_factory(engine)
            app = web.Application()
            app[SETTINGS] = settings
            app[COACH] = coach_context(settings, db, default_texts())
            async with db() as session:
                person = await directory.teams_person(session=session, who=who)
            if person is None or person.id is None:
                raise NotFound(f"no Teams person {who!r} (id, e-mail or AAD object id)")
            sender = TeamsSender(app, CloudAdapter(CoachBotAuthentication(settings, pool)))
            line = text or "Closing Coach test message: proactive messages reach you here."
            await sender.send(person=person, message=Outgoing([Reply(text=line)]))
            return person.id, person.display_name
        finally:
            await pool.close()
