"""Stored debriefs: idempotent inserts, corrections, newest first (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage.accounts import get_or_create_account
from storage.debriefs import (
    AnswerRow,
    count_debriefs,
    create_debrief,
    get_debrief,
    latest_debriefs,
    update_debrief,
)
from storage.errors import NotFound
from storage.models import Debrief, DebriefAnswer
from tests.factories import make_person
from tests.storage.debrief_rows import ANSWERS, FIELDS, count, new_debrief

pytestmark = pytest.mark.usefixtures("database_url")


async def test_create_debrief_is_idempotent_per_workspace_key(db) -> None:
    rep = await make_person(db)
    first = await new_debrief(db, rep, key="slack:abc")
    async with db() as session, session.begin():
        assert rep.id is not None
        again, created = await create_debrief(
            session=session,
            workspace_id=rep.workspace_id,
            person_id=rep.id,
            account_id=1,
            idempotency_key="slack:abc",
            fields={"outcome": "lost"},
            answers=ANSWERS[:1],
        )
    assert (again, created) == (first, False)
    assert await count(db, Debrief) == 1
    assert await count(db, DebriefAnswer) == 5
    other_ws = await make_person(db, workspace="T2")
    await new_debrief(db, other_ws, key="slack:abc")  # same key, other workspace: a new debrief
    assert await count(db, Debrief) == 2
    async with db() as session:
        stored = await get_debrief(session=session, debrief_id=first, person_id=rep.id)
    assert stored.debrief.outcome == "next_step"


async def test_concurrent_inserts_with_one_key_make_one_row(concurrent_db) -> None:
    db = concurrent_db
    rep = await make_person(db)
    async with db() as session, session.begin():
        account_id = await get_or_create_account(
            session=session, workspace_id=rep.workspace_id, name="Acme"
        )
    started = asyncio.Event()

    async def insert() -> tuple[int, bool]:
        async with db() as session, session.begin():
            assert rep.id is not None
            result = await create_debrief(
                session=session,
                workspace_id=rep.workspace_id,
                person_id=rep.id,
                account_id=account_id,
                idempotency_key="teams:activity-1",
                fields=FIELDS,
                answers=ANSWERS,
            )
            started.set()
            await asyncio.sleep(0.05)  # hold the transaction open while the twin tries
            return result

    results = await asyncio.gather(insert(), insert(), insert())
    assert len({i for i, _ in results}) == 1
    assert sorted(c for _, c in results) == [False, False, True]
    assert await count(db, Debrief) == 1
    assert await count(db, DebriefAnswer) == 5


async def test_update_debrief_keeps_created_at_and_replaces_answers(db) -> None:
    rep = await make_person(db)
    created = datetime(2026, 11, 2, 8, 15, tzinfo=UTC)
    debrief_id = await new_debrief(db, rep, created_at=created)
    assert rep.id is not None
    later = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    async with db() as session, session.begin():
        await update_debrief(
            session=session,
            debrief_id=debrief_id,
            person_id=rep.id,
            updated_at=later,
            fields={"outcome": "closed", "next_meeting_at": None},
            answers=[AnswerRow(a.point, "yes", None) for a in ANSWERS],
        )
    async with db() as session:
        stored = await get_debrief(session=session, debrief_id=debrief_id, person_id=rep.id)
    assert stored.debrief.created_at == created
    assert stored.debrief.updated_at == later
    assert stored.debrief.outcome == "closed" and stored.debrief.next_meeting_at is None
    assert stored.debrief.agenda_set_by == "customer_formal"  # not in `fields`: untouched
    assert {p: (a.rating, a.note) for p, a in stored.answers.items()} == {
        a.point: ("yes", None) for a in ANSWERS
    }
    assert await count(db, DebriefAnswer) == 5
    other = await make_person(db, user_id="U2")
    assert other.id is not None
    async with db() as session, session.begin():
        with pytest.raises(NotFound):
            await update_debrief(
                session=session,
                debrief_id=debrief_id,
                person_id=other.id,
                fields={"outcome": "lost"},
                answers=ANSWERS,
            )
        with pytest.raises(NotFound):
            await get_debrief(session=session, debrief_id=debrief_id, person_id=other.id)


async def test_latest_debriefs_newest_first_own_only(db) -> None:
    rep = await make_person(db)
    other = await make_person(db, user_id="U2")
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    ids = [
        await new_debrief(db, rep, key=f"k{i}", account=f"Account {i}", created_at=base + timedelta(days=i))
        for i in range(7)
    ]
    await new_debrief(db, other, key="theirs", created_at=base + timedelta(days=30))
    assert rep.id is not None
    async with db() as session:
        rows = await latest_debriefs(session=session, person_id=rep.id, limit=5)
        assert await count_debriefs(session=session, person_id=rep.id) == 7
        assert await count_debriefs(session=session) == 8
    assert [r.debrief.id for r in rows] == ids[::-1][:5]
    assert [r.account_name for r in rows] == [f"Account {i}" for i in (6, 5, 4, 3, 2)]
    assert all(set(r.answers) == {a.point for a in ANSWERS} for r in rows)
    assert rows[0].answers["opening"].note == "formal agenda"
