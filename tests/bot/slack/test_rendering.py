"""What Slack users actually see: the rendering corpus through every outbound template and view.

Every text object is plain_text, valid under slack_sdk's models; the only entities are `&amp;`,
`&lt;` and `&gt;` (so nothing can become `<!channel>`, `<@U…>` or `<url|link>`); a cut never
leaves half an entity; the notification text goes with `mrkdwn: false`. One answer is one message.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.delivery import SENDERS, Outgoing
from bot.slack import views
from dialogs.messages import Button, Reply
from dialogs.nudge import MeetingView, compose_nudge
from dialogs.text import default_texts
from storage.models import Debrief, Meeting
from tests.bot.rendering_corpus import CORPUS, ORDINARY, rendered_corpus
from tests.bot.slack.conftest import SlackClient, answers, open_modal
from tests.bot.slack.test_outbound import person
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi

_OTHER_ENTITY = re.compile(r"&(?!(?:amp|lt|gt);)")


def text_objects(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            out.append(node)
        for value in node.values():
            out += text_objects(value)
    elif isinstance(node, list):
        for value in node:
            out += text_objects(value)
    return out


def assert_inert(text: str, where: str = "") -> None:
    assert "<" not in text and ">" not in text, f"{where}: {text[:200]!r}"
    assert not _OTHER_ENTITY.search(text), f"{where}: an entity other than & < >: {text[:200]!r}"


def assert_valid_blocks(blocks: list[Any], where: str = "") -> list[dict[str, Any]]:
    """Blocks that slack_sdk's models accept (limits checked on to_dict and on parsing back)."""
    out = []
    for block in blocks:
        data = block.to_dict() if hasattr(block, "to_dict") else dict(block)
        parsed = Block.parse(data)
        assert parsed is not None, where
        parsed.validate_json()
        out.append(data)
    for obj in text_objects(out):
        assert obj["type"] == "plain_text", f"{where}: {obj}"
        assert_inert(obj["text"], where)
    return out


@pytest.mark.parametrize("value", CORPUS, ids=range(len(CORPUS)))
def test_every_template_with_user_values_renders_inert_blocks(value: str) -> None:
    for name, text in rendered_corpus(value):
        reply = Reply(title=text, text=text, items=(text,), buttons=(Button(text, "x"),))
        blocks = assert_valid_blocks(views.reply_blocks([reply]), name)
        shown = [html.unescape(o["text"]) for o in text_objects(blocks)]
        original = str(text)
        # What the person reads is what was written (cut with "…" only at Slack's limits).
        body = shown[1] if blocks[0]["type"] == "header" else shown[0]
        assert body == original or (body.endswith("…") and original.startswith(body[:-1])), name
        fallback = views.fallback_text([reply])
        assert_inert(fallback, name)
        assert len(fallback) <= views.SECTION_LIMIT
        payload = views.response([reply])
        assert payload["mrkdwn"] is False and payload["text"] == fallback


@pytest.mark.parametrize("limit", [views.HEADER_LIMIT, views.BUTTON_LIMIT, views.SECTION_LIMIT])
def test_a_cut_never_splits_an_entity(limit: int) -> None:
    for pad in range(0, 12):
        for tail in ("&&&&&&", "<<<<<<", ">>>>>>", "R&D <x> " * 3):
            text = "a" * (limit - pad) + tail
            for cut in (views.cut(text, limit), views.plain(text, limit).text or ""):
                assert len(cut) <= limit
                assert not _OTHER_ENTITY.search(cut), f"{pad} {tail!r}: {cut[-12:]!r}"
                assert not re.search(r"&[a-z]{0,3}…$", cut)
                assert html.unescape(cut).rstrip("…") == text[: len(html.unescape(cut).rstrip("…"))]


def test_only_the_three_entities_and_no_mention_or_link() -> None:
    evil = "<!channel> <@U123> <https://evil.example|click> R&D &amp; a_b *x* `c` ~s~"
    (section,) = views.reply_blocks([Reply(text=evil)])
    text = section["text"]
    assert text == {"type": "plain_text", "emoji": False, "text": (
        "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; R&amp;D &amp;amp; "
        "a_b *x* `c` ~s~")}


