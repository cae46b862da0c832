"""The chat's `meeting`/`afspraak` command stores the account and the moment the rep meant: the
account name stops where the date begins, and a phrase it cannot read whole is refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dialogs import conversation
from storage.models import Account, Meeting
from tests.factories import make_person

AMS = ZoneInfo("Europe/Amsterdam")
THURSDAY = datetime(2026, 10, 22, 9, 0, tzinfo=AMS)


@pytest.mark.parametrize(
    ("locale", "text", "account", "local_start"),
    [
        ("nl", "afspraak Acme vrijdagmiddag 3 uur", "Acme", datetime(2026, 10, 23, 15, 0)),
        ("nl", "afspraak Acme over twee weken op maandag 11:00", "Acme", datetime(2026, 11, 2, 11, 0)),
        ("nl", "afspraak Bakkerij de Vries morgenmiddag om 2 uur", "Bakkerij de Vries",
         datetime(2026, 10, 23, 14, 0)),
        ("en", "meeting Acme tomorrow at 10", "Acme", datetime(2026, 10, 23, 10, 0)),
        ("en", "meeting Acme Corp in two weeks on Monday at 11", "Acme Corp", datetime(2026, 11, 2, 11, 0)),
    ],
)
async def test_the_meeting_is_stored_for_the_account_at_the_moment_meant(
    coach, clock, locale: str, text: str, account: str, local_start: datetime
) -> None:
    clock.now = THURSDAY
    person = await make_person(coach.db, locale=locale)
    replies = await conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)
    assert replies[0].kind == "saved", replies
    async with coach.db() as session:
        stored = (await session.execute(sa.select(Account.name, Meeting.starts_at).join(
            Meeting, Meeting.account_id == Account.id))).all()
    assert len(stored) == 1
    name, starts_at = stored[0]
    assert name == account
    assert starts_at.replace(tzinfo=starts_at.tzinfo or ZoneInfo("UTC")).astimezone(AMS).replace(
        tzinfo=None
    ) == local_start


@pytest.mark.parametrize(
    ("locale", "text"), [("nl", "afspraak Acme vrijdag 3"), ("en", "meeting Acme Friday 3")]
)
async def test_an_unreadable_moment_stores_nothing(coach, clock, locale: str, text: str) -> None:
    clock.now = THURSDAY
    person = await make_person(coach.db, locale=locale)
    replies = await conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)
    assert replies[0].kind == "error"
    said = text.split(" ", 1)[1]
    assert replies[0].text == coach.texts.render(locale, "nudge", "meeting_bad_time", text=said)
    async with coach.db() as session:
        assert (await session.scalars(sa.select(Meeting))).all() == []
