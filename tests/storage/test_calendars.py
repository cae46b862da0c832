"""Calendar queries (storage.calendars) on SQLite and on PostgreSQL: accounts by domain, meetings
an import retires, demo meetings inserted once, feeds taken by one caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import calendars
from storage.accounts import get_or_create_account
from storage.models import Meeting
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("database_url")

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _meeting(session, person, account_id: int, *, source: str, uid: str, at: datetime) -> Meeting:
    meeting = Meeting(workspace_id=person.workspace_id, person_id=person.id, account_id=account_id,
                      starts_at=at, ends_at=at + timedelta(hours=1), source=source, external_uid=uid,
                      title="", cancelled=False, created_at=NOW)
    session.add(meeting)
    await session.flush()
    return meeting


async def test_an_account_takes_a_domain_once(db):
    rep = await make_person(db)
    async with db() as session, session.begin():
        acme = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name="Acme")
        assert await calendars.account_by_domain(session=session, workspace_id=rep.workspace_id,
                                                 domain="acme.com") is None
        await calendars.claim_domain(session=session, account_id=acme, domain="acme.com")
        await calendars.claim_domain(session=session, account_id=acme, domain="acme.nl")
        assert await calendars.account_by_domain(session=session, workspace_id=rep.workspace_id,
                                                 domain="acme.com") == acme
        assert await calendars.account_by_domain(session=session, workspace_id=rep.workspace_id,
                                                 domain="acme.nl") is None
        assert await calendars.account_name(session=session, account_id=acme) == "Acme"


async def test_vanished_and_twin_meetings_are_cancelled(db):
    rep = await make_person(db)
    async with db() as session, session.begin():
        acme = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name="Acme")
        kept = await _meeting(session, rep, acme, source="feed:1", uid="a", at=NOW + timedelta(days=1))
        gone = await _meeting(session, rep, acme, source="feed:1", uid="b", at=NOW + timedelta(days=2))
        soon, late = kept.starts_at + timedelta(hours=1), kept.starts_at + timedelta(hours=3)
        typed = await _meeting(session, rep, acme, source="manual", uid="m", at=soon)
        far = await _meeting(session, rep, acme, source="debrief", uid="d", at=late)
        vanished = await calendars.cancel_vanished(session=session, person_id=rep.id, source="feed:1",
                                                   seen={"a"}, since=NOW, until=NOW + timedelta(days=90))
        assert [m.id for m in vanished] == [gone.id] and gone.cancelled and not kept.cancelled
        twins = await calendars.cancel_twins(session=session, meeting=kept, window=timedelta(hours=2))
        assert twins == [typed.id] and typed.cancelled and not far.cancelled


async def test_a_demo_meeting_is_inserted_once(db):
    rep = await make_person(db)
    async with db() as session, session.begin():
        acme = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name="Acme")
        for title in ("first", "second"):
            await calendars.add_meeting_once(
                session=session, workspace_id=rep.workspace_id, person_id=rep.id, account_id=acme,
                starts_at=NOW, ends_at=NOW + timedelta(hours=1), source="demo", external_uid="x",
                title=title, now=NOW,
            )
        titles = [m.title for m in await calendars.cancel_vanished(
            session=session, person_id=rep.id, source="demo", seen=(), since=NOW, until=NOW + timedelta(1))]
    assert titles == ["first"]


async def test_each_due_feed_is_taken_once(db):
    rep = await make_person(db)
    async with db() as session, session.begin():
        first = await calendars.add_feed(session=session, person_id=rep.id, url="https://x/a.ics", now=NOW)
        again = await calendars.add_feed(session=session, person_id=rep.id, url="https://x/a.ics", now=NOW)
        assert first == again
        with pytest.raises(ValueError):
            await calendars.record_poll(session=session, feed_id=first, url="https://elsewhere")
    later = NOW + timedelta(minutes=15)
    async with db() as session, session.begin():
        for expected in ([first], []):
            taken = await calendars.claim_due_feeds(session=session, now=NOW, next_poll_at=later, limit=5)
            assert taken == expected
        await calendars.record_poll(session=session, feed_id=first, last_status=304, next_poll_at=NOW)
    async with db() as session:
        feed = await calendars.get_feed(session=session, feed_id=first)
    assert feed is not None and feed.last_status == 304 and feed.next_poll_at == NOW
