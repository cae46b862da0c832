"""`coach serve --demo`: a small team with some history, so a newcomer sees a realistic coach.

It looks like a real team's: debriefs filed in working hours on working days in each rep's own
timezone, notes in each rep's language (prompts/<locale>/demo.yaml), and customer meetings in
the coming week (with their nudges planned), so the first minutes feel like a working week.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from dialogs.checklist import POINTS
from dialogs.context import CoachContext
from dialogs.meetings import add_meeting
from dialogs.text import LOCALES
from dialogs.timing import SchedulePolicy, at_local, local_today
from storage import calendars, directory, sales_teams
from storage.accounts import get_or_create_account
from storage.debriefs import AnswerRow, create_debrief
from storage.models import Platform, Role
from storage.people import get_or_create_person, get_or_create_workspace, update_person

WORKSPACE = "local"
MANAGER = ("demo:manager", "Maartje Jansen", "maartje@example.com")


@dataclass(frozen=True)
class DemoRep:
    user_id: str
    name: str
    email: str
    locale: str | None  # None: the organisation's default (the web chat visitor is this rep)
    timezone: str | None  # None: the organisation's default


REPS = (
    DemoRep("demo:rep:1", "Sanne de Vries", "sanne@example.com", None, None),
    DemoRep("demo:rep:2", "Tom Bakker", "tom@example.com", "nl", "Europe/Amsterdam"),
    DemoRep("demo:rep:3", "Priya Raman", "priya@example.com", "en", "Europe/London"),
)
ACCOUNTS = ("Acme Logistics", "Brouwer Bouw", "Noordzee Foods", "Veldhuis Zorg", "Kappa Systems")
# The chance of a "yes" per point, in checklist order. Each rep has a characteristic weak point
# (named after each line), so the history and the team overview tell a story.
PROFILES = {
    "demo:rep:1": dict(zip(POINTS, (0.35, 0.8, 0.45, 0.7, 0.75), strict=True)),  # opening
    "demo:rep:2": dict(zip(POINTS, (0.8, 0.7, 0.75, 0.3, 0.6), strict=True)),  # concessions
    "demo:rep:3": dict(zip(POINTS, (0.7, 0.45, 0.6, 0.75, 0.35), strict=True)),  # next step
}
DEBRIEFS_PER_REP = 8
# The manager's digest material: a team name, and (rep user id, account, days ago) customer
# meetings in the last week nobody debriefed, so Maartje's digest has something to point at.
TEAM_NAME = "Benelux"
UNDEBRIEFED = (("demo:rep:2", "Veldhuis Zorg", 1), ("demo:rep:3", "Kappa Systems", 3))
# When reps meet customers and debrief: local working hours, on the quarter hour.
FIRST_MEETING, LAST_MEETING = time(9, 0), time(16, 30)
UPCOMING_PER_REP = 2  # customer meetings in the coming week, per rep
def _rating(rng: random.Random, p_yes: float) -> str:
    roll = rng.random()
    return "yes" if roll < p_yes else ("partly" if roll < p_yes + (1 - p_yes) / 2 else "no")


def working_moment(rng: random.Random, day: date, tz: str) -> datetime:
    """A quarter hour in local working hours on `day`, as UTC."""
    quarters = (LAST_MEETING.hour * 60 + LAST_MEETING.minute - FIRST_MEETING.hour * 60) // 15
    minutes = FIRST_MEETING.hour * 60 + 15 * rng.randint(0, quarters)
    return at_local(day, time(minutes // 60, minutes % 60), tz)


def working_day(day: date, policy: SchedulePolicy, *, step: int) -> date:
    """`day` itself if it is a working day, else the nearest one in the direction of `step`."""
    for _ in range(7):
        if policy.is_working_day(day):
            return day
        day += timedelta(days=step)
    return day  # no working days configured: any day


async def seed_demo(ctx: CoachContext, settings: Settings) -> dict[str, Any]:
    """Create (once) the demo team in the local web-chat workspace; safe to run on every start."""
    rng = random.Random(2026)
    now = ctx.clock()
    locale = settings.org.default_locale
    total = 0
    async with ctx.db() as session, session.begin():
        ws = await get_or_create_workspace(
            session=session, platform=Platform.WEB, external_id=WORKSPACE, name="Web chat"
        )
        assert ws.id is not None
        manager = await get_or_create_person(
            session=session, workspace_id=ws.id, platform_user_id=MANAGER[0],
            display_name=MANAGER[1], email=MANAGER[2], role=Role.MANAGER, locale=locale,
        )
        for demo_rep in REPS:
            user_id = demo_rep.user_id
            rep = await get_or_create_person(
                session=session, workspace_id=ws.id, platform_user_id=user_id,
                display_name=demo_rep.name, email=demo_rep.email, role=Role.REP,
                locale=demo_rep.locale or locale, timezone=demo_rep.timezone,
            )
            assert rep.id is not None
            await update_person(session=session, person_id=rep.id, manager_id=manager.id,
                                display_name=demo_rep.name, email=demo_rep.email)
            rep_locale = rep.locale or locale
            tz = rep.timezone or ctx.default_timezone
            rep_locale = rep_locale if rep_locale in LOCALES else LOCALES[0]
            notes = ctx.texts.data(rep_locale, "demo")
            today = local_today(now, tz)
            for n in range(DEBRIEFS_PER_REP):
                account = ACCOUNTS[(n + len(user_id)) % len(ACCOUNTS)]
                account_id = await get_or_create_account(
                    session=session, workspace_id=ws.id, name=account)
                ratings = {p: _rating(rng, PROFILES[user_id][p]) for p in POINTS}
                outcome = rng.choices(["closed", "next_step", "postponed", "lost"], [2, 5, 2, 1])[0]
                day = working_day(today - timedelta(days=2 + n * 5), ctx.schedule, step=-1)
                when = working_moment(rng, day, tz)
                _, created = await create_debrief(
                    session=session, workspace_id=ws.id, person_id=rep.id, account_id=account_id,
                    idempotency_key=f"demo:{user_id}:{n}", created_at=when,
                    fields=_fields(rng, notes, ratings, outcome, when),
                    answers=[AnswerRow(p, ratings[p], notes["notes"][p] if ratings[p] == "no" else None)
                             for p in POINTS],
                )
                total += int(created)
            await _seed_upcoming(ctx, session, rep.id, tz, rep_locale, ws.id, now)
        await _seed_digest(ctx, session=session, workspace_id=ws.id, manager_id=manager.id, now=now)
    return {"reps": len(REPS), "debriefs": total, "workspace": WORKSPACE}


async def _seed_upcoming(
    ctx: CoachContext, session: AsyncSession, person_id: int, tz: str, locale: str, workspace_id: int,
    now: datetime,
) -> None:
    """Customer meetings on working days of the coming week, with their nudges planned. The same
    day's restart finds them again (the same moments: the generator is seeded with the day)."""
    today = local_today(now, tz)
    rng = random.Random(f"{person_id}:{today.isoformat()}")
    week = [today + timedelta(days=d) for d in range(1, 8)]
    working = [day for day in week if ctx.schedule.is_working_day(day)] or week
    for k, day in enumerate(sorted(rng.sample(working, min(UPCOMING_PER_REP, len(working))))):
        starts = working_moment(rng, day, tz)
        account = ACCOUNTS[(person_id + k) % len(ACCOUNTS)]
        account_id = await get_or_create_account(session=session, workspace_id=workspace_id, name=account)
        await add_meeting(
            session=session, person_id=person_id, account_id=account_id, starts_at=starts,
            source="demo", external_uid=f"demo:next:{starts:%Y%m%dT%H%M}:{account_id}", tz=tz,
            policy=ctx.schedule, now=now,
            title=ctx.texts.render(locale, "demo", "meeting_title", account=account),
        )


