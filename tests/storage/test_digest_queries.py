"""The digest queries: a fixed number of statements, whatever the number of reps or managers."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from dialogs.digest import compute_digests
from storage.digest_queries import Period
from tests.digest_history import add_debrief, add_meeting, at
from tests.factories import make_person


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def _team(db, name: str, reps: int) -> int:
    manager = await make_person(db, user_id=f"{name}-m", name=f"{name} manager", role="manager")
    people = [
        await make_person(db, user_id=f"{name}-{i}", name=f"{name} rep {i}", manager_id=manager.id)
        for i in range(reps)
    ]
    async with db() as s, s.begin():
        for i, rep in enumerate(people):
            for day in range(0, 28, 3):
                await add_debrief(
                    s,
                    rep,
                    f"Account {i % 4}",
                    at(11, 1) + timedelta(days=day, hours=i),
                    "ypnyy"[i % 5 :] + "ypnyy"[: i % 5],
                    "closed" if day % 9 == 0 else "next_step",
                    next_step_due=(at(11, 1) + timedelta(days=day + 7)).date(),
                )
            await add_meeting(s, rep, "Account 9", at(11, 25, 9))
    return manager.id


async def _statements(engine, db, clock, manager_ids, share_notes=False) -> tuple[int, int]:
    with counting(engine) as statements:
        async with db() as session:
            digests = await compute_digests(
                session=session,
                period=Period.ending(clock()),
                manager_ids=manager_ids,
                share_notes=share_notes,
            )
    return len(statements), sum(len(d.reps) for d in digests)


async def test_query_count_does_not_grow_with_reps(engine, db, clock, database_url):
    small = await _team(db, "small", 2)
    large = await _team(db, "large", 12)
    other = await _team(db, "other", 5)
    assert await _statements(engine, db, clock, [small]) == (6, 2)
    assert await _statements(engine, db, clock, [large]) == (6, 12)
    assert await _statements(engine, db, clock, [small, large, other]) == (6, 19)
    assert await _statements(engine, db, clock, None) == (6, 19)  # every manager at once
    assert await _statements(engine, db, clock, [large], share_notes=True) == (7, 12)


async def test_every_rep_missed_the_same_meeting(db, clock):
    manager = await _team(db, "t", 3)
    async with db() as session:
        (digest,) = await compute_digests(
            session=session, period=Period.ending(clock()), manager_ids=[manager]
        )
    assert [len(r.meetings_without_debrief) for r in digest.reps] == [1, 1, 1]
    assert all(r.figures.debriefs == 2 for r in digest.reps)  # 11-23 09:00 .. 11-30 09:00: days 24 and 27
