"""People look-ups and changes (storage.directory) and the web-chat inbox (storage.inbox), on
SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import directory, inbox
from storage.models import Person
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("database_url")

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_people_are_found_by_platform_identity(db):
    boss = await make_person(db, user_id="U0", platform="slack", workspace="T1", email="Mira@Example.com",
                             timezone=None)
    rep = await make_person(db, user_id="U2", platform="slack", workspace="T1", manager_id=boss.id)
    aad = await make_person(db, user_id="aad-1", platform="teams", workspace="tenant",
                            email="olaf@example.com")
    web = await make_person(db, user_id="web:abc", locale="nl")
    async with db() as session:
        assert (await directory.slack_person(session=session, team_id="T1", user_id="U2")).id == rep.id
        assert await directory.slack_person(session=session, team_id="T2", user_id="U2") is None
        assert await directory.web_visitor(session=session, workspace="local", user_id="web:abc") == (
            directory.Visitor(web.id, "nl"))
        assert await directory.web_visitor(session=session, workspace="other", user_id="web:abc") is None
        assert (await directory.teams_person(session=session, who="OLAF@example.com")).id == aad.id
        assert (await directory.teams_person(session=session, who=str(aad.id))).id == aad.id
        assert await directory.teams_person(session=session, who=str(rep.id)) is None
        assert await directory.people_by_email_or_user_id(session=session, who="mira@example.com") == [
            directory.PersonRow(boss.id, boss.workspace_id)]
        first = await directory.first_person_by_email(session=session, email=" MIRA@example.com")
        assert first is not None and first.id == boss.id
        assert await directory.person_id_in_workspace(
            session=session, workspace_id=rep.workspace_id, platform_user_id="U2") == rep.id
        tenant = await directory.workspace_external_id(session=session, workspace_id=aad.workspace_id)
        assert tenant == "tenant"
        found = await directory.people_on_platforms(session=session, emails={"mira@example.com"},
                                                    platform_user_ids={"aad-1"})
        assert sorted((p.id, platform) for p, platform in found) == [(boss.id, "slack"), (aad.id, "teams")]
        assert await directory.managers_with_reps(session=session) == [directory.ManagerZone(boss.id, None)]


async def test_reachability_and_profile_sync(db):
    rep = await make_person(db, user_id="U2", platform="slack", workspace="T1")
    other = await make_person(db, user_id="U3", platform="slack", workspace="T1")
    async with db() as session, session.begin():
        assert await directory.mark_slack_user_departed(session=session, team_id="T1", user_id="U2")
        assert not await directory.mark_slack_user_departed(session=session, team_id="T9", user_id="U2")
        await directory.mark_unreachable(session=session, person_id=other.id)
        await directory.mark_synced(session=session, person_id=rep.id, when=NOW)
    async with db() as session:
        first, second = (await session.get(Person, rep.id)), (await session.get(Person, other.id))
        assert not first.reachable and first.profile_synced_at == NOW and not second.reachable


async def test_inbox_messages_are_handed_out_once(db):
    rep = await make_person(db)
    async with db() as session, session.begin():
        for n in range(3):
            await inbox.add_messages(session=session, person_id=rep.id, messages=[{"text": str(n)}], now=NOW)
    async with db() as session, session.begin():
        assert await inbox.take_unseen(session=session, person_id=rep.id, limit=2, now=NOW) == [
            {"text": "0"}, {"text": "1"}]
    async with db() as session, session.begin():
        assert await inbox.take_unseen(session=session, person_id=rep.id, limit=2, now=NOW) == [{"text": "2"}]
        assert await inbox.take_unseen(session=session, person_id=rep.id, limit=2, now=NOW) == []
