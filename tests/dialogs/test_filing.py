"""A new debrief plans the same rows whichever way it is stored: in one statement on PostgreSQL
(storage.filing) or statement by statement (the general way, and the only one on SQLite)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from dialogs.context import CoachContext
from dialogs.debrief import Rep, store_debrief, submit_debrief
from dialogs.validation import CleanDebrief, Locality, validate_form
from storage.models import Debrief, DebriefAnswer, Meeting, Outbox, Person
from storage.planning_models import SuggestedTactic
from tests.factories import full_form, make_person, statements_sent


def clean(coach: CoachContext, tz: str, **overrides: Any) -> CleanDebrief:
    loc = Locality(locale="en", timezone=tz, now=coach.clock())
    debrief, errors = validate_form(full_form(**overrides), texts=coach.texts, loc=loc)
    assert not errors and debrief is not None
    return debrief


async def general_way(coach: CoachContext, person: Person, debrief: CleanDebrief, key: str) -> None:
    assert person.id is not None
    rep = Rep(
        id=person.id,
        workspace_id=person.workspace_id,
        name=person.display_name,
        locale="en",
        timezone=person.timezone or coach.default_timezone,
        manager_name=None,
    )
    async with coach.db() as session, session.begin():
        await store_debrief(
            session=session,
            rep=rep,
            debrief=debrief,
            idempotency_key=key,
            created_at=coach.clock(),
            schedule=coach.schedule,
        )


async def what_was_planned(coach: CoachContext, person_id: int) -> dict[str, Any]:
    """A person's debriefs, answers, meetings and outbox rows, with the ids the database chose
    replaced by their order (D0, D1 for debriefs, M0, M1 for meetings)."""
    async with coach.db() as session:
        debriefs = (
            await session.scalars(
                sa.select(Debrief).where(Debrief.person_id == person_id).order_by(Debrief.id)
            )
        ).all()
        meetings = (
            await session.scalars(
                sa.select(Meeting).where(Meeting.person_id == person_id).order_by(Meeting.id)
            )
        ).all()
        answers = (
            await session.execute(
                sa.select(
                    DebriefAnswer.debrief_id, DebriefAnswer.point, DebriefAnswer.rating, DebriefAnswer.note
                )
                .join(Debrief, Debrief.id == DebriefAnswer.debrief_id)
                .where(Debrief.person_id == person_id)
                .order_by(DebriefAnswer.debrief_id, DebriefAnswer.point)
            )
        ).all()
        rows = (
            await session.scalars(
                sa.select(Outbox).where(Outbox.person_id == person_id).order_by(Outbox.due_at, Outbox.kind)
            )
        ).all()
    names = {("d", d.id): f"D{i}" for i, d in enumerate(debriefs)}
    names |= {("m", m.id): f"M{i}" for i, m in enumerate(meetings)}

    def key(dedup_key: str) -> str:
        head, _, tail = dedup_key.partition(":")
        return f"{head[0]}<{names[(head[0], int(head[1:]))]}>:{tail}"

    def payload(data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        if "meeting_id" in out:
            out["meeting_id"] = names[("m", out["meeting_id"])]
        if "debrief_id" in out:
            out["debrief_id"] = names[("d", out["debrief_id"])]
        if "suggested" in out:
            out["suggested"] = len(out["suggested"])
        out.pop("account_id", None)
        return out

    return {
        "debriefs": [
            (d.idempotency_key.split(":")[-1], d.next_meeting_at, d.next_step_due, d.created_at)
            for d in debriefs
        ],
        "answers": [(names[("d", a[0])], *a[1:]) for a in answers],
        "meetings": [
            (m.starts_at, m.ends_at, m.source, m.external_uid.split(":")[0], m.title, m.cancelled)
            for m in meetings
        ],
        "outbox": [
            (key(r.dedup_key), r.kind, r.status, r.due_at, r.expires_at, payload(r.payload)) for r in rows
        ],
    }


@pytest.mark.parametrize("told", [True, False], ids=["tz-told", "tz-not-told"])
@pytest.mark.parametrize("tz", ["Europe/Amsterdam", "America/New_York"])
async def test_one_statement_plans_what_the_general_way_plans(
    coach, db, clock, engine, database_url, tz, told
):
    fast = await make_person(db, user_id="UA", timezone=tz)
    slow = await make_person(db, user_id="UB", timezone=tz)
    assert fast.id is not None and slow.id is not None
    first = clean(coach, tz, next_meeting_at="2026-12-02 10:00", next_step_due=None)
    # the first debriefs make the account (the general way on any database), a meeting and tactics
    await submit_debrief(ctx=coach, person_id=fast.id, debrief=first, idempotency_key="a:1")
    await general_way(coach, slow, first, "b:1")
    async with coach.db() as session, session.begin():
        for person in (fast, slow):
            meeting = await session.scalar(sa.select(Meeting).where(Meeting.person_id == person.id))
            assert meeting is not None
            for tactic in ("mirror", "silence"):
                session.add(
                    SuggestedTactic(
                        person_id=person.id,
                        account_id=meeting.account_id,
                        meeting_id=meeting.id,
                        tactic=tactic,
                        suggested_at=clock(),
                    )
                )
    clock.advance(hours=3)

    second = clean(coach, tz, next_meeting_at="2026-12-07 09:30", next_step_due="2026-12-04")
    async with statements_sent(engine) as statements:
        result = await submit_debrief(
            ctx=coach, person_id=fast.id, debrief=second, idempotency_key="a:2", tz=tz if told else None
        )
    await general_way(coach, slow, second, "b:2")

    assert result.created
    if database_url.startswith("postgresql"):
        # one statement; planned in the wrong timezone (not told, not the default) costs one more
        moved = not told and tz != coach.default_timezone
        assert statements == (["WITH", "BEGIN", "INSERT", "COMMIT"] if moved else ["WITH"])
    fast_planned, slow_planned = (
        await what_was_planned(coach, fast.id),
        await what_was_planned(coach, slow.id),
    )
    assert fast_planned == slow_planned
    kinds = sorted(row[1] for row in fast_planned["outbox"] if "<D1>" in row[0] or "<M1>" in row[0])
    assert kinds == [
        "debrief_prompt", "debrief_reminder", "follow_through", "nudge", "prepare", "tactic_feedback"
    ]
    assert [row[-1] for row in fast_planned["outbox"] if row[1] == "tactic_feedback"] == [{"suggested": 2}]
    assert len(fast_planned["answers"]) == 10 and len(fast_planned["meetings"]) == 2


async def test_a_repeat_or_a_new_account_takes_the_general_way(coach, db, database_url):
    rep = await make_person(db)
    assert rep.id is not None
    debrief = clean(coach, "Europe/Amsterdam", next_meeting_at="2026-12-02 10:00")
    one = await submit_debrief(
        ctx=coach, person_id=rep.id, debrief=debrief, idempotency_key="k"
    )  # new account
    again = await submit_debrief(ctx=coach, person_id=rep.id, debrief=debrief, idempotency_key="k")  # a retry
    assert one.created and not again.created and one.debrief_id == again.debrief_id
    planned = await what_was_planned(coach, rep.id)
    assert len(planned["debriefs"]) == 1 and len(planned["meetings"]) == 1
    assert sorted(row[1] for row in planned["outbox"]) == [
        "debrief_prompt",
        "debrief_reminder",
        "follow_through",
        "nudge",
        "prepare",
    ]
    assert planned["meetings"][0][0] == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


POSTGRES_ONLY = [pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
async def test_connections_the_server_dropped_fail_one_debrief_only(coach, db, engine, database_url):
    """The one-statement way runs on the driver's own connection; when the server has ended the
    pooled sessions (a restart), the submission that meets a dead one fails and the pool is renewed,
    so the rep's next try and everyone after are stored."""
    import asyncpg

    rep = await make_person(db)
    assert rep.id is not None
    await submit_debrief(
        ctx=coach, person_id=rep.id, debrief=clean(coach, "Europe/Amsterdam"), idempotency_key="first"
    )  # the account exists from here on

    async def backend() -> int:
        async with engine.connect() as conn:
            await asyncio.sleep(0.05)  # hold it, so the three are different connections
            return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())

    pids = list(set(await asyncio.gather(backend(), backend(), backend())))
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
    finally:
        await admin.close()
    outcomes: list[object] = []
    for attempt in range(4):
        try:
            result = await submit_debrief(
                ctx=coach,
                person_id=rep.id,
                idempotency_key=f"web:{attempt}",
                debrief=clean(coach, "Europe/Amsterdam", next_meeting_at=None),
            )
            outcomes.append(result.created)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError):
            outcomes.append("failed")
    assert outcomes == ["failed", True, True, True]
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Debrief)) == 4
