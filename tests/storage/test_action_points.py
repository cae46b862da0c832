"""Stored action points: one open point per rep, manager and text, held by the database even when
the same point is sent several times at once; forgetting people never trips over it (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.action_points import (
    ActionPoint,
    ActionStatus,
    Assigned,
    assign_action_point,
    finish_action_point,
)
from storage.data_rights import forget_person
from storage.models import Person
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("database_url")

TWINS = 6


async def assign(db: async_sessionmaker[AsyncSession], rep: Person, manager_id: int | None, text: str,
                 **kw: object) -> Assigned:
    assert rep.id is not None
    async with db() as session, session.begin():
        return await assign_action_point(session=session, workspace_id=rep.workspace_id, person_id=rep.id,
                                         manager_id=manager_id, text=text, **kw)  # type: ignore[arg-type]


async def stored(db: async_sessionmaker[AsyncSession]) -> list[ActionPoint]:
    async with db() as session:
        return list(await session.scalars(sa.select(ActionPoint).order_by(ActionPoint.id)))


async def test_the_same_point_sent_at_once_is_stored_once_and_every_sender_gets_it(concurrent_db) -> None:
    db = concurrent_db
    manager = await make_person(db, user_id="M1", name="Maartje Jansen", role="manager")
    rep = await make_person(db, user_id="R1", manager_id=manager.id)
    assert rep.id is not None

    async def send() -> Assigned:
        async with db() as session, session.begin():
            assigned = await assign_action_point(
                session=session, workspace_id=rep.workspace_id, person_id=rep.id, manager_id=manager.id,
                text="Ask for their agenda", pattern="agenda:customer_formal", point="opening",
            )
            await asyncio.sleep(0.05)  # hold the transaction open while the twins try
            return assigned

    results = await asyncio.gather(*(send() for _ in range(TWINS)))
    (row,) = await stored(db)
    assert {r.point.id for r in results} == {row.id}
    assert sorted(r.created for r in results) == [False] * (TWINS - 1) + [True]
    assert (row.text, row.status, row.pattern) == ("Ask for their agenda", "open", "agenda:customer_formal")
    assert all(r.point.text == "Ask for their agenda" and r.point.status == "open" for r in results)


async def test_a_finished_point_another_text_or_another_rep_is_a_new_point(db) -> None:
    manager = await make_person(db, user_id="M1", name="Maartje Jansen", role="manager")
    sanne = await make_person(db, user_id="R1", manager_id=manager.id)
    tom = await make_person(db, user_id="R2", name="Tom Bakker", manager_id=manager.id)
    first = await assign(db, sanne, manager.id, "Ask for their agenda")
    again = await assign(db, sanne, manager.id, "Ask for their agenda")
    assert (first.created, again.created, again.point.id) == (True, False, first.point.id)
    assert (await assign(db, sanne, manager.id, "Ask for their agenda.")).created
    assert (await assign(db, tom, manager.id, "Ask for their agenda")).created
    async with db() as session, session.begin():
        assert first.point.id is not None and sanne.id is not None
        await finish_action_point(session=session, action_id=first.point.id, by_person_id=sanne.id)
    after_done = await assign(db, sanne, manager.id, "Ask for their agenda")
    assert after_done.created and after_done.point.id != first.point.id
    rows = await stored(db)
    assert [(r.person_id, r.text, r.status) for r in rows] == [
        (sanne.id, "Ask for their agenda", "done"),
        (sanne.id, "Ask for their agenda.", "open"),
        (tom.id, "Ask for their agenda", "open"),
        (sanne.id, "Ask for their agenda", "open"),
    ]


async def test_the_index_refuses_a_second_open_twin_written_past_assign(db) -> None:
    manager = await make_person(db, user_id="M1", name="Maartje Jansen", role="manager")
    rep = await make_person(db, user_id="R1", manager_id=manager.id)
    await assign(db, rep, manager.id, "Ask for their agenda")
    assert rep.id is not None and manager.id is not None
    with pytest.raises(IntegrityError):
        async with db() as session, session.begin():
            session.add(ActionPoint(workspace_id=rep.workspace_id, person_id=rep.id, manager_id=manager.id,
                                    text="Ask for their agenda"))
    async with db() as session, session.begin():  # a finished twin is no open point
        session.add(ActionPoint(workspace_id=rep.workspace_id, person_id=rep.id, manager_id=manager.id,
                                text="Ask for their agenda", status=ActionStatus.CLOSED))
    assert [r.status for r in await stored(db)] == ["open", "closed"]


async def test_forgetting_the_managers_who_set_a_rep_the_same_point_keeps_both(db) -> None:
    """A forgotten manager's points stay with the rep (manager_id NULL): outside the one-per-text
    rule, so forgetting two managers who set the same text never fails, and no point is lost."""
    first = await make_person(db, user_id="M1", name="Maartje Jansen", role="manager")
    second = await make_person(db, user_id="M2", name="Piet Pieters", role="manager")
    rep = await make_person(db, user_id="R1", manager_id=first.id)
    await assign(db, rep, first.id, "Ask for their agenda")
    await assign(db, rep, second.id, "Ask for their agenda")  # after the rep moved to Piet's team
    async with db() as session, session.begin():
        assert first.id is not None and second.id is not None
        await forget_person(session=session, person_id=first.id)
        await forget_person(session=session, person_id=second.id)
    rows = await stored(db)
    assert [(r.manager_id, r.text, r.status) for r in rows] == [(None, "Ask for their agenda", "open")] * 2
    # a point without a manager is never taken for another one's twin
    assert (await assign(db, rep, None, "Ask for their agenda")).created


async def test_forgetting_a_person_named_in_two_points_that_then_read_alike_keeps_one(db) -> None:
    manager = await make_person(db, user_id="M1", name="Maartje Jansen", role="manager")
    rep = await make_person(db, user_id="R1", manager_id=manager.id)
    piet = await make_person(db, user_id="P1", name="Piet Pieters", email="piet@ourco.nl")
    kept = await assign(db, rep, manager.id, "Call Piet Pieters before the demo")
    await assign(db, rep, manager.id, "Call piet@ourco.nl before the demo")
    await assign(db, rep, manager.id, "Ask Piet Pieters for the pricing sheet")
    async with db() as session, session.begin():
        assert piet.id is not None
        await forget_person(session=session, person_id=piet.id)
    rows = await stored(db)
    assert [(r.id, r.text, r.status) for r in rows] == [
        (kept.point.id, "Call before the demo", "open"),
        (rows[1].id, "Ask for the pricing sheet", "open"),
    ]
    async with db() as session:
        assert await session.get(Person, piet.id) is None
