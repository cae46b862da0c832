"""`meeting tomorrow 10:00` in the Teams chat asks which customer; the name typed next plans the
meeting, also after a debrief card was asked for in between (the card is a form of its own, not an
answer to the question)."""

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


async def test_the_debrief_card_in_between_leaves_the_question_open(rep: TeamsUser) -> None:
    await said(rep, "meeting tomorrow 10:00")
    card = await said(rep, "debrief")
    assert "rating:opening" in card  # the debrief card
    assert "Cancel this meeting" in await said(rep, "Acme")  # still the answer: planned
    assert await customers(rep) == ["Acme"]
    assert "I don't know" in await said(rep, "Globex")  # answered: a name alone is no answer now
