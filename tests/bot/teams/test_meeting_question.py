"""`meeting tomorrow 10:00` in the Teams chat asks which customer; the name typed next plans the
meeting, and `debrief` typed instead (answered with the debrief card) drops the question, so a
name typed after it plans nothing."""

from __future__ import annotations

import json

import sqlalchemy as sa

from storage.models import Account, Meeting
from tests.bot.teams.conftest import TeamsUser


async def said(rep: TeamsUser, text: str) -> str:
    """What the bot answered to `text` (its activities as JSON)."""
    rep.connector.clear()
    assert await rep.say(text) == 201
    return json.dumps([c.body for c in rep.connector.sent()])


async def customers(rep: TeamsUser) -> list[str]:
    async with rep.live.coach.db() as session:
        rows = await session.scalars(sa.select(Account.name).join(Meeting, Meeting.account_id == Account.id))
        return list(rows.all())


async def test_the_name_typed_in_the_chat_plans_the_meeting(rep: TeamsUser) -> None:
    assert "Which customer" in await said(rep, "meeting tomorrow 10:00")
    assert "Cancel this meeting" in await said(rep, "Jansen & Zn.")
    assert await customers(rep) == ["Jansen & Zn."]


async def test_debrief_in_the_chat_drops_the_question(rep: TeamsUser) -> None:
    await said(rep, "meeting tomorrow 10:00")
    card = await said(rep, "debrief")
    assert "rating:opening" in card  # the debrief card
    assert "I don't know" in await said(rep, "Acme")  # not an answer any more: the help
    assert await customers(rep) == []
