"""`coach outbox list`, `coach nudge preview` and `coach calendar import|add-feed|poll`, listed in
bot.cli.SUB_COMMANDS. Every command has --help; machine-readable output is --json."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.app import coach_context
from bot.cli.database import opened
from bot.config import Settings
from bot.scheduling.calendar import check_size, import_calendar
from bot.scheduling.feeds import add_feed
from bot.scheduling.ical import shutdown_pool
from dialogs.nudge_preview import KINDS, preview
from storage import directory
from storage.errors import CoachError, NotFound

if TYPE_CHECKING:
    from dialogs.context import CoachContext

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[CoachContext], Awaitable[T]]) -> T:
    """Run `work(ctx)` on a CoachContext over the configured database."""
    from dialogs.text import default_texts
    from storage.engine import session_factory

    async def main() -> T:
        async with opened(settings) as engine:
            try:
                return await work(coach_context(settings, session_factory(engine), default_texts()))
            finally:
                await asyncio.to_thread(shutdown_pool)  # the calendar parsing processes, if started

    return asyncio.run(main())


async def _person_id(ctx: CoachContext, ref: str) -> int:
    async with ctx.db() as session:
        if ref.isdigit():
            person = await directory.person_by_id(session=session, person_id=int(ref))
        else:
            person = await directory.first_person_by_email(session=session, email=ref)
    if person is None or person.id is None:
        raise NotFound(f"no person with id or email {ref!r}")
    return int(person.id)


def cmd_outbox_list(args: argparse.Namespace, settings: Settings) -> int:
    from storage import outbox

    async def work(ctx: CoachContext) -> list[dict[str, Any]]:
        async with ctx.db() as session:
            rows = await outbox.list_rows(session=session, limit=args.limit)
        return [outbox.row_json(r) for r in rows]

    rows = _run(settings, work)
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(
                f"{r['due_at']}  {r['status']:<9} {r['kind']:<18} person {r['person_id']:<6} "
                f"attempts {r['attempts']}  {r['last_error'] or ''}".rstrip()
            )
    return 0


def cmd_nudge_preview(args: argparse.Namespace, settings: Settings) -> int:
    async def work(ctx: CoachContext) -> dict[str, Any]:
        person_id = await _person_id(ctx, args.person)
        return await preview(ctx, person_id=person_id, meeting_id=args.meeting, kind=args.kind)

    out = _run(settings, work)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        due = out["due_at"] or "not planned (too close to the meeting)"
        print(f"{out['kind']} for meeting {out['meeting_id']} ({out['account']}), due {due}\n\n{out['text']}")
    return 0


def cmd_calendar_import(args: argparse.Namespace, settings: Settings) -> int:

    max_bytes = settings.org.calendar.max_feed_bytes
    try:
        check_size(Path(args.file).stat().st_size, max_bytes)  # refused before it is read
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise CoachError(f"{args.file}: cannot be read ({exc.strerror})") from None
    except CoachError as exc:
        raise CoachError(f"{args.file}: {exc.message}") from None

    async def work(ctx: CoachContext) -> dict[str, Any]:
        person_id = await _person_id(ctx, args.person)
        result = await import_calendar(ctx=ctx, person_id=person_id, data=data, max_bytes=max_bytes)
        return {"person_id": person_id, **result.as_dict()}

    out = _run(settings, work)
    print(json.dumps(out) if args.json else import_summary(out))
    return 0


def import_summary(out: dict[str, Any]) -> str:
    """One line: what was stored, what lies beyond the horizon, what was skipped."""
    later = f"{out['beyond_horizon']} beyond the next {out['horizon_days']} days, " + (
        "1 recurring series" if out["series_kept"] == 1 else f"{out['series_kept']} recurring series"
    ) + " kept for later"
    return (
        f"Imported {out['meetings']} customer meetings ({later}; {out['cancelled']} cancelled, "
        f"{out['skipped_internal']} internal and {out['skipped_all_day']} all-day events skipped)"
    )


def cmd_calendar_add_feed(args: argparse.Namespace, settings: Settings) -> int:

    async def work(ctx: CoachContext) -> dict[str, Any]:
        person_id = await _person_id(ctx, args.person)
        async with ctx.db() as session, session.begin():
            feed_id = await add_feed(session=session, person_id=person_id, url=args.url)
        return {"feed_id": feed_id, "person_id": person_id}

    out = _run(settings, work)
    print(json.dumps(out) if args.json else f"Feed {out['feed_id']} registered; polled every 15 minutes")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    box = sub.add_parser("outbox", help="scheduled messages (nudges, prompts, digests)")
    box_sub = box.add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")
    listing = box_sub.add_parser("list", help="pending and recent rows: kind, person, due (UTC), status")
    listing.add_argument("--limit", type=int, default=200, help="rows per group (default 200)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_outbox_list)

    nudge = sub.add_parser("nudge", help="the preparation and nudge a rep gets before a meeting")
    nudge_sub = nudge.add_subparsers(dest="nudge_command", required=True, metavar="COMMAND")
    show = nudge_sub.add_parser(
        "preview", help="print the preparation or nudge a rep would get for their next (or a given) "
        "meeting; sends and records nothing")
    show.add_argument("--person", required=True, help="the rep: person id or email")
    show.add_argument("--meeting", type=int, help="the meeting id (default: the rep's next meeting)")
    show.add_argument("--kind", choices=KINDS, default="nudge",
                      help="prepare: the preparation a working day or two before; nudge (default): "
                      "the message just before the meeting")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=cmd_nudge_preview)

    cal = sub.add_parser("calendar", help="import iCalendar files, register calendar feeds")
    cal_sub = cal.add_subparsers(dest="calendar_command", required=True, metavar="COMMAND")
    imp = cal_sub.add_parser("import", help="import an .ics file as a rep's customer meetings")
    imp.add_argument("file", help="path of the .ics file")
    imp.add_argument("--person", required=True, help="the rep: person id or email")
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    imp.set_defaults(handler=cmd_calendar_import)
    feed = cal_sub.add_parser("add-feed", help="register an iCalendar URL, polled every 15 minutes")
    feed.add_argument("url", help="https:// or webcal:// URL of the calendar")
    feed.add_argument("--person", required=True, help="the rep: person id or email")
    feed.add_argument("--json", action="store_true", help="machine-readable output")
    feed.set_defaults(handler=cmd_calendar_add_feed)