def _pick(rng: random.Random, notes: dict[str, Any], key: str) -> str:
    return str(rng.choice(notes[key]))


def _fields(
    rng: random.Random, notes: dict[str, Any], ratings: dict[str, str], outcome: str, when: datetime
) -> dict[str, Any]:
    formal = ratings["opening"] != "yes" and rng.random() < 0.6
    return {
        "outcome": outcome,
        "agenda_set_by": "customer_formal" if formal else rng.choice(["rep_informal", "nobody"]),
        "customer_questions": _pick(rng, notes, "customer_questions"),
        "answers_given": _pick(rng, notes, "answers_given"),
        "customer_tried": _pick(rng, notes, "customer_tried") if ratings["situation"] != "no" else None,
        "supplier_check": "cannot_solve" if ratings["situation"] == "yes" else "not_asked",
        "concessions_asked": _pick(rng, notes, "concessions_asked"),
        "concessions_given": (
            _pick(rng, notes, "concessions_given") if ratings["concessions"] != "yes" else None),
        "concessions_got": (
            _pick(rng, notes, "concessions_got") if ratings["concessions"] == "yes" else None),
        "next_step_what": _pick(rng, notes, "next_step_what") if ratings["next_step"] != "no" else None,
        "next_step_who": _pick(rng, notes, "next_step_who") if ratings["next_step"] == "yes" else None,
        "next_step_due": (when + timedelta(days=7)).date() if ratings["next_step"] != "no" else None,
    }


async def _seed_digest(
    ctx: CoachContext, *, session: AsyncSession, workspace_id: int, manager_id: int | None, now: datetime
) -> None:
    """The team name and the undebriefed meetings of the demo manager's digest. Idempotent."""
    assert manager_id is not None
    await sales_teams.upsert_team(
        session=session, workspace_id=workspace_id, manager_id=manager_id, name=TEAM_NAME
    )
    for user_id, account, days in UNDEBRIEFED:
        rep_id = await directory.person_id_in_workspace(
            session=session, workspace_id=workspace_id, platform_user_id=user_id
        )
        if rep_id is None:
            continue
        tz = next((r.timezone for r in REPS if r.user_id == user_id), None) or ctx.default_timezone
        account_id = await get_or_create_account(
            session=session, workspace_id=workspace_id, name=account
        )
        day = working_day(local_today(now, tz) - timedelta(days=days), ctx.schedule, step=-1)
        starts = at_local(day, FIRST_MEETING, tz)
        await calendars.add_meeting_once(
            session=session,
            workspace_id=workspace_id,
            person_id=rep_id,
            account_id=account_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            source="demo",
            external_uid=f"demo:{user_id}:{account}",
            title=ctx.texts.render(ctx.default_locale, "demo", "meeting_title", account=account),
            now=now,
        )
