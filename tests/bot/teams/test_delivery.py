"""Outbound to the connector: retries on 429/5xx, 403 marks unreachable, proactive sends."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from bot.delivery import SENDERS, DeliveryError, Outgoing
from bot.teams import TEAMS_POOL
from dialogs.messages import Reply
from storage.models import Person
from tests.bot.teams.conftest import TeamsConversation, TeamsUser, count, person


async def test_conversation_reference_is_stored_on_every_message(rep: TeamsUser) -> None:
    assert await rep.say("hello") == 201
    assert await count(rep.live, TeamsConversation) == 1
    async with rep.live.coach.db() as session:
        row = await session.scalar(sa.select(TeamsConversation))
    assert row is not None
    assert row.kind == "personal" and row.installed
    assert row.reference["serviceUrl"] == rep.connector.url
    assert row.reference["conversation"]["id"] == rep.conversation
    assert row.reference["user"]["aadObjectId"] == rep.aad
    who = await person(rep.live, rep.aad)
    assert who is not None and row.person_id == who.id and who.locale == "en"


async def test_a_429_then_200_is_delivered_once(rep: TeamsUser) -> None:
    rep.connector.fail_next(429, retry_after="0")
    assert await rep.say("help") == 201
    assert [c.status for c in rep.connector.calls] == [429, 200]
    assert len(rep.connector.sent()) == 1


async def test_5xx_is_retried_with_backoff(rep: TeamsUser) -> None:
    rep.connector.fail_next(503, times=2)
    started = time.monotonic()
    assert await rep.say("help") == 201
    assert [c.status for c in rep.connector.calls] == [503, 503, 200]
    pool = rep.live.app[TEAMS_POOL]
    assert time.monotonic() - started >= pool.backoff * (1 + 2)  # 0.5 s, then 1 s


async def _teams_person(rep: TeamsUser) -> Person:
    assert await rep.say("hello") == 201
    who = await person(rep.live, rep.aad)
    assert who is not None
    rep.connector.clear()
    return who


async def test_proactive_send_continues_the_stored_conversation(rep: TeamsUser) -> None:
    who = await _teams_person(rep)
    sender = rep.live.app[SENDERS]["teams"]
    nudge = Outgoing([Reply(title="Tomorrow: Acme", text="Two counter-tactics")])
    await sender.send(person=who, message=nudge)
    sent = rep.connector.sent()
    assert len(sent) == 1
    assert sent[0].conversation_id == rep.conversation
    assert "Tomorrow: Acme" in sent[0].text and sent[0].authorization is None  # no app id: no token


async def test_proactive_429_then_200_is_delivered_once(rep: TeamsUser) -> None:
    who = await _teams_person(rep)
    rep.connector.fail_next(429, retry_after="0")
    await rep.live.app[SENDERS]["teams"].send(person=who, message=Outgoing([Reply(text="Nudge")]))
    assert [c.status for c in rep.connector.calls] == [429, 200]
    assert len(rep.connector.sent()) == 1


async def test_403_marks_the_person_unreachable(rep: TeamsUser) -> None:
    who = await _teams_person(rep)
    rep.connector.fail_next(403)
    with pytest.raises(DeliveryError) as raised:
        await rep.live.app[SENDERS]["teams"].send(person=who, message=Outgoing([Reply(text="Nudge")]))
    assert raised.value.unreachable and raised.value.permanent
    assert [c.status for c in rep.connector.calls] == [403]  # not retried
    after = await person(rep.live, rep.aad)
    assert after is not None and after.reachable is False
    # Writing to the bot again makes them reachable again.
    assert await rep.say("hello") == 201
    again = await person(rep.live, rep.aad)
    assert again is not None and again.reachable is True


async def test_persistent_500_is_a_retryable_delivery_error(rep: TeamsUser) -> None:
    who = await _teams_person(rep)
    rep.live.app[TEAMS_POOL].backoff = 0.01  # the schedule is tested above; keep this one quick
    rep.connector.fail_next(500, times=4)
    with pytest.raises(DeliveryError) as raised:
        await rep.live.app[SENDERS]["teams"].send(person=who, message=Outgoing([Reply(text="Nudge")]))
    assert not raised.value.permanent and not raised.value.unreachable
    assert [c.status for c in rep.connector.calls] == [500, 500, 500, 500]
    after = await person(rep.live, rep.aad)
    assert after is not None and after.reachable is True


async def test_someone_never_seen_in_teams_is_unreachable(rep: TeamsUser) -> None:
    async with rep.live.coach.db() as session, session.begin():
        from storage import repository as repo

        ws = await repo.get_or_create_workspace(session=session, platform="teams", external_id="t")
        assert ws.id is not None
        stranger = await repo.get_or_create_person(session=session, workspace_id=ws.id, platform_user_id="x")
    with pytest.raises(DeliveryError) as raised:
        await rep.live.app[SENDERS]["teams"].send(person=stranger, message=Outgoing([Reply(text="Hi")]))
    assert raised.value.unreachable
    assert rep.connector.calls == []
