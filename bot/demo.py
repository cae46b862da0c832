"""`coach serve --demo`: a small team with some history, so a newcomer sees a realistic coach."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from dialogs.checklist import POINTS
from dialogs.context import CoachContext
from storage import calendars, directory, sales_teams
from storage.accounts import get_or_create_account
from storage.debriefs import AnswerRow, create_debrief
from storage.models import Platform, Role
from storage.people import get_or_create_person, get_or_create_workspace, update_person

WORKSPACE = "local"
MANAGER = ("demo:manager", "Maartje Jansen", "maartje@example.com")
REPS = (
    ("demo:rep:1", "Sanne de Vries", "sanne@example.com"),
    ("demo:rep:2", "Tom Bakker", "tom@example.com"),
    ("demo:rep:3", "Priya Raman", "priya@example.com"),
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


def _rating(rng: random.Random, p_yes: float) -> str:
    roll = rng.random()
    return "yes" if roll < p_yes else ("partly" if roll < p_yes + (1 - p_yes) / 2 else "no")


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
        for user_id, name, email in REPS:
            rep = await get_or_create_person(
                session=session, workspace_id=ws.id, platform_user_id=user_id,
                display_name=name, email=email, role=Role.REP, locale=locale,
            )
            assert rep.id is not None
            await update_person(session=session, person_id=rep.id, manager_id=manager.id,
                                     display_name=name, email=email)
            for n in range(DEBRIEFS_PER_REP):
                account = ACCOUNTS[(n + len(user_id)) % len(ACCOUNTS)]
                account_id = await get_or_create_account(
                    session=session, workspace_id=ws.id, name=account)
                ratings = {p: _rating(rng, PROFILES[user_id][p]) for p in POINTS}
                outcome = rng.choices(["closed", "next_step", "postponed", "lost"], [2, 5, 2, 1])[0]
                when = now - timedelta(days=2 + n * 5, hours=rng.randint(0, 8))
                _, created = await create_debrief(
                    session=session, workspace_id=ws.id, person_id=rep.id, account_id=account_id,
                    idempotency_key=f"demo:{user_id}:{n}", created_at=when,
                    fields=_fields(rng, ratings, outcome, when),
                    answers=[AnswerRow(p, ratings[p]) for p in POINTS],
                )
                total += int(created)
        await _seed_digest(session=session, workspace_id=ws.id, manager_id=manager.id, now=now)
    return {"reps": len(REPS), "debriefs": total, "workspace": WORKSPACE}


def _fields(rng: random.Random, ratings: dict[str, str], outcome: str, when: Any) -> dict[str, Any]:
    formal = ratings["opening"] != "yes" and rng.random() < 0.6
    return {
        "outcome": outcome,
        "agenda_set_by": "customer_formal" if formal else rng.choice(["rep_informal", "nobody"]),
        "customer_questions": "How long does onboarding take? Who else in our sector uses you?",
        "answers_given": "Six weeks with a pilot team; two references shared after the call.",
        "customer_tried": "An in-house spreadsheet process" if ratings["situation"] != "no" else None,
        "supplier_check": "cannot_solve" if ratings["situation"] == "yes" else "not_asked",
        "concessions_asked": "Their framework agreement and 60-day payment terms",
        "concessions_given": "60-day payment terms" if ratings["concessions"] != "yes" else None,
        "concessions_got": "A signed pilot scope" if ratings["concessions"] == "yes" else None,
        "next_step_what": "Pilot proposal" if ratings["next_step"] != "no" else None,
        "next_step_who": (
            "I send the proposal; they book the IT review" if ratings["next_step"] == "yes" else None
        ),
        "next_step_due": (when + timedelta(days=7)).date() if ratings["next_step"] != "no" else None,
    }


async def _seed_digest(
    *, session: AsyncSession, workspace_id: int, manager_id: int | None, now: datetime
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
        account_id = await get_or_create_account(
            session=session, workspace_id=workspace_id, name=account
        )
        starts = (now - timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
        await calendars.add_meeting_once(
            session=session,
            workspace_id=workspace_id,
            person_id=rep_id,
            account_id=account_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            source="demo",
            external_uid=f"demo:{user_id}:{account}",
            title=f"Meeting with {account}",
            now=now,
        )
