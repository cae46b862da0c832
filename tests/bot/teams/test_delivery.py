"""Outbound to the connector: retries on 429/5xx, 403 marks unreachable, proactive sends."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from bot.delivery import SENDERS, DeliveryError, Outgoing
from bot.teams.runtime import TEAMS_POOL
from dialogs.messages import Reply
from storage.models import Person
from tests.bot.teams.conftest import TeamsConversation, TeamsUser, count, person
from tests.fakes.connector import FakeConnector


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
    assert "Tomorrow: Acme" in sent[0].shown and sent[0].authorization is None  # no app id: no token


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
        from storage.people import get_or_create_person, get_or_create_workspace

        ws = await get_or_create_workspace(session=session, platform="teams", external_id="t")
        assert ws.id is not None
        stranger = await get_or_create_person(session=session, workspace_id=ws.id, platform_user_id="x")
    with pytest.raises(DeliveryError) as raised:
        await rep.live.app[SENDERS]["teams"].send(person=stranger, message=Outgoing([Reply(text="Hi")]))
    assert raised.value.unreachable
    assert rep.connector.calls == []


async def test_per_conversation_rate_limit_spaces_messages_out() -> None:
    from bot.teams.connector import TEAMS_LIMITS, ConversationLimiter

    assert TEAMS_LIMITS[0] == (7, 1.0)  # Teams: 7 messages per second per conversation
    limiter = ConversationLimiter(windows=((3, 0.3),))
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire("a:one")
    await limiter.acquire("a:other")  # another conversation is not held up
    assert time.monotonic() - started < 0.2
    await limiter.acquire("a:one")  # the fourth in 0.3 s waits for the window
    assert time.monotonic() - started >= 0.29


class _AppCredentials:
    """Stands in for botbuilder's MicrosoftAppCredentials (which would ask Azure AD for a token)."""

    microsoft_app_id = "6f1d3e5a-0000-4000-8000-00000000c0ac"

    def __init__(self) -> None:
        self.issued = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.issued += 1
        return f"token-{self.issued}"


async def test_outbound_calls_carry_the_bot_token_and_refresh_it_once_on_401(
    connector: FakeConnector,
) -> None:
    from botbuilder.schema import Activity

    from bot.teams.connector import ConnectorPool

    pool = ConnectorPool()
    credentials = _AppCredentials()
    try:
        client = pool.client(connector.url, credentials)
        assert pool.client(connector.url, credentials) is client  # one client per service URL
        connector.fail_next(401)
        await client.conversations.send_to_conversation("a:1", Activity(type="message", text="hi"))
    finally:
        await pool.close()
    assert [(c.status, c.authorization) for c in connector.calls] == [
        (401, "Bearer token-1"), (200, "Bearer token-2")]
