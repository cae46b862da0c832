"""`meeting tomorrow 10:00` asks which customer; the rep answers with just the name, typed: a known
customer, a name close to one ("did you mean …?"), or a new one, and the meeting is planned as
`meeting Acme tomorrow 10:00` plans it. A command typed instead is that command and the question is
gone; `cancel` says nothing was planned; the question lapses, and once answered a later message is
not a customer's name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dialogs import account_suggestions, button_press, conversation, meeting_question
from dialogs.messages import Reply
from dialogs.text import format_when
from storage.models import Account, Meeting, Outbox
from tests.dialogs.conftest import Chat, ChatFactory

AMS = ZoneInfo("Europe/Amsterdam")
WORD = {"en": "meeting", "nl": "afspraak"}
TOMORROW = {"en": "tomorrow 10:00", "nl": "morgen 10:00"}
STARTS = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # tomorrow 10:00 in Amsterdam (the clock: 30 Nov)
NEXT_WEEK = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 2026-12-07 14:00 in Amsterdam
YES = {"en": "yes", "nl": "ja"}


def meetings_text(chat: Chat, locale: str, key: str, **values: object) -> str:
    return chat.coach.texts.render(locale, "meetings", key, **values)


def shown(locale: str, at: datetime = STARTS) -> str:
    return format_when(at, locale=locale, tz="Europe/Amsterdam")


async def ask(chat: Chat, locale: str) -> Reply:
    """`meeting tomorrow 10:00`: the question, and nothing stored for it."""
    [asked] = await chat.say(f"{WORD[locale]} {TOMORROW[locale]}")
    assert asked.kind == "question" and asked.expect is not None, asked
    return asked


async def planned(chat: Chat) -> list[tuple[str, datetime, str, str]]:
    """The rep's meetings: (customer, start in UTC, source, external uid)."""
    async with chat.coach.db() as session:
        rows = await session.execute(
            sa.select(Account.name, Meeting.starts_at, Meeting.source, Meeting.external_uid)
            .join(Meeting, Meeting.account_id == Account.id)
            .where(Meeting.person_id == chat.person_id, sa.not_(Meeting.cancelled))
            .order_by(Meeting.starts_at))
    return [(name, at.replace(tzinfo=at.tzinfo or UTC).astimezone(UTC), source, uid)
            for name, at, source, uid in rows.all()]


async def messages_of(chat: Chat, starts_at: datetime) -> list[tuple[str, Any, Any, str, str]]:
    """The messages planned around the rep's meeting at `starts_at`, its id left out."""
    async with chat.coach.db() as session:
        meeting_id = await session.scalar(sa.select(Meeting.id).where(
            Meeting.person_id == chat.person_id, Meeting.starts_at == starts_at))
        rows = (await session.scalars(sa.select(Outbox).where(
            Outbox.dedup_key.startswith(f"m{meeting_id}:")))).all()
    return sorted((o.kind, o.due_at, o.expires_at, o.status, o.dedup_key.split(":", 1)[1]) for o in rows)


async def account_names(chat: Chat) -> list[str]:
    async with chat.coach.db() as session:
        return sorted((await session.scalars(sa.select(Account.name))).all())


def without_ids(replies: list[Reply]) -> list[tuple[str, str | None, tuple[str, ...]]]:
    return [(r.kind, r.text, tuple(b.label for b in r.buttons)) for r in replies]


