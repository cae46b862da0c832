"""What the coach sends to Slack: user text inert, 429/5xx retried, deactivated users left alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from bot.delivery import SENDERS, DeliveryError, Outgoing
from dialogs.messages import Reply
from storage.models import Person
from tests.bot.slack.conftest import SlackClient, answers, open_modal, settle
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi

CORPUS = ("<!channel>", "<!here>", "<@U123>", "<https://evil.example|click>")
# Keys whose strings are form data handed back to us, never rendered as message text.
DATA_KEYS = {
    "initial_value",
    "value",
    "private_metadata",
    "action_id",
    "block_id",
    "callback_id",
    "trigger_id",
    "channel",
    "user_id",
    "view_id",
    "token",
}


def rendered_strings(node: Any, key: str = "") -> list[str]:
    if isinstance(node, str):
        if key in DATA_KEYS:
            return []
        try:  # slack_sdk sends some arguments (blocks, view) as JSON strings
            parsed = json.loads(node)
        except ValueError:
            return [node]
        return rendered_strings(parsed, key) if isinstance(parsed, dict | list) else [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in rendered_strings(v, k)]
    if isinstance(node, list):
        return [s for v in node for s in rendered_strings(v, key)]
    return []


async def person(live_app: LiveApp, user: str = "U111") -> Person:
    async with live_app.coach.db() as session:
        return (await session.scalars(sa.select(Person).where(Person.platform_user_id == user))).one()


async def _reachable(live_app: LiveApp) -> bool:
    return (await person(live_app)).reachable


async def test_injection_corpus_is_inert_in_every_outbound_payload(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    evil = " ".join(CORPUS)
    view = await open_modal(slack, slack_api, f"Acme {evil}")
    text_answers = {
        k: f"{v} {evil}"
        for k, v in answers().items()
        if k.startswith("note:")
        or k
        in (
            "customer_questions",
            "answers_given",
            "customer_tried",
            "concessions_asked",
            "concessions_given",
            "concessions_got",
            "next_step_what",
            "next_step_who",
        )
    }
    status, body = await slack.submit(view, answers(**text_answers))
    assert (status, body) == (200, "")
    await slack_api.wait_for("chat.postMessage")
    await slack.command("history")
    _, history = await slack.command("history")
    await slack.options("acme")
    await slack.event({"type": "app_home_opened", "user": "U111", "channel": "D1", "tab": "home"})
    await slack_api.wait_for("views.publish")
    await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": "U111",
            "text": f"debrief {evil}",
            "channel": "D1",
            "ts": "1.2",
        }
    )
    await slack_api.wait_for("chat.postMessage", 2)
    sender = live_app.app[SENDERS]["slack"]
    await sender.send(
        person=await person(live_app), message=Outgoing([Reply(title=evil, text=evil, items=(evil,))])
    )

    payloads: list[Any] = [c.params for c in slack_api.calls] + [json.loads(history)]
    _, options = await slack.options("acme")
    payloads.append(options)
    texts = [s for p in payloads for s in rendered_strings(p)]
    assert any("&lt;!channel&gt;" in s for s in texts)  # the text arrives, escaped
    for s in texts:
        for raw in CORPUS:
            assert raw not in s, f"raw {raw!r} in outbound text {s[:120]!r}"
        assert "<" not in s and ">" not in s, s[:200]


async def test_rate_limited_dm_is_delivered_once_after_retry_after(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await slack.command("help")  # the person exists
    slack_api.fail_next("chat.postMessage", 429, retry_after="1")
    sender = live_app.app[SENDERS]["slack"]
    await sender.send(
        person=await person(live_app), message=Outgoing([Reply(text="Your meeting is at 14:00")])
    )
    tries = slack_api.to("chat.postMessage", ok_only=False)
    assert [c.status for c in tries] == [429, 200]
    assert tries[1].at - tries[0].at >= 1.0


async def test_rate_limited_tips_dm_after_submission_arrives_once(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    slack_api.fail_next("chat.postMessage", 429, retry_after="1")
    status, _ = await slack.submit(view, answers())
    assert status == 200
    await settle(live_app)  # the tips DM, its retry after Slack's Retry-After included, is done
    assert [c.status for c in slack_api.to("chat.postMessage", ok_only=False)] == [429, 200]


async def test_server_errors_are_retried(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await slack.command("help")
    slack_api.fail_next("chat.postMessage", 500)
    sender = live_app.app[SENDERS]["slack"]
    await sender.send(person=await person(live_app), message=Outgoing([Reply(text="hello")]))
    assert [c.status for c in slack_api.to("chat.postMessage", ok_only=False)] == [500, 200]


async def test_persistent_rate_limit_reports_retry_after(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await slack.command("help")
    slack_api.fail_next("chat.postMessage", 429, retry_after="0", times=5)
    sender = live_app.app[SENDERS]["slack"]
    with pytest.raises(DeliveryError) as caught:
        await sender.send(person=await person(live_app), message=Outgoing([Reply(text="hello")]))
    assert caught.value.retry_after == 0 and not caught.value.permanent


async def test_deactivated_user_is_never_messaged_again(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await slack.command("help")
    status, _ = await slack.event(
        {"type": "user_change", "user": {"id": "U111", "team_id": "T111", "deleted": True}}
    )
    assert status == 200
    await settle(live_app)  # the event is handled after the ack
    assert await _reachable(live_app) is False
    sender = live_app.app[SENDERS]["slack"]
    with pytest.raises(DeliveryError) as caught:
        await sender.send(person=await person(live_app), message=Outgoing([Reply(text="hello")]))
    assert caught.value.unreachable and caught.value.permanent
    assert slack_api.to("chat.postMessage") == []


async def test_attachments_are_uploaded_to_the_dm(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    from dialogs.messages import FileAttachment

    await slack.command("help")
    sender = live_app.app[SENDERS]["slack"]
    chart = FileAttachment(
        filename="chart.png", content=b"\x89PNG fake", mime_type="image/png", title="Chart"
    )
    await sender.send(person=await person(live_app), message=Outgoing([Reply(text="digest")], [chart]))
    (complete,) = slack_api.to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "D111"
    assert slack_api.to("upload")


async def test_export_command_puts_the_file_in_the_dm(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    """`/debrief export` answers in place and uploads the rep's data as a file to their DM."""
    view = await open_modal(slack, slack_api, "Acme Export")
    status, _ = await slack.post(slack.submission_body(view, answers()))
    assert status == 200
    status, text = await slack.command("export")
    assert status == 200 and text
    await settle(live_app)  # the file goes to the DM after the answer
    (complete,) = slack_api.to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "D111"
    (upload,) = slack_api.to("upload")
    exported = upload.params["body"]
    assert b"Acme Export" in exported  # the rep's own debrief is in the file
