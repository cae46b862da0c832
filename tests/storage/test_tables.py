"""What the tables guarantee on both engines: aware UTC datetimes, cascades, enforced foreign keys."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from storage.debriefs import create_debrief
from storage.dialog_state import save_dialog
from storage.models import Account, Debrief, DebriefAnswer, DialogState, Meeting, Person, Workspace
from tests.factories import make_person
from tests.storage.debrief_rows import ANSWERS, FIELDS, count, new_debrief

pytestmark = pytest.mark.usefixtures("database_url")


async def test_datetimes_round_trip_as_aware_utc(db) -> None:
    rep = await make_person(db)
    local = datetime(2027, 3, 28, 3, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Amsterdam"))  # just after DST
    debrief_id = await new_debrief(db, rep, created_at=local)
    async with db() as session:
        created, meeting = (
            await session.execute(
                sa.select(Debrief.created_at, Debrief.next_meeting_at).where(Debrief.id == debrief_id)
            )
        ).one()
    assert created == local and meeting == FIELDS["next_meeting_at"]
    assert created.tzinfo == UTC and meeting.tzinfo == UTC
    assert created == datetime(2027, 3, 28, 1, 30, 15, 123456, tzinfo=UTC)
    # ordering and comparison happen in UTC in the database too
    async with db() as session:
        found = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Debrief)
            .where(Debrief.created_at > datetime(2027, 3, 28, 2, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))
        )
    assert found == 1
    with pytest.raises(StatementError, match="naive datetime"):
        await new_debrief(db, rep, key="naive", created_at=datetime(2026, 1, 1, 12, 0))


async def test_foreign_key_cascades(db) -> None:
    boss = await make_person(db, user_id="M1", role="manager")
    rep = await make_person(db, manager_id=boss.id)
    debrief_id = await new_debrief(db, rep)
    assert rep.id is not None
    async with db() as session, session.begin():
        meeting = Meeting(
            workspace_id=rep.workspace_id,
            person_id=rep.id,
            account_id=1,
            starts_at=datetime(2026, 12, 8, 13, 0, tzinfo=UTC),
            external_uid="m1",
        )
        session.add(meeting)
        await session.flush()
        await session.execute(
            sa.update(Debrief).where(Debrief.id == debrief_id).values(meeting_id=meeting.id)
        )
        await save_dialog(
            session=session,
            person_id=rep.id,
            channel="web",
            kind="debrief",
            step="a",
            data={},
            expected_version=None,
        )
    # deleting a meeting unlinks the debrief; deleting the manager unlinks the rep
    async with db() as session, session.begin():
        await session.execute(sa.delete(Meeting))
        await session.execute(sa.delete(Person).where(Person.id == boss.id))
    async with db() as session:
        assert await session.scalar(sa.select(Debrief.meeting_id).where(Debrief.id == debrief_id)) is None
        assert await session.scalar(sa.select(Person.manager_id).where(Person.id == rep.id)) is None
    # deleting a debrief takes its answers
    async with db() as session, session.begin():
        await session.execute(sa.delete(Debrief).where(Debrief.id == debrief_id))
    assert await count(db, DebriefAnswer) == 0
    # deleting a workspace takes everything in it
    await new_debrief(db, rep, key="k2")
    async with db() as session, session.begin():
        await session.execute(sa.delete(Workspace))
    for table in (Person, Account, Debrief, DebriefAnswer, DialogState):
        assert await count(db, table) == 0, table.__name__


async def test_foreign_keys_are_enforced(db) -> None:
    rep = await make_person(db)
    assert rep.id is not None
    with pytest.raises(sa.exc.IntegrityError):
        async with db() as session, session.begin():
            await create_debrief(
                session=session,
                workspace_id=rep.workspace_id,
                person_id=rep.id,
                account_id=987654,
                idempotency_key="x",
                fields={"outcome": "lost"},
                answers=ANSWERS,
            )
    assert await count(db, Debrief) == 0
