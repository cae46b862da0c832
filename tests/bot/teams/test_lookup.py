"""The per-activity "who is this" read: the dedicated SQLite connection answers as the session does."""

from __future__ import annotations

import pytest
from botbuilder.schema import Activity

from bot.teams import people
from bot.teams.runtime import TEAMS_LOOKUP
from storage import teams_store
from tests.bot.teams.conftest import TeamsUser, person


async def test_lookup_only_for_a_sqlite_file(tmp_path: object) -> None:
    assert await people.PersonReadConnection.open("sqlite+aiosqlite:///:memory:") is None
    assert await people.PersonReadConnection.open("sqlite+aiosqlite://") is None
    assert await people.PersonReadConnection.open("postgresql+asyncpg://coach@localhost/coach") is None
    lookup = await people.PersonReadConnection.open(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert lookup is not None
    await lookup.close()


async def test_lookup_reads_what_the_session_reads(rep: TeamsUser) -> None:
    assert await rep.say("hello") == 201
    lookup = rep.live.app[TEAMS_LOOKUP]
    activity = Activity().deserialize(rep.activity(text="hello"))
    ctx = rep.live.coach
    who = await people.remember(ctx, activity, lookup=lookup)
    assert who == await people.remember(ctx, activity)
    stored = await person(rep.live, rep.aad)
    assert stored is not None and who.person_id == stored.id

    facts = people._ActivityProfile(
        tenant=people.tenant_of(activity), user=rep.aad, name=rep.name, locale="en",
        client_locale=activity.locale, zone=rep.timezone, kind="personal",
        conversation_id=rep.conversation, service_url=rep.connector.url,
        reference=people.reference_of(activity))
    params = people._lookup_params(facts)
    async with ctx.db() as session:
        expected = tuple((await session.execute(teams_store.PERSON_LOOKUP, params)).one())
    row = await lookup.row(params)
    assert row[5] == expected[5] == people.reference_of(activity)  # the JSON column, decoded
    # SQLite hands booleans back as 0/1; the check only tests their truth.
    truths = [bool(v) if isinstance(e, bool) else v for v, e in zip(row, expected, strict=True)]
    assert truths == list(expected)
    assert await lookup.row({**params, "user": "someone-else"}) is None


async def test_a_broken_lookup_falls_back_to_the_session(rep: TeamsUser) -> None:
    assert await rep.say("hello") == 201
    lookup = rep.live.app[TEAMS_LOOKUP]
    assert lookup._conn is not None
    await lookup._conn.close()  # as if the file went away under it
    assert await rep.say("hello again") == 201
    assert lookup._conn is None  # closed for good; the session answered
    rep.connector.clear()
    assert await rep.say("debrief Acme") == 201
    assert rep.connector.sent()[-1].card is not None


async def test_with_the_switch_off_there_is_no_side_connection(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from storage import sqlite_reader

    monkeypatch.setattr(sqlite_reader, "SIDE_CONNECTION", False)
    assert await people.open_person_reader(f"sqlite+aiosqlite:///{tmp_path}/x.db") is None
