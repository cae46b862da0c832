"""The digest queries: a fixed number of statements, whatever the number of reps or managers;
deals as runs of debriefs per rep and account."""

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
    # 6 for the figures and patterns (7 with notes), 4 for the followed action points, deals,
    # evidence and the action points' counts, 1 for the example meetings; on PostgreSQL 1 more,
    # which sets how they are planned
    n = 11 + database_url.startswith("postgresql")
    assert await _statements(engine, db, clock, [small]) == (n, 2)
    assert await _statements(engine, db, clock, [large]) == (n, 12)
    assert await _statements(engine, db, clock, [small, large, other]) == (n, 19)
    assert await _statements(engine, db, clock, None) == (n, 19)  # every manager at once
    assert await _statements(engine, db, clock, [large], share_notes=True) == (n + 1, 12)


async def test_every_rep_missed_the_same_meeting(db, clock):
    manager = await _team(db, "t", 3)
    async with db() as session:
        (digest,) = await compute_digests(
            session=session, period=Period.ending(clock()), manager_ids=[manager]
        )
    assert [len(r.meetings_without_debrief) for r in digest.reps] == [1, 1, 1]
    assert all(r.figures.debriefs == 2 for r in digest.reps)  # 11-23 09:00 .. 11-30 09:00: days 24 and 27


async def test_a_deal_is_a_run_of_debriefs_per_rep_and_account(db, clock, database_url):
    """Runs split per account and per rep; a later conclusion starts a new deal; open runs are no deal."""
    manager = await make_person(db, user_id="m", name="Manager", role="manager")
    ann = await make_person(db, user_id="a", name="Ann", manager_id=manager.id)
    ben = await make_person(db, user_id="b", name="Ben", manager_id=manager.id)
    async with db() as s, s.begin():
        # Ann and Acme: won over three meetings (opening n, y, y: ⅔, went well), then a new deal
        # lost in one (n); Ben and Acme in between: his own run, open (no deal)
        await add_debrief(s, ann, "Acme", at(11, 2), "nyyyy", "next_step")
        await add_debrief(s, ben, "Acme", at(11, 3), "yyyyy", "next_step")
        await add_debrief(s, ann, "Acme", at(11, 9), "yyyyy", "postponed")
        await add_debrief(s, ann, "Beta", at(11, 10), "nnnnn", "lost")  # another account, its own deal
        await add_debrief(s, ann, "Acme", at(11, 24), "yyyyy", "closed")
        await add_debrief(s, ann, "Acme", at(11, 27), "nyyyy", "lost")
    async with db() as session:
        (d,) = await compute_digests(session=session, period=Period.ending(clock()), manager_ids=[manager.id])
    ann_d, ben_d = d.reps
    assert (ann_d.figures.deals.won, ann_d.figures.deals.lost) == (1, 1)  # this period: Acme won, Acme lost
    assert (ben_d.figures.deals.won, ben_d.figures.deals.lost) == (0, 0)
    assert (d.months[-1].deals.won, d.months[-1].deals.lost) == (1, 2)  # November: Beta lost too
    opening = d.evidence["opening"]
    assert (opening.well_won, opening.well_n, opening.weak_won, opening.weak_n) == (1, 1, 0, 2)
    # the meetings that closed this period: Acme closed (won) of Acme closed and Acme lost
    assert (ann_d.figures.closing, ann_d.figures.debriefs) == (1, 2)


def test_storage_knows_the_checklist_points():
    from dialogs.checklist import POINTS
    from storage.rated_debriefs import CHECKLIST_POINTS

    assert CHECKLIST_POINTS == POINTS


async def test_an_old_action_point_is_followed_beyond_the_weekly_grid(db, clock, database_url):
    """An action point set nine weeks ago: the four weeks before it lie outside the eight-week
    grid; they are read for the follow-up only, and the grid stays eight weeks."""
    from storage.action_points import assign_action_point

    manager = await make_person(db, user_id="m", name="Manager", role="manager")
    ann = await make_person(db, user_id="a", name="Ann", manager_id=manager.id)
    async with db() as s, s.begin():
        await add_debrief(s, ann, "Old", at(9, 10), "nyyyy", "next_step", agenda_set_by="customer_formal")
        await add_debrief(s, ann, "Older", at(9, 14), "yyyyy", "next_step", agenda_set_by="rep_informal")
        await add_debrief(s, ann, "New", at(11, 25), "nyyyy", "next_step", agenda_set_by="customer_formal")
        await add_debrief(s, ann, "Newer", at(11, 26), "yyyyy", "next_step", agenda_set_by="rep_informal")
        await add_debrief(s, ann, "Newest", at(11, 27), "yyyyy", "next_step", agenda_set_by="rep_informal")
        await assign_action_point(
            session=s,
            workspace_id=ann.workspace_id,
            person_id=ann.id,
            manager_id=manager.id,
            text="Propose your own agenda",
            pattern="agenda:customer_formal",
            point="opening",
            now=at(9, 28, 9),
        )
    async with db() as session:
        (d,) = await compute_digests(session=session, period=Period.ending(clock()), manager_ids=[manager.id])
    (rep,) = d.reps
    # before: [08-31 09:00, 09-28 09:00) holds Old (customer's agenda) and Older; since: the three
    assert (rep.progress.before.count, rep.progress.before.meetings) == (1, 2)
    assert (rep.progress.since.count, rep.progress.since.meetings) == (1, 3)
    assert [w.debriefs for w in rep.weeks] == [0] * 7 + [3]  # the grid: eight weeks, from 10-05
    assert rep.action_points_open == 1
