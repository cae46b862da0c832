"""The tips after a Teams card submit go through the outbox: the summary card updates on the turn,
the tips follow once, retried beyond the turn when the connector fails."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.scheduling.scheduler import SchedulerConfig
from storage.models import Outbox
from tests.bot.teams.conftest import TeamsUser, form_values, good_answers
from tests.bot.teams.test_debrief_card import open_details

TIPS = ("For your next meeting", "Opening commitment")


@pytest.fixture
def scheduler_config() -> SchedulerConfig:
    return SchedulerConfig(poll_interval=0.1, backoff_base=timedelta(milliseconds=100))


async def tips_row(rep: TeamsUser) -> Outbox:
    async with rep.live.coach.db() as session:
        return (await session.scalars(sa.select(Outbox).where(Outbox.kind == "debrief_tips"))).one()


def tips_sent(rep: TeamsUser) -> dict[str, int]:
    messages = [c.shown for c in rep.connector.sent()]  # text and card text alike
    return {tip: sum(tip in m for m in messages) for tip in TIPS}


async def test_four_503s_then_the_tips_are_delivered_once(rep: TeamsUser) -> None:
    card_id, card = await open_details(rep)
    rep.connector.fail_next(503, times=4, method="POST")  # every in-process try of one attempt
    assert await rep.submit(card_id, form_values(card, **good_answers())) == 201
    assert len(rep.connector.updates()) == 1  # the summary card, on the turn
    async with asyncio.timeout(15):
        while True:  # the retry waits its backoff, then sends
            if (await tips_row(rep)).status == "sent":
                break
            await asyncio.sleep(0.05)
    await rep.live.outbox_settled()
    await asyncio.sleep(0.5)  # several poll intervals: nothing goes out again
    assert [c.status for c in rep.connector.calls if c.method == "POST"][:4] == [503] * 4
    assert tips_sent(rep) == dict.fromkeys(TIPS, 1)
    row = await tips_row(rep)
    assert row.attempts == 2 and row.payload.keys() == {"debrief_id"}


async def test_a_repeated_submit_plans_no_second_tips(rep: TeamsUser) -> None:
    card_id, card = await open_details(rep)
    values = form_values(card, **good_answers())
    assert await rep.submit(card_id, values) == 201
    assert await rep.submit(card_id, values) == 201
    await asyncio.sleep(0.3)
    assert tips_sent(rep) == dict.fromkeys(TIPS, 1)
    assert (await tips_row(rep)).status == "sent"
