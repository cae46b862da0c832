"""The preparation in Slack: one message of valid blocks whose buttons choose the rep's own
counter-tactics, as a nudge's buttons work (the words they carry go through the conversation)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from storage.chosen_tactics import ChosenTactic
from tests.bot.slack.conftest import SlackClient
from tests.bot.slack.test_rendering import assert_valid_blocks
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi


async def chosen(live_app: LiveApp, count: int) -> list[ChosenTactic]:
    async with asyncio.timeout(5):
        while True:  # the button's work runs after Slack got its answer
            async with live_app.coach.db() as session:
                rows = list((await session.scalars(sa.select(ChosenTactic).order_by(ChosenTactic.id))).all())
            if len(rows) >= count:
                return rows
            await asyncio.sleep(0.02)


async def test_the_preparations_buttons_choose_two_tactics(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    status, _ = await slack.command("meeting Acme 2031-12-09 14:00")
    assert status == 200
    before = len(slack_api.to("chat.postMessage"))
    await live_app.send_due("prepare")
    (call,) = slack_api.to("chat.postMessage")[before:]
    assert call.params["mrkdwn"] in (False, "false", "0")
    blocks = assert_valid_blocks(call.blocks, "preparation")
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    buttons = actions["elements"]
    assert len(buttons) == 4 and all(b["value"].startswith("nudges pick ") for b in buttons)
    for button in buttons[:2]:
        status, _ = await slack.action(button["action_id"], button["value"])
        assert status == 200
    rows = await chosen(live_app, 2)
    assert [r.tactic for r in rows] == [b["value"].split()[-1] for b in buttons[:2]]
    replies = await slack_api.wait_for("chat.postMessage", before + 3)
    assert buttons[1]["text"]["text"] in str(replies[-1].blocks)  # the answer names the choice
