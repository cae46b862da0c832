"""/debrief over real HTTP: command -> views.open -> submission -> one debrief -> tips DM with Edit."""

from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa
from slack_sdk.models.views import View

from storage.models import Debrief, Person
from tests.bot.slack.conftest import SlackClient, answers, debrief_count, fill_in, open_modal, settle
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi, default_user


async def test_command_opens_a_modal_that_slack_sdk_accepts(
    slack: SlackClient, slack_api: FakeSlackApi
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    View(**view).validate_json()  # raises SlackObjectFormationError on any Block Kit limit
    assert view["type"] == "modal" and view["callback_id"] == "debrief"
    assert json.loads(view["private_metadata"])["account"] == "Acme"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    # The five ratings and the outcome first (the outcome before point 5, which it can answer);
    # each redraws the modal when chosen. No details yet.
    assert [b["block_id"] for b in inputs] == [
        "rating:opening", "rating:interaction", "rating:situation", "rating:concessions", "outcome",
        "rating:next_step",
    ]
    assert all(b.get("dispatch_action") is True for b in inputs)
    concessions = next(b for b in inputs if b["block_id"] == "rating:concessions")
    assert [o["value"] for o in concessions["element"]["options"]] == ["yes", "partly", "no", "none"]
    call = slack_api.to("views.open")[0]
    assert call.params["trigger_id"] == "111.222.trigger"


async def test_submission_stores_one_debrief_and_sends_tips_with_edit(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api, "Acme"), answers())
    status, body = await slack.submit(view, answers())
    assert status == 200 and body == ""  # an empty ack closes the modal
    assert await debrief_count(live_app) == 1
    (dm,) = await slack_api.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U111"
    edit = [
        e
        for b in dm.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "edit_debrief"
    ]
    assert len(edit) == 1
    async with live_app.coach.db() as session:
        stored = (await session.scalars(sa.select(Debrief))).one()
    assert edit[0]["value"] == str(stored.id)
    assert stored.next_meeting_at is not None and stored.next_meeting_at.hour == 13  # 14:00 Amsterdam, UTC


async def test_edit_button_reopens_the_modal_with_stored_answers(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api, "Acme"), answers())
    await slack.submit(view, answers())
    (dm,) = await slack_api.wait_for("chat.postMessage")
    debrief_id = next(e["value"] for b in dm.blocks if b["type"] == "actions" for e in b["elements"]
                          if e["action_id"] == "edit_debrief")  # the recap's mail link is a button too
    status, _ = await slack.action("edit_debrief", debrief_id)
    assert status == 200
    opened = (await slack_api.wait_for("views.open", 2))[1].view
    by_id = {b.get("block_id"): b for b in opened["blocks"]}
    assert by_id["rating:opening"]["element"]["initial_option"]["value"] == "no"
    assert by_id["note:opening"]["element"]["initial_value"] == "Formal agenda by mail."
    assert by_id["next_meeting_time"]["element"]["initial_time"] == "14:00"
    assert json.loads(opened["private_metadata"])["edit_of"] == int(debrief_id)
    # Correcting keeps one debrief and changes its answers.
    status, _ = await slack.submit(opened, answers(**{"rating:opening": "yes"}), view_id="V901")
    assert status == 200
    assert await debrief_count(live_app) == 1
    async with live_app.coach.db() as session:
        stored = (await session.scalars(sa.select(Debrief))).one()
    assert stored.updated_at is not None


async def test_invalid_answers_come_back_inline_per_block(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    bad = answers(account=None, next_meeting_time=None, **{"note:opening": "x" * 2001})
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api, ""), bad)
    status, body = await slack.submit(view, bad)
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"account", "next_meeting_time", "note:opening"}
    # Only the opening rated: every rating still open and the outcome are named, each on its block.
    only = {"account": "Acme", "rating:opening": "yes"}
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api, ""), only)
    _, body = await slack.submit(view, only)
    errors = json.loads(body)["errors"]
    assert set(errors) == {"rating:interaction", "rating:situation", "rating:concessions", "outcome",
                           "rating:next_step"}
    assert set(errors) <= {b.get("block_id") for b in view["blocks"]}
    assert await debrief_count(live_app) == 0
    await settle(live_app)
    assert slack_api.to("chat.postMessage") == []


async def test_errors_are_localised(slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp) -> None:
    slack_api.users["U111"] = {**default_user("U111"), "locale": "nl-NL"}
    view = await open_modal(slack, slack_api, "Acme")
    assert view["submit"]["text"] == "Opslaan"
    _, body = await slack.submit(view, answers(outcome=None))
    assert "Kies" in json.loads(body)["errors"]["outcome"]


