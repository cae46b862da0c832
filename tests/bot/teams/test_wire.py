"""What goes to the connector: the fast JSON of an outgoing activity is exactly msrest's."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import TeamsChannelData, TenantInfo

from bot.delivery import Outgoing
from bot.teams.cards import attachment, reply_activity
from bot.teams.connector import activity_json
from bot.teams.msrest_internals import _NotPlain, model_json
from bot.teams.sender import outgoing_activities
from dialogs.messages import Button, FileAttachment, Reply
from dialogs.text import default_texts
from tests.bot.teams.conftest import payload


def msrest_json(activity: Activity) -> dict[str, Any]:
    """The previous activity_json: msrest for everything but the card content."""
    activity = copy.deepcopy(activity)
    contents = [a.content for a in activity.attachments or []]
    for a in activity.attachments or []:
        a.content = None
    body: dict[str, Any] = activity.serialize()
    for item, content in zip(body.get("attachments", []), contents, strict=True):
        if content is not None:
            item["content"] = content
    return body


CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Hi"}]}


def outgoing() -> list[Activity]:
    replies = [
        Reply(text="Plain *text*\nwith two lines"),
        Reply(title="Tips", text="One\nTwo", items=("a", "b <at>x</at>")),
        Reply(text="Pick one", buttons=(Button("Yes", "yes"), Button("No", "no")), expect="q1"),
    ]
    activities = [reply_activity(r, locale="nl") for r in replies]
    activities.append(MessageFactory.attachment(attachment(CARD)))
    activities.append(MessageFactory.text("hello", speak="hello", input_hint="acceptingInput"))
    activities.append(Activity(type=ActivityTypes.message, text="x", entities=[
        Mention(mentioned=ChannelAccount(id="29:1", name="Megan"), text="<at>Megan</at>", type="mention")],
        channel_data=TeamsChannelData(tenant=TenantInfo(id="t1")),
        suggested_actions=SuggestedActions(actions=[CardAction(type="imBack", title="A", value="a")]),
        attachments=[Attachment(content_type="image/png", content_url="data:image/png;base64,AAAA")],
        value={"nested": [1, 2.5, True, None, {"k": "v"}]}))
    chart = FileAttachment(filename="chart.png", mime_type="image/png", content=b"\x89PNG", title="Chart")
    activities += outgoing_activities(Outgoing([Reply(text="Digest")], attachments=[chart]), "en",
                                      default_texts())
    return activities


@pytest.mark.parametrize("name", ["message-personal.json", "message-channel-mention.json",
                                  "conversationUpdate-bot-added-to-team.json",
                                  "invoke-composeExtension-fetchTask-channel.json"])
def test_replies_in_each_documented_conversation_serialize_as_msrest_does(name: str) -> None:
    incoming = Activity().deserialize(payload(name))
    incoming.timestamp = incoming.local_timestamp = None  # those go to msrest (below)
    reference = TurnContext.get_conversation_reference(incoming)
    for activity in outgoing():
        sent = TurnContext.apply_conversation_reference(copy.deepcopy(activity), reference)
        sent.input_hint = sent.input_hint or "acceptingInput"
        assert activity_json(sent) == msrest_json(sent)
        model_json(_without_content(sent))  # the fast path took it (no _NotPlain)
    # The incoming activities themselves (entities, channel data, extra properties) round-trip too.
    try:
        assert model_json(incoming) == incoming.serialize()
    except _NotPlain:
        assert activity_json(incoming) == msrest_json(incoming)


def test_what_the_fast_path_does_not_take_goes_to_msrest() -> None:
    activity = MessageFactory.text("later")
    activity.timestamp = datetime(2026, 11, 30, 9, 0, 0, 120000, tzinfo=UTC)
    with pytest.raises(_NotPlain):
        model_json(activity)
    body = activity_json(activity)
    assert body == msrest_json(activity) and body["timestamp"].startswith("2026-11-30T09:00:00.12")


def _without_content(activity: Activity) -> Activity:
    activity = copy.deepcopy(activity)
    for a in activity.attachments or []:
        a.content = None
    return activity


def test_with_the_switch_off_msrest_serializes_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.teams import msrest_internals

    calls: list[str] = []
    monkeypatch.setattr(msrest_internals, "FAST_SERIALIZE", False)
    monkeypatch.setattr(msrest_internals, "model_json", lambda model: calls.append("fast") or {})
    for activity in outgoing():
        assert activity_json(activity) == msrest_json(activity)
    assert calls == []
