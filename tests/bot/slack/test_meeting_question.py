"""`meeting tomorrow 10:00` in the bot's DM asks which customer; the name typed next in the DM
plans the meeting, also after the debrief form was offered in between (Slack's modal is a form of
its own, not an answer to the question)."""

from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa

from storage.models import Account, Meeting
from tests.bot.slack.conftest import USER, SlackClient
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi


async def dm(slack: SlackClient, slack_api: FakeSlackApi, text: str, answered: str) -> None:
    """The rep writes `text` in the bot's DM; returns once a message of the bot says `answered`
    (the bot's other messages, a preparation sent at once, may come first)."""
    before = len(slack_api.to("chat.postMessage"))
    status, _ = await slack.event(
        {"type": "message", "channel_type": "im", "user": USER, "text": text, "channel": "D111",
         "ts": f"1.{before}"})
    assert status == 200
    for _ in range(100):
        if any(answered in json.dumps(c.blocks) for c in slack_api.to("chat.postMessage")[before:]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer saying {answered!r} to {text!r}")


async def customers(live_app: LiveApp) -> list[str]:
    async with live_app.coach.db() as session:
        rows = await session.scalars(sa.select(Account.name).join(Meeting, Meeting.account_id == Account.id))
        return list(rows.all())


async def test_the_name_typed_in_the_dm_plans_the_meeting(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await dm(slack, slack_api, "meeting tomorrow 10:00", "Which customer")
    await dm(slack, slack_api, "Jansen & Zn.", "Cancel this meeting")
    assert await customers(live_app) == ["Jansen & Zn."]


async def test_the_debrief_form_in_between_leaves_the_question_open(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await dm(slack, slack_api, "meeting tomorrow 10:00", "Which customer")
    await dm(slack, slack_api, "debrief", "open_debrief")
    await dm(slack, slack_api, "Acme", "Cancel this meeting")  # still the answer: planned
    assert await customers(live_app) == ["Acme"]
    await dm(slack, slack_api, "Globex", "I don't know")  # answered: a name alone is no answer now