async def test_same_submission_three_times_and_twice_concurrently_stores_one(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    for attempt in range(3):
        headers = (
            {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else {}
        )
        status, _ = await slack.post(slack.submission_body(view, answers(), view_id="V777"), headers=headers)
        assert status == 200
    results = await asyncio.gather(*(slack.submit(view, answers(), view_id="V778") for _ in range(2)))
    assert [status for status, _ in results] == [200, 200]
    assert await debrief_count(live_app) == 2  # one per view
    await settle(live_app)
    assert len(slack_api.to("chat.postMessage")) == 2  # and one tips DM each
    async with slack.http.get(f"{live_app.url}/metrics") as resp:
        metrics = await resp.text()
    assert 'coach_debriefs_total{channel="slack",result="stored"} 2.0' in metrics
    assert 'coach_debriefs_total{channel="slack",result="repeat"} 3.0' in metrics


async def test_subcommands_answer_in_place(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    status, body = await slack.command("help")
    assert status == 200
    assert "debrief" in json.dumps(json.loads(body)["blocks"])
    status, body = await slack.command("lang nl")
    assert "Nederlands" in body or "spreek" in body or "Vanaf nu" in body
    async with live_app.coach.db() as session:
        person = (await session.scalars(sa.select(Person).where(Person.platform_user_id == "U111"))).one()
    assert person.locale == "nl"
    status, body = await slack.command("history")
    assert status == 200 and json.loads(body)["blocks"]
    await settle(live_app)
    assert slack_api.to("views.open") == []


async def test_account_select_offers_the_reps_customers_and_a_new_one(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme Corp")
    await slack.submit(view, answers())
    status, body = await slack.options("acm")
    assert status == 200
    values = [o["value"] for o in body["options"]]
    assert values == ["acm", "Acme Corp"]  # new first, then the rep's known customers
    _, body = await slack.options("", user="U222")
    assert body["options"] == []  # another rep's customers are not offered


async def test_dm_debrief_gives_a_button_that_opens_the_modal(
    slack: SlackClient, slack_api: FakeSlackApi
) -> None:
    status, _ = await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": "U111",
            "text": "debrief Acme",
            "channel": "D111",
            "ts": "1.1",
        }
    )
    assert status == 200
    (msg,) = await slack_api.wait_for("chat.postMessage")
    button = next(e for b in msg.blocks if b["type"] == "actions" for e in b["elements"])
    assert button["action_id"] == "open_debrief" and button["value"] == "Acme"
    await slack.action("open_debrief", "Acme")
    (opened,) = await slack_api.wait_for("views.open")
    assert json.loads(opened.view["private_metadata"])["account"] == "Acme"


async def test_other_dm_text_gets_help_and_edit_gets_a_button(
    slack: SlackClient, slack_api: FakeSlackApi
) -> None:
    await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": "U111",
            "text": "thanks!",
            "channel": "D111",
            "ts": "1.1",
        }
    )
    (answer,) = await slack_api.wait_for("chat.postMessage")
    assert "debrief" in json.dumps(answer.blocks)
    view = await open_modal(slack, slack_api, "Acme")
    await slack.submit(view, answers())
    await slack_api.wait_for("chat.postMessage", 2)
    await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": "U111",
            "text": "edit 1",
            "channel": "D111",
            "ts": "1.2",
        }
    )
    edit = (await slack_api.wait_for("chat.postMessage", 3))[2]
    assert [e["action_id"] for b in edit.blocks if b["type"] == "actions" for e in b["elements"]] == [
        "edit_debrief"
    ]


async def test_slacks_retry_of_an_event_is_not_answered_twice(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U111",
        "text": "debrief Acme",
        "channel": "D1",
        "ts": "1.3",
    }
    assert (await slack.event(event))[0] == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await slack.event(event, headers=retry))[0] == 200
    await settle(live_app)
    assert len(slack_api.to("chat.postMessage")) == 1


async def test_debrief_edit_number_opens_the_filled_modal(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    await slack.submit(view, answers())
    status, body = await slack.command("edit 1")
    assert (status, body) == (200, "")
    opened = (await slack_api.wait_for("views.open", 2))[1].view
    assert json.loads(opened["private_metadata"])["edit_of"] is not None
    status, body = await slack.command("edit 7")
    assert status == 200 and "7" in body  # no such debrief: said in place
