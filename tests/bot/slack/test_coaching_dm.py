"""The tips DM after a Slack debrief: the rep's own words escaped, the recap's mail button, which
Slack opens itself (the bot only acknowledges the click)."""

from __future__ import annotations

import json

from tests.bot.slack.conftest import SlackClient, answers, fill_in, open_modal, settle
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi

EVIL = "<@U123> <!channel> <b>bold</b>"


async def test_a_slack_rep_gets_the_recap_button_and_pressing_it_sends_nothing(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    typed = answers(**{"note:opening": EVIL, "agenda_set_by": None})
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api, "Acme"), typed)
    assert (await slack.submit(view, typed))[0] == 200
    (dm,) = await slack_api.wait_for("chat.postMessage")
    await settle(live_app)
    shown = json.dumps(dm.blocks, ensure_ascii=False)
    assert "<@U123>" not in shown and "&lt;@U123&gt;" in shown
    (link,) = [e for b in dm.blocks if b["type"] == "actions" for e in b["elements"] if "url" in e]
    status, _ = await slack.action(link["action_id"], "")
    assert status == 200
    await settle(live_app)
    assert len(slack_api.to("chat.postMessage")) == 1  # Slack opened the link; the bot said nothing
