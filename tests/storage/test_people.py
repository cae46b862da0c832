"""Workspaces and people on SQLite and on PostgreSQL (every test runs on both: `database_url`)."""

from __future__ import annotations

import pytest

from storage.errors import NotFound
from storage.models import Person, Workspace
from storage.people import get_or_create_person, get_or_create_workspace, get_person, update_person
from tests.storage.debrief_rows import count

pytestmark = pytest.mark.usefixtures("database_url")


async def test_workspace_and_person_get_or_create(db) -> None:
    async with db() as session, session.begin():
        ws = await get_or_create_workspace(
            session=session, platform="slack", external_id="T1", name="Acme"
        )
        again = await get_or_create_workspace(session=session, platform="slack", external_id="T1")
        teams = await get_or_create_workspace(session=session, platform="teams", external_id="T1")
        assert ws.id == again.id != teams.id
        assert ws.id is not None
        p1 = await get_or_create_person(
            session=session,
            workspace_id=ws.id,
            platform_user_id="U1",
            display_name="Sanne",
            timezone="Europe/Amsterdam",
            locale="nl",
        )
        p2 = await get_or_create_person(
            session=session, workspace_id=ws.id, platform_user_id="U1", display_name="Someone else"
        )
        assert p1.id == p2.id
        assert p2.display_name == "Sanne"  # the first write wins; updates go through update_person
        assert p1.id is not None
        await update_person(session=session, person_id=p1.id, display_name="Sanne de Vries", locale="en")
        with pytest.raises(ValueError, match="cannot update"):
            await update_person(session=session, person_id=p1.id, workspace_id=99)
    async with db() as session:
        person = await get_person(session=session, person_id=p1.id)
        assert (person.display_name, person.locale, person.timezone) == (
            "Sanne de Vries",
            "en",
            "Europe/Amsterdam",
        )
        with pytest.raises(NotFound):
            await get_person(session=session, person_id=123456)
    assert await count(db, Workspace) == 2
    assert await count(db, Person) == 1
