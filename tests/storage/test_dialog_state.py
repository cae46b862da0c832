"""Dialog state with its version check, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from storage.dialog_state import clear_dialog, load_dialog, save_dialog
from storage.models import DialogState
from tests.factories import make_person
from tests.storage.debrief_rows import count

pytestmark = pytest.mark.usefixtures("database_url")


async def test_dialog_save_with_version_check(db) -> None:
    rep = await make_person(db)
    assert rep.id is not None
    kw = {"person_id": rep.id, "channel": "web", "kind": "debrief"}
    async with db() as session, session.begin():
        assert await save_dialog(
            session=session, step="account", data={"a": 1}, expected_version=None, **kw
        )
    async with db() as session, session.begin():
        assert await save_dialog(
            session=session, step="rating:opening", data={"a": 2}, expected_version=1, **kw
        )
        # a second writer that read version 1 too loses
        assert not await save_dialog(session=session, step="x", data={}, expected_version=1, **kw)
    async with db() as session:
        state = await load_dialog(session=session, person_id=rep.id, channel="web")
        assert state is not None
        assert (state.step, state.data, state.version) == ("rating:opening", {"a": 2}, 2)
        assert await load_dialog(session=session, person_id=rep.id, channel="slack") is None
    async with db() as session, session.begin():
        assert not await clear_dialog(
            session=session, person_id=rep.id, channel="web", expected_version=1
        )
        # a new dialog replaces the old one, at version 1
        assert await save_dialog(session=session, step="account", data={}, expected_version=None, **kw)
    assert await count(db, DialogState) == 1
    async with db() as session, session.begin():
        assert await clear_dialog(session=session, person_id=rep.id, channel="web", expected_version=1)
        assert not await clear_dialog(session=session, person_id=rep.id, channel="web")
    assert await count(db, DialogState) == 0


async def test_concurrent_dialog_moves_one_wins(concurrent_db) -> None:
    db = concurrent_db
    rep = await make_person(db)
    assert rep.id is not None
    kw = {"person_id": rep.id, "channel": "web", "kind": "debrief"}
    async with db() as session, session.begin():
        await save_dialog(session=session, step="a", data={}, expected_version=None, **kw)

    async def move(step: str) -> bool:
        async with db() as session, session.begin():
            moved = await save_dialog(
                session=session, step=step, data={"by": step}, expected_version=1, **kw
            )
            await asyncio.sleep(0.05)
            return moved

    assert sorted(await asyncio.gather(move("b"), move("c"))) == [False, True]
    async with db() as session:
        state = await load_dialog(session=session, person_id=rep.id, channel="web")
    assert state is not None and state.version == 2 and state.data == {"by": state.step}
