"""Calendars: the public Exchange/Outlook/Google exports with their upstream occurrence counts,
our own fixtures (Windows TZID, RRULE + EXDATE + moved occurrence, all-day, cancelled, attendee
domains), feeds polled with conditional GET, and `coach calendar import`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from bot.scheduling.calendar import import_calendar
from bot.scheduling.feeds import add_feed, poll_feed
from bot.scheduling.ical import occurrences, read_calendar
from dialogs import conversation
from dialogs.context import CoachContext
from dialogs.nudge import render_nudges
from dialogs.timing import SchedulePolicy
from storage import outbox
from storage.models import Account, Meeting, Outbox
from storage.planning_models import MeetingInvite
from tests.conftest import SHARED, shared_path
from tests.factories import make_person, rep_database_for_cli
from tests.serving import serve as serve_app

HERE = Path(__file__).parent / "ics"
POLICY = SchedulePolicy(internal_domains=("ourco.nl",))


def _bound(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return datetime.fromisoformat(value)


def _window(case: dict[str, Any]) -> tuple[Any, Any]:
    if case["query"] == "between":
        return _bound(case["args"][0]), _bound(case["args"][1])
    if case["query"] == "all":
        return (1970, 1, 1), (2100, 1, 1)
    arg = case["args"][0]
    if isinstance(arg, list):  # a month
        y, m = arg
        return date(y, m, 1), date(y + m // 12, m % 12 + 1, 1)
    day = date(int(arg[:4]), int(arg[4:6]), int(arg[6:]))
    return day, day + timedelta(days=1)


def oracle_cases() -> list[dict[str, Any]]:
    """The upstream expectations; without ../shared one placeholder case, skipped by shared_path."""
    path = SHARED / "oracles" / "ics" / "ics-expectations.json"
    if not SHARED.exists():
        return [{"file": "(absent)", "query": "all", "args": [], "expected_count": 0}]
    return list(json.loads(path.read_text())["cases"])


@pytest.mark.parametrize("case", oracle_cases(), ids=lambda c: f"{c['file']}:{c['query']}:{c['args']}")
def test_public_exports_expand_to_the_upstream_counts(case: dict[str, Any]) -> None:
    data = shared_path("oracles", "ics", case["file"]).read_bytes()
    start, end = _window(case)
    assert len(occurrences(read_calendar(data), start, end)) == case["expected_count"]


def test_windows_tzid_from_exchange_is_read_as_eastern_time() -> None:
    data = shared_path("oracles", "ics", "outlook-exchange2010-windows-tzid.ics").read_bytes()
    [event] = occurrences(read_calendar(data), (2024, 10, 1), (2024, 11, 1))
    assert event.starts_at == datetime(2024, 10, 28, 21, 0, tzinfo=UTC)  # 17:00 EDT
    assert event.ends_at == datetime(2024, 10, 28, 22, 0, tzinfo=UTC)


def test_a_malformed_exchange_series_does_not_stop_the_import() -> None:
    data = shared_path("oracles", "ics", "exchange-cdo-odd-tzid-malformed-byday.ics").read_bytes()
    assert isinstance(occurrences(read_calendar(data), (2000, 1, 1), (2030, 1, 1)), list)


@pytest.fixture
def cal_coach(db, clock) -> CoachContext:
    return CoachContext(db=db, clock=clock, schedule=POLICY)


async def meetings(ctx: CoachContext) -> list[tuple[str, datetime, bool, str]]:
    async with ctx.db() as session:
        rows = (
            await session.execute(
                sa.select(Account.name, Meeting.starts_at, Meeting.cancelled, Meeting.source)
                .join(Account, Account.id == Meeting.account_id)
                .order_by(Meeting.starts_at)
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def pending_nudges(ctx: CoachContext) -> list[Outbox]:
    async with ctx.db() as session:
        return list(
            (
                await session.scalars(
                    sa.select(Outbox)
                    .where(Outbox.kind == "nudge", Outbox.status == "pending")
                    .order_by(Outbox.due_at)
                )
            ).all()
        )


async def test_own_fixtures_import_as_customer_meetings_with_nudges(cal_coach):
    rep = await make_person(cal_coach.db, email="sanne@ourco.nl")
    weekly = await import_calendar(
        ctx=cal_coach, person_id=rep.id, data=(HERE / "customer-weekly-windows-tzid.ics").read_bytes()
    )
    # six Mondays, one EXDATE, one moved to Tuesday 15 December 14:30
    assert (weekly.meetings, weekly.cancelled, weekly.accounts) == (5, 0, {"Acme Industries"})
    acme = [m for m in await meetings(cal_coach) if m[0] == "Acme Industries"]
    assert [m[1] for m in acme] == [
        datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        datetime(2026, 12, 15, 13, 30, tzinfo=UTC),
        datetime(2026, 12, 28, 9, 0, tzinfo=UTC),
        datetime(2027, 1, 4, 9, 0, tzinfo=UTC),
        datetime(2027, 1, 11, 9, 0, tzinfo=UTC),
    ]

    mixed = await import_calendar(
        ctx=cal_coach, person_id=rep.id, data=(HERE / "customer-mixed.ics").read_bytes()
    )
    assert mixed.as_dict() | {"created": 0, "updated": 0} == {
        "meetings": 3,
        "created": 0,
        "updated": 0,
        "cancelled": 1,
        "skipped_internal": 1,
        "skipped_all_day": 1,
        "beyond_horizon": 0,
        "series_kept": 0,
        "horizon_days": 90,
        "accounts": ["Bakkerij Jansen", "Globex", "Hooli", "Umbrella"],
    }
    everything = await meetings(cal_coach)
    assert ("Hooli", datetime(2026, 12, 8, 11, 0, tzinfo=UTC), False, "ics") in everything  # floating 12:00
    assert ("Umbrella", datetime(2026, 12, 4, 10, 0, tzinfo=UTC), True, "ics") in everything
    nudges = await pending_nudges(cal_coach)
    assert len(nudges) == 8

    # re-importing changes nothing
    again = await import_calendar(
        ctx=cal_coach, person_id=rep.id, data=(HERE / "customer-mixed.ics").read_bytes()
    )
    assert again.updated == 0 and len(await pending_nudges(cal_coach)) == 8

    # the customer organised Globex and mailed an agenda: the nudge says so and leads with tactics
    async with cal_coach.db() as session:
        invite = (
            await session.execute(
                sa.select(MeetingInvite).join(Meeting).join(Account).where(Account.name == "Globex")
            )
        ).scalar_one()
    assert (invite.organiser_external, invite.formal_agenda) == (True, True)
    globex = next(n for n in nudges if n.payload["meeting_id"] == invite.meeting_id)
    claimed = outbox.Item(
        globex.id,
        globex.dedup_key,
        "nudge",
        globex.person_id,
        globex.payload,
        globex.due_at,
        globex.expires_at,
        1,
    )
    replies = (await render_nudges(cal_coach, [claimed]))[globex.id]
    assert replies is not None
    warning = cal_coach.texts.render("en", "nudge", "formal_organiser", account="Globex")
    tactics_title = cal_coach.texts.render("en", "nudge", "tactics_title")
    assert replies[0].text.startswith(warning + "\n\n" + tactics_title)
    assert replies[0].meta["formal"] is True and len(replies[0].meta["tactics"]) == 2


async def test_a_moved_or_cancelled_occurrence_reschedules_its_nudge(cal_coach):
    rep = await make_person(cal_coach.db, email="sanne@ourco.nl")
    original = (HERE / "customer-weekly-windows-tzid.ics").read_text()
    await import_calendar(ctx=cal_coach, person_id=rep.id, data=original)
    moved = original.replace(
        "DTSTART;TZID=W. Europe Standard Time:20261215T143000",
        "DTSTART;TZID=W. Europe Standard Time:20261216T160000",
    ).replace(
        "DTEND;TZID=W. Europe Standard Time:20261215T153000",
        "DTEND;TZID=W. Europe Standard Time:20261216T170000",
    )
    await import_calendar(ctx=cal_coach, person_id=rep.id, data=moved)
    due = [n.due_at for n in await pending_nudges(cal_coach)]
    assert datetime(2026, 12, 15, 12, 30, tzinfo=UTC) not in due
    assert datetime(2026, 12, 16, 14, 0, tzinfo=UTC) in due
    cancelled = moved.replace(
        "SUMMARY:Acme weekly pilot check-in (moved)",
        "SUMMARY:Acme weekly pilot check-in (moved)\r\nSTATUS:CANCELLED",
    )
    await import_calendar(ctx=cal_coach, person_id=rep.id, data=cancelled)
    assert datetime(2026, 12, 16, 14, 0, tzinfo=UTC) not in [
        n.due_at for n in await pending_nudges(cal_coach)
    ]
    assert len(await pending_nudges(cal_coach)) == 4


async def test_the_calendar_wins_over_a_meeting_typed_by_hand(cal_coach):
    rep = await make_person(cal_coach.db, email="sanne@ourco.nl")
    said = await conversation.reply_to(
        ctx=cal_coach, person_id=rep.id, channel="web", text="meeting Globex 2026-12-02 14:00"
    )
    assert said[0].kind == "saved"
    await import_calendar(ctx=cal_coach, person_id=rep.id, data=(HERE / "customer-mixed.ics").read_bytes())
    globex = [m for m in await meetings(cal_coach) if m[0] == "Globex"]
    assert [(m[2], m[3]) for m in globex] == [(True, "manual"), (False, "ics")]
    at_14 = [
        n for n in await pending_nudges(cal_coach) if n.due_at == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    ]
    assert len(at_14) == 1, "one nudge, not two"


@pytest.fixture
async def feed_server() -> AsyncIterator[dict[str, Any]]:
    state: dict[str, Any] = {"body": (HERE / "customer-mixed.ics").read_bytes(), "etag": '"v1"', "seen": []}

    async def serve(request: web.Request) -> web.Response:
        state["seen"].append(dict(request.headers))
        if request.headers.get("If-None-Match") == state["etag"]:
            return web.Response(status=304)
        return web.Response(
            body=state["body"],
            content_type="text/calendar",
            headers={"ETag": state["etag"], "Last-Modified": "Mon, 30 Nov 2026 08:00:00 GMT"},
        )

    app = web.Application()
    app.router.add_get("/cal.ics", serve)
    runner, url = await serve_app(app)
    state["url"] = f"{url}/cal.ics"
    yield state
    await runner.cleanup()


async def test_a_feed_is_polled_with_conditional_get(cal_coach, feed_server):
    rep = await make_person(cal_coach.db, email="sanne@ourco.nl")
    async with cal_coach.db() as session, session.begin():
        feed_id = await add_feed(session=session, person_id=rep.id, url=feed_server["url"])
    async with aiohttp.ClientSession() as http:
        assert await poll_feed(ctx=cal_coach, feed_id=feed_id, http=http) == 200
        assert len(await pending_nudges(cal_coach)) == 3
        assert await poll_feed(ctx=cal_coach, feed_id=feed_id, http=http) == 304
        assert feed_server["seen"][1]["If-None-Match"] == '"v1"'
        assert feed_server["seen"][1]["If-Modified-Since"] == "Mon, 30 Nov 2026 08:00:00 GMT"
        # Hooli disappears from the feed: its meeting and nudge are cancelled
        body = feed_server["body"].decode()
        start = (
            body.index("BEGIN:VEVENT\r\nUID:floating-1")
            if "\r\n" in body
            else body.index("BEGIN:VEVENT\nUID:floating-1")
        )
        end = body.index("END:VEVENT", start) + len("END:VEVENT")
        feed_server["body"], feed_server["etag"] = (body[:start] + body[end:]).encode(), '"v2"'
        assert await poll_feed(ctx=cal_coach, feed_id=feed_id, http=http) == 200
    hooli = [m for m in await meetings(cal_coach) if m[0] == "Hooli"]
    assert [m[2] for m in hooli] == [True]
    assert len(await pending_nudges(cal_coach)) == 2


def test_cli_calendar_import_and_outbox_list(tmp_path, monkeypatch, capsys):

    from bot.cli import main

    rep_database_for_cli(tmp_path, monkeypatch, config="internal_domains: [ourco.nl]\n")
    assert (
        main(["calendar", "import", str(HERE / "customer-mixed.ics"), "--person", "Sanne@OurCo.nl", "--json"])
        == 0
    )
    imported = json.loads(capsys.readouterr().out)
    assert (imported["meetings"], imported["skipped_internal"], imported["skipped_all_day"]) == (3, 1, 1)
    assert main(["outbox", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    nudges = [r for r in rows if r["kind"] == "nudge"]
    assert len(nudges) == 3
    assert {r["status"] for r in nudges} == {"pending"} and {r["attempts"] for r in nudges} == {0}
    assert all(r["due_at"].endswith("Z") and r["person_id"] == 1 for r in nudges)
    assert main(["calendar", "import", str(tmp_path / "missing.ics"), "--person", "1"]) == 2
    feed = "webcal://cal.example.com/sanne.ics"
    assert main(["calendar", "add-feed", feed, "--person", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"feed_id": 1, "person_id": 1}
    assert main(["calendar", "add-feed", "ftp://x", "--person", "1"]) == 2


async def test_each_due_feed_is_polled_by_one_replica(cal_coach, clock):
    from bot.scheduling.feeds import claim_due_feeds
    from storage.planning_models import CalendarFeed

    rep = await make_person(cal_coach.db)
    async with cal_coach.db() as session, session.begin():
        for n in range(3):
            await add_feed(session=session, person_id=rep.id, url=f"https://cal.example.com/{n}.ics")
        await session.execute(sa.update(CalendarFeed).values(next_poll_at=clock.now - timedelta(minutes=1)))
    first, second = await claim_due_feeds(ctx=cal_coach), await claim_due_feeds(ctx=cal_coach)
    assert sorted(first) == [1, 2, 3] and second == []
    clock.advance(minutes=16)
    assert sorted(await claim_due_feeds(ctx=cal_coach)) == [1, 2, 3]
