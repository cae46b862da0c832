"""Help's groups as each channel shows them: Slack blocks (plain text, a divider between topics,
each topic's title over its items) and a Teams card (Adaptive Cards 1.5, the title bold)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from bot.slack import views
from bot.teams.cards import replies_card
from dialogs import conversation
from dialogs.context import CoachContext
from dialogs.messages import Reply
from tests.bot.slack.test_rendering import assert_valid_blocks
from tests.bot.teams.test_rendering import assert_clean_card, text_blocks
from tests.conftest import shared_path
from tests.factories import make_person


@pytest.fixture
async def help_reply(coach: CoachContext, request: pytest.FixtureRequest) -> Reply:
    manager = await make_person(coach.db, locale=request.param, role="manager")
    assert manager.id is not None
    [reply] = await conversation.reply_to(ctx=coach, person_id=manager.id, channel="web", text="help")
    return reply


@pytest.mark.parametrize("help_reply", ["en", "nl"], indirect=True)
def test_slack_shows_each_group_under_its_title(help_reply: Reply) -> None:
    blocks = assert_valid_blocks(views.reply_blocks([help_reply]), "help")
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"] == help_reply.title
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert [b["type"] for b in blocks].count("divider") == len(help_reply.groups) == 5  # a manager's
    for group, shown in zip(help_reply.groups, sections, strict=True):
        lines = shown.split("\n")
        assert lines[0] == group.title
        assert [line.removeprefix("• ") for line in lines[1:]] == list(group.items)


@pytest.mark.parametrize("help_reply", ["en", "nl"], indirect=True)
def test_teams_shows_each_group_under_its_bold_title(help_reply: Reply) -> None:
    schema = jsonschema.Draft6Validator(json.loads(
        shared_path("oracles", "adaptive-card", "adaptive-card-1.5.json").read_text(encoding="utf-8")))
    card = replies_card([help_reply])
    assert_clean_card(card, schema, "help")
    blocks = card["body"][0]["items"]
    titles = [b["text"] for b in blocks if b.get("weight") == "bolder"][1:]  # after the reply's title
    assert titles == [g.title for g in help_reply.groups]
    shown = text_blocks(card)
    for group in help_reply.groups:
        assert all(f"• {item}" in shown for item in group.items)

