"""The preparation in Teams: one clean card whose buttons choose the rep's own counter-tactics,
pressed as Teams posts a messageBack (the words and the button's data)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from storage.chosen_tactics import ChosenTactic
from tests.bot.teams.conftest import TeamsUser
from tests.bot.teams.test_rendering import assert_clean_card


async def test_the_preparations_buttons_choose_two_tactics(rep: TeamsUser, card_schema: Any) -> None:
    assert await rep.say("meeting Acme 2031-12-09 14:00") == 201
    rep.connector.clear()
    await rep.live.send_due("prepare")
    (sent,) = rep.connector.sent()
    assert sent.card is not None
    assert_clean_card(sent.card, card_schema, "preparation")
    actions = sent.card["actions"]
    assert len(actions) == 4 and all(a["data"]["text"].startswith("nudges pick ") for a in actions)
    for action in actions[:2]:
        back = action["data"]["msteams"]
        assert await rep.post(rep.activity(text=back["text"], value=back["value"])) is not None
    async with rep.live.coach.db() as session:
        rows = (await session.scalars(sa.select(ChosenTactic).order_by(ChosenTactic.id))).all()
    assert [r.tactic for r in rows] == [a["data"]["text"].split()[-1] for a in actions[:2]]
    assert actions[1]["title"] in rep.connector.sent()[-1].shown
