"""Teams conversation references on both engines (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import teams_store
from tests.factories import make_person


async def test_save_refresh_and_uninstall(database_url: str, db: async_sessionmaker[AsyncSession]) -> None:
    rep = await make_person(db, platform="teams", workspace="tenant-1", user_id="aad-1")
    assert rep.id is not None
    ref = {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba.example/emea/"}
    async with db() as session, session.begin():
        before = await teams_store.save_conversation(
            session=session, workspace_id=rep.workspace_id, person_id=rep.id, conversation_id="a:1",
            kind="personal", service_url=ref["serviceUrl"], reference=ref, client_locale="en-US")
    assert before is None
    async with db() as session, session.begin():
        before = await teams_store.save_conversation(
            session=session, workspace_id=rep.workspace_id, person_id=rep.id, conversation_id="a:1",
            kind="personal", service_url=ref["serviceUrl"], reference=ref, client_locale="nl-NL",
            client_timezone="Europe/Amsterdam")
    assert before == ("en-US", None)
    async with db() as session:
        row = await teams_store.personal_conversation(session=session, person_id=rep.id)
    assert row is not None and row.client_locale == "nl-NL" and row.installed and row.reference == ref

    async with db() as session, session.begin():
        person_id = await teams_store.set_installed(session=session, conversation_id="a:1", installed=False)
    assert person_id == rep.id
    async with db() as session:
        row = await teams_store.personal_conversation(session=session, person_id=rep.id)
    assert row is not None and not row.installed
