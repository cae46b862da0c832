"""Teams `<at>` mentions reach dialogs as the names they show."""

from __future__ import annotations

from bot.teams.mentions import plain_mentions


def test_plain_mentions() -> None:
    assert plain_mentions("team add <at>Megan Bowen</at>") == "team add Megan Bowen"
    assert plain_mentions("<AT>Coach</AT> history") == "Coach history"
    assert plain_mentions("team Anna") == "team Anna"