async def assert_not_an_answer(chat: Chat, locale: str, name: str) -> None:
    """The name alone, with no question open: the help for an unknown command."""
    [unknown] = await chat.say(name)
    assert unknown.kind == "help"
    assert unknown.text == chat.coach.texts.message(locale, "unknown_command", text=name)


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_the_bare_name_of_a_known_customer_plans_it_as_the_whole_command_does(
    make_chat: ChatFactory, database_url: str, locale: str
) -> None:
    sanne = await make_chat(locale=locale)
    tom = await make_chat(locale=locale, user_id="U2", name="Tom")
    for chat in (sanne, tom):  # both know Acme from a meeting next week
        await chat.say(f"{WORD[locale]} Acme 2026-12-07 14:00")

    asked = await ask(sanne, locale)
    assert asked.text == meetings_text(sanne, locale, "which_customer", when=shown(locale), offered=True)
    assert [b.label for b in asked.buttons] == ["Acme"]
    answered = await sanne.say("acme")  # typed, in other letters: the known customer
    whole = await tom.say(f"{WORD[locale]} Acme {TOMORROW[locale]}")

    assert answered[0].kind == "saved"
    assert without_ids(answered) == without_ids(whole)
    hers, his = await planned(sanne), await planned(tom)
    assert [m[:3] for m in hers] == [("Acme", STARTS, "manual"), ("Acme", NEXT_WEEK, "manual")]
    assert hers == his  # the same stored meeting (account, start, source, calendar key)
    assert await messages_of(sanne, STARTS) == await messages_of(tom, STARTS) != []
    assert await account_names(sanne) == ["Acme"]  # no second Acme
    assert await sanne.dialog() is None


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_a_near_name_asks_did_you_mean_then_plans_the_one_chosen(
    make_chat: ChatFactory, database_url: str, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    await chat.say(f"{WORD[locale]} Acme Logistics 2026-12-07 14:00")
    texts = chat.coach.texts

    await ask(chat, locale)
    [confirm] = await chat.say("Acme")
    assert confirm.kind == "question"
    assert confirm.text == texts.message(locale, "account_close_one", typed="Acme", known="Acme Logistics")
    assert [b.label for b in confirm.buttons] == [
        "Acme Logistics", texts.message(locale, "button_new_account", typed="Acme")]
    assert len(await planned(chat)) == 1 and await account_names(chat) == ["Acme Logistics"]

    error, again = await chat.say("Globex")  # none of the choices: which ones there are
    assert error.kind == "error" and "Acme Logistics" in (error.text or "")
    assert again.text == confirm.text and len(await planned(chat)) == 1

    [saved] = await chat.say(YES[locale])
    assert saved.kind == "saved" and "Acme Logistics" in (saved.text or "")
    assert [m[:2] for m in await planned(chat)] == [("Acme Logistics", STARTS), ("Acme Logistics", NEXT_WEEK)]
    assert await account_names(chat) == ["Acme Logistics"]


async def test_the_new_customer_button_of_did_you_mean_keeps_the_name_typed(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("meeting Acme Logistics 2026-12-07 14:00")
    await ask(chat, "en")
    await chat.say("Acme")
    new = chat.question.buttons[-1]
    assert new.value == "meeting Acme 2026-12-01 10:00"
    replies = await button_press.press_answer(ctx=chat.coach, person_id=chat.person_id, channel="web",
                                              value=new.value, expect=chat.question.expect or "")
    assert replies[0].kind == "saved"
    assert ("Acme", STARTS) in [m[:2] for m in await planned(chat)]
    assert await account_names(chat) == ["Acme", "Acme Logistics"]


@pytest.mark.parametrize(("locale", "name"), [("en", "Jansen & Zn."), ("nl", "Bakkerij de Vries")])
async def test_a_new_name_becomes_a_customer_with_the_meeting(
    make_chat: ChatFactory, locale: str, name: str
) -> None:
    chat = await make_chat(locale=locale)
    fresh = await make_chat(locale=locale, user_id="U2", name="Tom")
    asked = await ask(chat, locale)
    assert asked.buttons == ()  # no customers yet: nothing to pick
    assert asked.text == meetings_text(chat, locale, "which_customer", when=shown(locale), offered=False)

    answered = await chat.say(name)
    assert without_ids(answered) == without_ids(await fresh.say(f"{WORD[locale]} {name} {TOMORROW[locale]}"))
    assert [m[:2] for m in await planned(chat)] == [(name, STARTS)]
    assert await account_names(chat) == [name]


@pytest.mark.parametrize(("locale", "word"), [
    ("en", "help"), ("en", "history"), ("nl", "hulp"), ("nl", "geschiedenis"), ("en", "team"),
])
async def test_a_command_word_instead_is_that_command_and_drops_the_question(
    make_chat: ChatFactory, locale: str, word: str
) -> None:
    chat = await make_chat(locale=locale)
    fresh = await make_chat(locale=locale, user_id="U2", name="Sanne de Vries")
    await ask(chat, locale)
    replies = await chat.say(word)
    assert without_ids(replies) == without_ids(await fresh.say(word))  # as with no question open
    assert "question" not in chat.kinds
    assert await chat.dialog() is None

    await assert_not_an_answer(chat, locale, "Acme")  # no longer the answer
    assert await planned(chat) == [] and await account_names(chat) == []


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_debrief_instead_starts_the_debrief_which_then_takes_the_name(
    make_chat: ChatFactory, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    await ask(chat, locale)
    await chat.say("debrief")
    assert chat.question.text == chat.coach.texts.message(locale, "ask_account")
    await chat.say("Acme")
    assert chat.reply("info").text == chat.coach.texts.message(locale, "start_debrief", account="Acme")
    assert chat.field == "rating:opening"  # the debrief's first point, not a meeting
    assert await planned(chat) == []


async def test_a_whole_meeting_command_instead_is_planned_and_the_question_dropped(
    make_chat: ChatFactory,
) -> None:
    chat = await make_chat()
    await ask(chat, "en")
    [saved] = await chat.say("meeting Globex 2026-12-03 15:00")
    assert saved.kind == "saved"
    assert [m[:1] for m in await planned(chat)] == [("Globex",)]
    assert await chat.dialog() is None


@pytest.mark.parametrize(("locale", "word"), [("en", "cancel"), ("nl", "annuleer"), ("nl", "stop")])
async def test_cancel_says_nothing_was_planned(make_chat: ChatFactory, locale: str, word: str) -> None:
    chat = await make_chat(locale=locale)
    await ask(chat, locale)
    [stopped] = await chat.say(word)
    assert stopped.text == meetings_text(chat, locale, "question_cancelled")
    assert await planned(chat) == [] and await chat.dialog() is None
    [again] = await chat.say(word)
    assert again.text == chat.coach.texts.message(locale, "nothing_to_cancel")
    [unknown] = await chat.say("Acme")
    assert unknown.kind == "help" and await planned(chat) == []


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_once_answered_a_later_message_is_not_a_customer_name(
    make_chat: ChatFactory, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    await ask(chat, locale)
    [saved] = await chat.say("Acme")
    assert saved.kind == "saved"
    await assert_not_an_answer(chat, locale, "Globex")
    [again] = await chat.say("Acme")  # not a second meeting, nor "already planned"
    assert again.kind == "help"
    assert [m[:2] for m in await planned(chat)] == [("Acme", STARTS)]
    assert await account_names(chat) == ["Acme"]


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_the_question_lapses_and_a_name_typed_later_plans_nothing(
    make_chat: ChatFactory, database_url: str, clock, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    await ask(chat, locale)
    clock.advance(seconds=meeting_question.VALID_FOR.total_seconds() + 60)
    [lapsed] = await chat.say("Acme")
    assert lapsed.text == meetings_text(chat, locale, "question_lapsed", when=shown(locale))
    assert await planned(chat) == [] and await account_names(chat) == []
    assert await chat.dialog() is None
    [unknown] = await chat.say("Acme")
    assert unknown.kind == "help" and await planned(chat) == []


async def test_just_within_the_time_the_name_still_answers(make_chat: ChatFactory, clock) -> None:
    chat = await make_chat()
    await ask(chat, "en")
    clock.advance(minutes=meeting_question.VALID_FOR.total_seconds() / 60)
    [saved] = await chat.say("Acme")
    assert saved.kind == "saved"


async def test_a_name_that_starts_with_a_command_word_answers_when_it_is_a_known_customer(
    make_chat: ChatFactory,
) -> None:
    chat = await make_chat()
    await chat.say("meeting Team Rockit 2026-12-07 14:00")
    await ask(chat, "en")
    [saved] = await chat.say("team rockit")
    assert saved.kind == "saved"
    assert ("Team Rockit", STARTS) in [m[:2] for m in await planned(chat)]


async def test_the_chat_reopened_shows_the_question_and_offers_names_while_typing(
    make_chat: ChatFactory, clock
) -> None:
    chat = await make_chat()
    await chat.say("meeting Acme Logistics 2026-12-07 14:00")
    asked = await ask(chat, "en")
    lead, again = await conversation.welcome(ctx=chat.coach, person_id=chat.person_id, channel="web")
    assert lead.text == meetings_text(chat, "en", "resume_question", when=shown("en"))
    assert (again.text, again.expect, again.buttons) == (asked.text, asked.expect, asked.buttons)
    found = await account_suggestions.suggest_accounts(ctx=chat.coach, person_id=chat.person_id,
                                                       channel="web", typed="acm")
    assert found == account_suggestions.Suggestions(("Acme Logistics",), complete=True)
    found = await account_suggestions.suggest_accounts(ctx=chat.coach, person_id=chat.person_id,
                                                       channel="web", typed="meeting acm")
    assert found.prefix == "meeting " and found.names == ("Acme Logistics",)

    clock.advance(seconds=meeting_question.VALID_FOR.total_seconds() + 60)  # lapsed: a plain welcome
    replies = await conversation.welcome(ctx=chat.coach, person_id=chat.person_id, channel="web")
    assert "question" not in [r.kind for r in replies]


async def test_a_button_of_an_earlier_question_is_not_taken_as_the_name(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("debrief Globex")
    old = chat.question
    await chat.say("cancel")
    asked = await ask(chat, "en")
    replies = await chat.say(old.buttons[0].value, expect=old.expect)
    assert replies[0].text == chat.coach.texts.message("en", "stale_click")
    assert replies[1].expect == asked.expect
    assert await planned(chat) == [] and await account_names(chat) == []
