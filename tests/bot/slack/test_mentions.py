"""Slack user mentions reach dialogs as user ids, in `team` commands only."""

from __future__ import annotations

import pytest

from bot.slack.mentions import person_references


@pytest.mark.parametrize(
    ("typed", "passed"),
    [
        ("team add <@U123>", "team add U123"),
        ("team <@U123|anna>", "team U123"),
        ("/team remove <@W9>", "/team remove W9"),
        ("team Anna", "team Anna"),
        ("we agreed with <@U123> to call", "we agreed with <@U123> to call"),
    ],
)
def test_person_references(typed: str, passed: str) -> None:
    assert person_references(typed) == passed
