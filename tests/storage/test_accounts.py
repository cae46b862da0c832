"""Accounts by name, case and spacing ignored, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from storage.accounts import account_names, get_or_create_account
from storage.models import Account
from tests.factories import make_person
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