def _nudge(live_app: LiveApp, value: str) -> list[Reply]:
    from dialogs.debrief import Rep

    ctx = live_app.coach
    now = ctx.clock()
    meeting = Meeting(id=7, workspace_id=1, person_id=1, account_id=1, starts_at=now + timedelta(days=1),
                      external_uid="x")
    last = Debrief(workspace_id=1, person_id=1, account_id=1, idempotency_key="k", outcome="next_step",
                   created_at=now - timedelta(days=6), customer_questions=value, next_step_what=value)
    rep = Rep(id=1, workspace_id=1, name=value, locale="en", timezone="Europe/Amsterdam", manager_name=None)
    return compose_nudge(ctx=ctx, rep=rep, view=MeetingView(meeting, value[:200], None),
                         tactics=["ask_why_now", "add_one_point"], last=last, weak="opening")


async def test_a_nudge_is_one_message_with_blocks(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await slack.command("help")  # the person exists
    before = len(slack_api.to("chat.postMessage"))
    replies = _nudge(live_app, " ".join(CORPUS))
    assert len(replies) == 1  # head, tactics, checks, recap, weakest point: one reply
    await live_app.app[SENDERS]["slack"].send(person=await person(live_app), message=Outgoing(replies))
    calls = slack_api.to("chat.postMessage")[before:]
    assert len(calls) == 1, "the nudge arrives as one message"
    (call,) = calls
    assert call.params["mrkdwn"] in (False, "false", "0")
    assert_inert(str(call.params["text"]), "fallback")
    blocks = assert_valid_blocks(call.blocks, "nudge")
    assert [b["type"] for b in blocks].count("actions") == 1  # the nudge's buttons, once
    assert any("&lt;!channel&gt;" in o["text"] for o in text_objects(blocks))


async def test_the_tips_after_a_debrief_are_one_message(
    slack: SlackClient, slack_api: FakeSlackApi
) -> None:
    evil = "\n".join(CORPUS)
    view = await open_modal(slack, slack_api, ORDINARY)
    status, _ = await slack.submit(view, answers(**{"note:opening": evil}, customer_questions=evil))
    assert status == 200
    (dm,) = await slack_api.wait_for("chat.postMessage")
    assert dm.params["mrkdwn"] in (False, "false", "0")
    blocks = assert_valid_blocks(dm.blocks, "tips")
    shown = "\n".join(html.unescape(o["text"]) for o in text_objects(blocks))
    texts = default_texts()
    assert texts.message("en", "tips_title") in shown and texts.message("en", "saved_title") in shown
    assert f"Your debrief of {ORDINARY} is stored" in shown  # read as typed, nothing added
    assert len(slack_api.to("chat.postMessage")) == 1


async def test_a_slash_command_answer_is_one_payload_without_mrkdwn(slack: SlackClient) -> None:
    status, body = await slack.command("history")
    assert status == 200
    payload = json.loads(body) if isinstance(body, str) else body
    assert payload["mrkdwn"] is False
    assert_valid_blocks(payload["blocks"], "history")


async def test_the_fake_refuses_blocks_slack_refuses(slack_api: FakeSlackApi, http: Any) -> None:
    """The boundary check every message test relies on: Slack's `invalid_blocks`."""
    section = {"type": "section", "text": {"type": "plain_text", "text": "ok"}}
    refused = [
        [section] * 51,  # over 50 blocks
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        [{"type": "section", "text": {"type": "plain_text", "text": "s" * 3001}}],
        [{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b"},
                                           "action_id": f"a{i}"} for i in range(26)]}],
        [{"type": "no_such_block"}],
    ]

    async def post(blocks: list[dict[str, Any]]) -> dict[str, Any]:
        async with http.post(f"{slack_api.api_url}chat.postMessage", json={
            "channel": "U1", "text": "x", "blocks": blocks}, headers={"Authorization": "Bearer xoxb-test"},
        ) as resp:
            answer: dict[str, Any] = await resp.json()
            return answer

    assert (await post([section] * 50))["ok"] is True
    for blocks in refused:
        assert await post(blocks) == {"ok": False, "error": "invalid_blocks"}, blocks[0]["type"]


async def test_a_reply_past_every_limit_is_still_a_message_slack_takes(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await slack.command("help")
    long = "R&D <x> " * 600  # every text over its element's limit once escaped
    reply = Reply(title=long, text="\n".join([long] * 4), items=tuple([long] * 60),
                  buttons=tuple(Button(long, long) for _ in range(30)))
    before = len(slack_api.to("chat.postMessage"))
    await live_app.app[SENDERS]["slack"].send(person=await person(live_app), message=Outgoing([reply] * 3))
    (call,) = slack_api.to("chat.postMessage")[before:]  # accepted: to() lists only what Slack took
    assert len(call.blocks) == 50
    assert_valid_blocks(call.blocks, "past every limit")
