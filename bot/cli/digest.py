"""`coach digest preview`, `coach export`, `coach import` and `coach retention run`.

Registered through bot.cli.EXTRA_COMMANDS; every command has --help, machine output is --json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.database import opened
from bot.config import Settings
from bot.debrief_csv import CsvError, export_rows, import_rows, parse_csv, to_csv
from bot.scheduling.digest_jobs import run_retention
from storage import directory
from storage.errors import CoachError, NotFound

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from storage.engine import session_factory

    async def run() -> T:
        async with opened(settings) as engine, session_factory(engine)() as session, session.begin():
            return await work(session)

    return asyncio.run(run())


async def find_manager(session: AsyncSession, who: str) -> int:
    """A person by id, e-mail or platform user id; refuses an ambiguous name."""
    if who.isdigit():
        if await directory.person_by_id(session=session, person_id=int(who)) is None:
            raise NotFound(f"no person with id {who}")
        return int(who)
    rows = await directory.people_by_email_or_user_id(session=session, who=who)
    if not rows:
        raise NotFound(f"no person with e-mail or user id {who!r}")
    if len(rows) > 1:
        ids = ", ".join(f"{row.id} (workspace {row.workspace_id})" for row in rows)
        raise CoachError(f"{who!r} names several people: {ids}; pass --manager ID")
    return rows[0].id


def cmd_preview(args: argparse.Namespace, settings: Settings) -> int:
    from dialogs.digest import compute_digests
    from dialogs.digest_chart import chart_png
    from dialogs.digest_render import digest_replies
    from dialogs.text import default_texts
    from storage.digest_queries import Period

    end = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    if end.tzinfo is None:
        raise CoachError("--at needs a UTC offset, e.g. 2026-11-30T08:30:00+01:00")
    org = settings.org

    async def work(session: AsyncSession) -> Any:
        manager_id = await find_manager(session, args.manager)
        return (
            await compute_digests(
                session=session,
                period=Period.ending(end, days=args.days),
                manager_ids=[manager_id],
                share_notes=org.share_notes,
                default_locale=org.default_locale,
                default_timezone=org.default_timezone,
                texts=texts,
            )
        )[0]

    texts = default_texts()
    digest = _run(settings, work)
    if args.chart:
        Path(args.chart).write_bytes(chart_png(digest, texts))
    if args.json:
        print(json.dumps(digest.as_json(), ensure_ascii=False, indent=2))
        return 0
    for reply in digest_replies(texts, digest, chart=False):
        for line in (reply.title, reply.text, *(f"  - {i}" for i in reply.items)):
            if line:
                print(line)
        print()
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:

    async def work(session: AsyncSession) -> str:
        return to_csv(await export_rows(session=session))

    content = _run(settings, work)
    if args.output:
        Path(args.output).write_text(content, encoding="utf-8", newline="")
    else:
        sys.stdout.write(content)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:

    try:
        content = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CoachError(f"{args.file}: cannot be read ({exc})") from None
    try:
        rows = parse_csv(content)
    except CsvError as exc:
        raise CoachError(f"{args.file}: {exc.message}; nothing was imported") from None

    async def work(session: AsyncSession) -> tuple[int, int]:
        return await import_rows(session=session, rows=rows)

    imported, present = _run(settings, work)
    result = {"file": args.file, "rows": len(rows), "imported": imported, "already_present": present}
    print(
        json.dumps(result)
        if args.json
        else f"{args.file}: {imported} debriefs imported, {present} already present"
    )
    return 0


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:

    async def work(session: AsyncSession) -> int:
        return await run_retention(
            session=session, now=datetime.now(UTC), retention_days=settings.org.retention_days
        )

    deleted = _run(settings, work)
    days = settings.org.retention_days
    print(
        json.dumps({"deleted": deleted, "retention_days": days})
        if args.json
        else f"{deleted} debriefs older than {days} days deleted"
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    digest = sub.add_parser("digest", help="the managers' weekly digest")
    digest_sub = digest.add_subparsers(dest="digest_command", required=True, metavar="COMMAND")
    preview = digest_sub.add_parser("preview", help="show a manager's digest now (text, or --json)")
    preview.add_argument(
        "--manager",
        required=True,
        metavar="ID|EMAIL",
        help="the manager's person id, e-mail address or platform user id",
    )
    preview.add_argument("--days", type=int, default=7, help="length of the period (default 7)")
    preview.add_argument("--at", help="end of the period, ISO 8601 with offset (default: now)")
    preview.add_argument("--chart", metavar="FILE.png", help="also write the chart to this file")
    preview.add_argument("--json", action="store_true", help="machine-readable output")
    preview.set_defaults(handler=cmd_preview)

    export = sub.add_parser("export", help="write every debrief as CSV (the layout in the README)")
    export.add_argument("--format", choices=["csv"], default="csv", help="file format (csv)")
    export.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    export.set_defaults(handler=cmd_export)

    imp = sub.add_parser("import", help="import debriefs from CSV; a bad row refuses the whole file")
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    imp.set_defaults(handler=cmd_import)

    retention = sub.add_parser("retention", help="delete debriefs older than retention_days")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True, metavar="COMMAND")
    run = retention_sub.add_parser("run", help="run the retention job once, now")
    run.add_argument("--json", action="store_true", help="machine-readable output")
    run.set_defaults(handler=cmd_retention)
