"""`meeting` in the chat as a rep types it: a moment without a customer asks which customer, the
list shows every upcoming meeting (or says how many more), and a wrong meeting is cancelled by
number or by its button, with the messages planned around it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dialogs import button_press, conversation, meeting_commands
from dialogs.text import format_when
from storage.models import Account, Meeting, Outbox, OutboxStatus
from tests.factories import make_person, store_debrief

AMS = ZoneInfo("Europe/Amsterdam")
WORD = {"en": "meeting", "nl": "afspraak"}
TOMORROW = {"en": "tomorrow 10:00", "nl": "morgen 10:00"}
CANCEL = {"en": "cancel", "nl": "annuleer"}


def say(coach, person, text: str, expect: str | None = None):
    return conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text, expect=expect)


async def meetings(coach) -> list[tuple[str, datetime, bool]]:
    async with coach.db() as session:
        rows = await session.execute(
            sa.select(Account.name, Meeting.starts_at, Meeting.cancelled)
            .join(Meeting, Meeting.account_id == Account.id).order_by(Meeting.starts_at))
    return [(name, at.replace(tzinfo=at.tzinfo or UTC).astimezone(AMS).replace(tzinfo=None), cancelled)
            for name, at, cancelled in rows.all()]


async def outbox_of(coach, meeting_id: int) -> list[str]:
    async with coach.db() as session:
        rows = await session.scalars(
            sa.select(Outbox.status).where(Outbox.dedup_key.startswith(f"m{meeting_id}:")))
        return list(rows.all())


async def accounts(coach) -> list[str]:
    async with coach.db() as session:
        return list((await session.scalars(sa.select(Account.name).order_by(Account.id))).all())


def text(coach, locale: str, key: str, **values: object) -> str:
    return coach.texts.render(locale, "meetings", key, **values)


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_a_moment_without_a_customer_asks_which_customer(coach, locale: str) -> None:
    person = await make_person(coach.db, locale=locale)
    other = await make_person(coach.db, locale=locale, user_id="U2", name="Tom")
    await say(coach, person, f"{WORD[locale]} Acme Logistics 2026-12-04 14:00")
    await say(coach, other, f"{WORD[locale]} Globex 2026-12-04 15:00")  # Tom's customer, not hers

    [asked] = await say(coach, person, f"{WORD[locale]} {TOMORROW[locale]}")
    when = datetime(2026, 12, 1, 10, 0, tzinfo=AMS)
    assert asked.text == text(coach, locale, "which_customer", offered=True,
                              when=format_when(when, locale=locale, tz="Europe/Amsterdam"))
    assert [b.label for b in asked.buttons] == ["Acme Logistics"]  # her own customers only
    assert await accounts(coach) == ["Acme Logistics", "Globex"]  # no customer called "tomorrow"
    assert len(await meetings(coach)) == 2

    [saved] = await say(coach, person, asked.buttons[0].value)
    assert saved.kind == "saved"
    assert ("Acme Logistics", datetime(2026, 12, 1, 10, 0), False) in await meetings(coach)


@pytest.mark.parametrize(("locale", "typed", "account", "local_start"), [
    ("en", "meeting tomorrow 10:00 Acme", "Acme", datetime(2026, 12, 1, 10, 0)),
    ("nl", "afspraak morgen 10:00 Bakkerij de Vries", "Bakkerij de Vries", datetime(2026, 12, 1, 10, 0)),
    ("nl", "afspraak Bakkerij De Morgen morgen 10 uur", "Bakkerij De Morgen", datetime(2026, 12, 1, 10, 0)),
])
async def test_the_name_is_what_is_not_the_moment(
    coach, locale: str, typed: str, account: str, local_start: datetime
) -> None:
    person = await make_person(coach.db, locale=locale)
    replies = await say(coach, person, typed)
    assert replies[0].kind == "saved", replies
    assert await meetings(coach) == [(account, local_start, False)]


@pytest.mark.parametrize(("locale", "typed"), [
    ("en", "meeting tomorrow Acme 10:00"), ("nl", "afspraak morgen Acme 10:00"),
    ("en", "meeting 10:00 Acme Friday"),
])
async def test_a_moment_on_both_sides_of_the_name_is_refused(coach, locale: str, typed: str) -> None:
    person = await make_person(coach.db, locale=locale)
    [refused] = await say(coach, person, typed)
    assert refused.kind == "error"
    assert refused.text == text(coach, locale, "name_first", text=typed.split(" ", 1)[1])
    assert await meetings(coach) == [] and await accounts(coach) == []


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_meeting_lists_every_upcoming_meeting_or_says_how_many_more(coach, clock, locale: str) -> None:
    person = await make_person(coach.db, locale=locale)
    other = await make_person(coach.db, locale=locale, user_id="U2", name="Tom")
    await say(coach, other, f"{WORD[locale]} Globex 2026-12-02 09:00")
    for day in (3, 4):
        await say(coach, person, f"{WORD[locale]} Customer {day} 2026-12-{day:02d} 11:00")
    listing, hint = await say(coach, person, WORD[locale])
    assert listing.title == coach.texts.render(locale, "nudge", "meetings_title")
    assert [i.split(" · ")[-1] for i in listing.items] == ["Customer 3", "Customer 4"]  # not Tom's
    assert listing.items[0].startswith("1. ")
    assert hint.text == text(coach, locale, "cancel_hint")
    assert [b.label for b in hint.buttons] == [text(coach, locale, "button_cancel", number=n)
                                                 for n in (1, 2)]

    for day in range(5, 17):  # fourteen in all: the list shows ten and says four more
        await say(coach, person, f"{WORD[locale]} Customer {day} 2026-12-{day:02d} 11:00")
    listing, hint = await say(coach, person, WORD[locale])
    rows = listing.items[:-1]
    assert len(rows) == meeting_commands.LIST_SIZE
    assert rows[-1].startswith("10. ") and rows[-1].endswith("Customer 12")
    assert listing.items[-1] == text(coach, locale, "more", count=4)
    assert len(hint.buttons) == meeting_commands.CANCEL_BUTTONS

    clock.now = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)  # all in the past now
    replies = await say(coach, person, WORD[locale])
    assert replies[0].text == coach.texts.render(locale, "nudge", "meetings_none")


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_meeting_cancel_by_number_cancels_it_and_its_nudges(coach, locale: str) -> None:
    person = await make_person(coach.db, locale=locale)
    await say(coach, person, f"{WORD[locale]} Acme 2026-12-03 11:00")
    await say(coach, person, f"{WORD[locale]} tomorrow 2026-12-04 11:00")  # the wrong one
    async with coach.db() as session:
        first, wrong = (await session.scalars(sa.select(Meeting.id).order_by(Meeting.starts_at))).all()
    assert set(await outbox_of(coach, wrong)) == {OutboxStatus.PENDING}

    [cancelled] = await say(coach, person, f"{WORD[locale]} {CANCEL[locale]} 2")
    assert cancelled.kind == "saved"
    assert cancelled.text == text(coach, locale, "cancelled", account="tomorrow",
                                  when=format_when(datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
                                                                locale=locale, tz="Europe/Amsterdam"))
    assert [m[2] for m in await meetings(coach)] == [False, True]
    assert set(await outbox_of(coach, wrong)) == {OutboxStatus.CANCELLED}  # nudge, prompt, reminder
    assert set(await outbox_of(coach, first)) == {OutboxStatus.PENDING}
    listing, _ = await say(coach, person, WORD[locale])
    assert len(listing.items) == 1 and listing.items[0].endswith("Acme")

    [missing] = await say(coach, person, f"{WORD[locale]} {CANCEL[locale]} 2")  # only one left now
    assert missing.kind == "error" and missing.text == text(coach, locale, "cancel_not_found", number=2)
    [usage] = await say(coach, person, f"{WORD[locale]} {CANCEL[locale]}")
    assert usage.text == text(coach, locale, "cancel_usage")


async def test_the_cancel_button_cancels_that_meeting_once_and_only_the_reps_own(coach) -> None:
    person = await make_person(coach.db)
    other = await make_person(coach.db, user_id="U2", name="Tom")
    [saved] = await say(coach, person, "meeting Acme tomorrow 10:00")
    [button] = saved.buttons
    assert button.label == text(coach, "en", "button_cancel_this")
    [theirs] = await say(coach, other, "meeting Globex tomorrow 10:00")

    gone = coach.texts.render("en", "nudge", "gone")
    assert (await say(coach, person, theirs.buttons[0].value))[0].text == gone  # Tom's meeting: no
    assert [m[2] for m in await meetings(coach)] == [False, False]
    assert (await say(coach, person, button.value))[0].kind == "saved"
    assert (await say(coach, person, button.value))[0].text == gone  # a second press changes nothing
    assert sorted(m[2] for m in await meetings(coach)) == [False, True]


async def test_the_cancel_button_mid_debrief_cancels_and_asks_the_open_question_again(coach) -> None:
    person = await make_person(coach.db)
    [saved] = await say(coach, person, "meeting Acme tomorrow 10:00")
    replies = await say(coach, person, "debrief Globex")
    question = replies[-1]
    acted = await button_press.press_command(ctx=coach, person_id=person.id, channel="web",
                                             value=saved.buttons[0].value)
    assert acted[0].kind == "saved" and "Acme" in acted[0].text
    assert acted[1].text == coach.texts.message("en", "back_to_question")
    assert acted[-1].expect == question.expect  # the debrief did not move
    assert [m[2] for m in await meetings(coach)] == [True]


async def test_a_debriefs_accounts_are_offered_too(coach) -> None:
    person = await make_person(coach.db)
    await store_debrief(coach, person, account="Brouwer Bouw", next_meeting_at=None)
    [asked] = await say(coach, person, "meeting tomorrow 10:00")
    assert [b.label for b in asked.buttons] == ["Brouwer Bouw"]
    assert asked.buttons[0].value == "meeting Brouwer Bouw 2026-12-01 10:00"
