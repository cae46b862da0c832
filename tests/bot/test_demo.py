"""`coach serve --demo`: the seeded team survives restarts unchanged, and a visitor is the demo rep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from bot import demo
from bot.app import COACH, create_app
from bot.config import OrgConfig, Settings
from bot.webchat import routes as webchat
from dialogs.context import CoachContext
from dialogs.text import default_texts
from storage.models import Account, Debrief, DebriefAnswer, Meeting, Outbox, Person, Workspace
from tests.conftest import LiveApp
from tests.factories import FakeClock, make_settings

TEXTS = default_texts()
TABLES = (Workspace, Person, Account, Debrief, DebriefAnswer)


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig) -> Settings:
    return make_settings(tmp_path, org=org, demo=True)


async def _start_and_count(settings: Settings) -> dict[str, int]:
    """Start the app (which seeds), count every table, stop it again."""
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        async with app[COACH].db() as session:
            return {
                t.__name__: int(await session.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
                for t in TABLES
            }
    finally:
        await runner.cleanup()


async def test_seeding_is_idempotent_across_restarts(settings: Settings) -> None:
    first = await _start_and_count(settings)
    assert first == {
        "Workspace": 1,
        "Person": 1 + len(demo.REPS),
        "Account": len(demo.ACCOUNTS),
        "Debrief": len(demo.REPS) * demo.DEBRIEFS_PER_REP,
        "DebriefAnswer": len(demo.REPS) * demo.DEBRIEFS_PER_REP * 5,
    }
    assert await _start_and_count(settings) == first


async def test_the_team_has_a_manager(live_app: LiveApp) -> None:
    async with live_app.coach.db() as session:
        people = {p.platform_user_id: p for p in await session.scalars(sa.select(Person))}
    manager = people[demo.MANAGER[0]]
    assert manager.role == "manager"
    for rep in demo.REPS:
        assert people[rep.user_id].manager_id == manager.id and people[rep.user_id].display_name == rep.name


async def test_a_web_chat_visitor_is_the_demo_rep_and_sees_their_history(
    live_app: LiveApp, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{live_app.url}/webchat/session", json={}) as r:
        body = await r.json()
    first_name = demo.REPS[0].name.split(" ")[0]
    assert body["messages"][0]["text"] == TEXTS.message("en", "welcome", name=first_name)
    async with http.post(f"{live_app.url}/webchat/messages", json={"text": "history"}) as r:
        [listing] = (await r.json())["messages"]
    assert listing["kind"] == "history"
    assert listing["title"] == TEXTS.message("en", "history_title")
    assert len(listing["items"]) == 5  # the newest five of the demo rep's eight
    assert all(any(a in item for a in demo.ACCOUNTS) for item in listing["items"])
    # The newest demo debrief is two days old: still correctable, so it has an edit button.
    assert {"label": TEXTS.message("en", "button_edit", number=1), "value": "edit 1"} in listing["buttons"]
    assert webchat.DEMO_PERSON == demo.REPS[0].user_id
    async with live_app.coach.db() as session:
        visitors = await session.scalar(
            sa.select(sa.func.count()).select_from(Person).where(Person.platform_user_id.like("web:%")))
    assert visitors == 0  # no anonymous person was created next to the demo rep


# -- data that looks real -------------------------------------------------------------------------
@pytest.mark.parametrize("now", [
    datetime(2026, 11, 30, 9, 0, tzinfo=UTC),  # a Monday morning
    datetime(2026, 12, 4, 19, 30, tzinfo=UTC),  # a Friday evening: the next meetings are next week
    datetime(2026, 3, 29, 12, 0, tzinfo=UTC),  # the Sunday clocks go forward in Europe
])
async def test_the_demo_team_works_in_working_hours_in_its_own_language(
    coach: CoachContext, clock: FakeClock, tmp_path: Path, now: datetime
) -> None:
    clock.now = now
    settings = make_settings(tmp_path, database_url="sqlite+aiosqlite://", demo=True)
    await demo.seed_demo(coach, settings)
    policy = coach.schedule
    async with coach.db() as session:
        reps = {p.id: p for p in await session.scalars(
            sa.select(Person).where(Person.platform_user_id.like("demo:rep:%")))}
        debriefs = (await session.scalars(sa.select(Debrief))).all()
        answers = (await session.scalars(sa.select(DebriefAnswer))).all()
        meetings = (await session.scalars(sa.select(Meeting).where(Meeting.starts_at > now))).all()
        planned = {r.dedup_key.split(":")[0] for r in await session.scalars(
            sa.select(Outbox).where(Outbox.kind == "nudge"))}
    assert {p.locale for p in reps.values()} == {"en", "nl"}

    def local(person_id: int, moment: datetime) -> datetime:
        tz = reps[person_id].timezone or coach.default_timezone
        return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(ZoneInfo(tz))

    def in_working_hours(person_id: int, moment: datetime) -> bool:
        at = local(person_id, moment)
        return policy.is_working_day(at.date()) and demo.FIRST_MEETING <= at.time() <= demo.LAST_MEETING

    assert len(debriefs) == len(demo.REPS) * demo.DEBRIEFS_PER_REP
    assert [d.created_at for d in debriefs if not in_working_hours(d.person_id, d.created_at)] == []
    for d in debriefs:  # each rep's notes in their own language
        notes = TEXTS.data(reps[d.person_id].locale or "en", "demo")
        assert d.customer_questions in notes["customer_questions"]
        assert d.next_step_what is None or d.next_step_what in notes["next_step_what"]
    noted = [a for a in answers if a.note]
    assert noted and all(a.rating == "no" for a in noted)

    assert sorted(m.person_id for m in meetings) == sorted(
        [p for p in reps for _ in range(demo.UPCOMING_PER_REP)])
    for m in meetings:
        assert in_working_hours(m.person_id, m.starts_at)
        assert local(m.person_id, m.starts_at).date() - local(m.person_id, now).date() <= timedelta(days=7)
        assert f"m{m.id}" in planned  # its nudge is planned

    await demo.seed_demo(coach, settings)  # a restart the same day adds nothing
    async with coach.db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Meeting).where(
            Meeting.starts_at > now)) == len(meetings)
