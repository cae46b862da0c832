"""Accounts by name, case and spacing ignored, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage.accounts import account_names, get_or_create_account, recent_account_names
from storage.meetings import upsert_meeting
from storage.models import Account
from tests.factories import make_person, store_debrief
from tests.storage.debrief_rows import count

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.mark.parametrize(
    "spelling", ["acme corp", "ACME CORP", "  Acme   Corp ", "Acme\tCorp", "Acme\u00a0Corp"]
)
async def test_account_names_ignore_case_and_spacing(db, spelling: str) -> None:
    rep = await make_person(db)
    async with db() as session, session.begin():
        first = await get_or_create_account(
            session=session, workspace_id=rep.workspace_id, name="Acme Corp"
        )
        same = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name=spelling)
        other = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name="Acme")
        names = await account_names(session=session, account_ids=[first, other])
    assert first == same != other
    assert names == {first: "Acme Corp", other: "Acme"}  # the first spelling is kept
    elsewhere = await make_person(db, workspace="other")
    async with db() as session, session.begin():
        theirs = await get_or_create_account(
            session=session, workspace_id=elsewhere.workspace_id, name="acme corp"
        )
        assert await account_names(session=session, account_ids=[]) == {}
    assert theirs != first  # workspaces never share accounts


async def test_concurrent_account_creation_makes_one_account(concurrent_db) -> None:
    db = concurrent_db
    rep = await make_person(db)

    async def create(name: str) -> int:
        async with db() as session, session.begin():
            return await get_or_create_account(session=session, workspace_id=rep.workspace_id, name=name)

    ids = await asyncio.gather(create("Globex"), create("globex"), create(" GLOBEX "))
    assert len(set(ids)) == 1
    assert await count(db, Account) == 1


async def test_recent_account_names_are_the_persons_own_most_recent_first(coach, clock) -> None:
    db = coach.db
    rep = await make_person(db)
    colleague = await make_person(db, user_id="U-colleague")
    await store_debrief(coach, rep, account="Acme", next_meeting_at=None)
    clock.advance(days=1)
    await store_debrief(coach, rep, account="Globex", next_meeting_at=None)
    await store_debrief(coach, colleague, account="Initech", next_meeting_at=None)  # not the rep's
    async with db() as session, session.begin():
        umbrella, cancelled = [
            await get_or_create_account(session=session, workspace_id=rep.workspace_id, name=name)
            for name in ("Umbrella", "Hooli")
        ]
        for account_id, uid, gone in ((umbrella, "m1", False), (cancelled, "m2", True)):
            await upsert_meeting(session=session, person=rep, account_id=account_id,
                                 starts_at=clock() + timedelta(days=3), ends_at=None, source="calendar",
                                 external_uid=uid, cancelled=gone)
    async with db() as session:
        names = await recent_account_names(session=session, person_id=rep.id)
        first = await recent_account_names(session=session, person_id=rep.id, limit=1)
    assert names == ["Umbrella", "Globex", "Acme"]  # a cancelled meeting names no account
    assert first == ["Umbrella"]
