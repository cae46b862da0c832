"""The debrief as a chat conversation, on every path, in English and Dutch."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from dialogs.checklist import FIELDS, NOTE_LIMIT
from dialogs.checklist_path import questions
from dialogs.context import CoachContext
from dialogs.debrief import stored_values
from dialogs.help import help_groups
from dialogs.text import format_choices, format_when
from storage.debriefs import StoredDebrief, count_debriefs, latest_debriefs
from storage.models import DebriefAnswer
from storage.people import get_person
from tests.debrief_paths import DUE, path
from tests.dialogs.conftest import Chat, ChatFactory
from tests.factories import make_person


def when_text(moment: datetime, locale: str) -> str:
    return format_when(moment, locale=locale, tz="Europe/Amsterdam")


async def count(chat: Chat) -> int:
    async with chat.coach.db() as session:
        return await count_debriefs(session=session, person_id=chat.person_id)


async def latest(chat: Chat) -> StoredDebrief:
    async with chat.coach.db() as session:
        rows = await latest_debriefs(session=session, person_id=chat.person_id)
    assert rows
    return rows[0]


async def start(chat: Chat, account: str = "Acme") -> None:
    await chat.say(f"debrief {account}")
    assert chat.field == "rating:opening"


# -- the full conversation ------------------------------------------------------------------------
@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_full_conversation_typed_labels(make_chat: ChatFactory, database_url: str, locale: str) -> None:
    chat = await make_chat(locale=locale)
    await chat.say("debrief")
    assert chat.field == "account"
    await chat.say("  Acme   Corp ")
    assert chat.kinds == ["info", "question"]
    assert "Acme Corp" in chat.replies[0].text
    answers = path("longest", locale)
    asked = await chat.answer_all(answers)
    assert chat.kinds == ["info", "saved", "tips", "info"]  # the typed due date echoed first
    assert await chat.dialog() is None

    row = await latest(chat)
    d = row.debrief
    assert asked == questions(stored_values(row))[0], "the rules' questions, in their order"
    assert row.account_name == "Acme Corp"
    assert {p: a.rating for p, a in row.answers.items()} == {
        "opening": "no",
        "interaction": "partly",
        "situation": "partly",
        "concessions": "partly",
        "next_step": "partly",
    }
    assert row.answers["opening"].note == answers["note:opening"]
    assert all(row.answers[p].note is None for p in ("interaction", "situation", "concessions", "next_step"))
    assert d.agenda_set_by == "customer_formal"
    assert d.supplier_check == "not_asked"
    assert d.customer_questions == answers["customer_questions"]
    assert d.concessions_got == answers["concessions_got"]
    assert d.next_step_due == DUE
    assert d.next_meeting_at is None and d.next_step_who is None
    assert d.outcome == "postponed"
    assert d.created_at == chat.coach.clock()

    # the coaching answers in the rep's language, aimed at the opening (no: the customer set the
    # agenda and opened with a demand) then the situation (postponed), quoting what the rep typed
    texts = chat.coach.texts
    tips = chat.reply("tips")
    assert tips.title == texts.message(locale, "tips_title")
    assert tips.meta["rules"] == ["opening_formal_agenda_with_demand", "situation_postponed"]
    assert tips.meta["points"] == ["opening", "situation"]
    assert answers["concessions_asked"] in tips.items[0]
    assert answers["customer_tried"].rstrip(".") in tips.items[2]
    assert chat.reply("saved").text == texts.message(
        locale, "saved", account="Acme Corp", when=when_text(chat.coach.clock(), locale)
    )


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_buttons_pressed_by_their_label(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    await start(chat)
    presses = {
        "rating:opening": texts.rating(locale, "yes"),
        "agenda_set_by": texts.choice(locale, "agenda_set_by", "rep_informal"),
        "rating:interaction": texts.rating(locale, "partly"),
        "rating:situation": texts.rating(locale, "partly"),
        "supplier_check": texts.choice(locale, "supplier_check", "cannot_solve"),
        "rating:concessions": texts.rating(locale, "no"),
        "outcome": texts.choice(locale, "outcome", "closed"),  # answers the next-step point too
    }
    skip = texts.message(locale, "button_skip")
    while chat.kinds[-1] == "question":
        field = chat.field
        await chat.press(presses.get(field, skip))
        assert "error" not in chat.kinds, (field, chat.replies)
    assert chat.kinds == ["saved", "tips", "info"]
    row = await latest(chat)
    assert row.debrief.agenda_set_by == "rep_informal"
    assert row.debrief.supplier_check == "cannot_solve"
    assert row.debrief.outcome == "closed"
    assert row.answers["concessions"].rating == "no"
    assert row.debrief.next_meeting_at is None and row.debrief.customer_tried is None


async def test_labels_of_the_other_language_and_numbers(make_chat: ChatFactory) -> None:
    chat = await make_chat(locale="en")
    await start(chat)
    await chat.answer(
        {
            "rating:opening": "Deels",
            "agenda_set_by": "eigenlijk NIEMAND",
            "note:opening": "/skip",
            "rating:interaction": "3",
        }
    )
    await chat.answer(
        {f.key: "/skip" for f in FIELDS if not f.required}
        | {
            "rating:situation": "2",
            "supplier_check": "2",
            "rating:concessions": "nee",
            "rating:next_step": "Ja",
            "outcome": "4",
        }
    )
    assert chat.kinds == ["saved", "tips", "info"]
    row = await latest(chat)
    assert {p: a.rating for p, a in row.answers.items()} == {
        "opening": "partly",
        "interaction": "no",
        "situation": "partly",
        "concessions": "no",
        "next_step": "yes",  # asked: a lost deal does not answer it
    }
    assert row.debrief.agenda_set_by == "nobody"
    assert row.debrief.supplier_check == "could_solve"
    assert row.debrief.outcome == "lost"


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_a_rating_cannot_be_skipped_or_guessed(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    await start(chat)
    texts = chat.coach.texts
    for typed in ("/skip", "maybe", "4", ""):
        await chat.say(typed)
        assert chat.kinds == ["error", "question"]
        labels = format_choices((texts.rating(locale, r) for r in ("yes", "partly", "no")), locale=locale)
        assert chat.replies[0].text == texts.message(locale, "pick_one", choices=labels)
        assert chat.field == "rating:opening"


# -- correcting a debrief -------------------------------------------------------------------------
async def finish_quickly(chat: Chat, account: str = "Acme", **answers: str) -> None:
    await start(chat, account)
    plan = {f.key: "/skip" for f in FIELDS if not f.required}
    plan |= {
        "rating:opening": "yes",
        "rating:interaction": "yes",
        "rating:situation": "yes",
        "rating:concessions": "yes",
        "rating:next_step": "yes",
        "outcome": "closed",
    }
    plan |= {k.replace("__", ":"): v for k, v in answers.items()}
    await chat.answer(plan)
    assert chat.kinds[-3:] == ["saved", "tips", "info"], chat.replies


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_edit_within_the_window_keeps_created_at(make_chat: ChatFactory, clock, locale: str) -> None:
    chat = await make_chat(locale=locale)
    await finish_quickly(chat, rating__situation="no", next_meeting_at="3 December 2026 10:00")
    original = await latest(chat)
    clock.advance(days=6, hours=23)
    await chat.say("history")
    assert chat.reply("history").buttons[0].value == "edit 1"
    await chat.say("edit 1" if locale == "en" else "wijzig 1")
    texts = chat.coach.texts
    assert chat.field == "edit_part"
    await chat.press(texts.point(locale, "situation", "title"))
    assert chat.field == "rating:situation"
    assert texts.message(locale, "current_value", value=texts.rating(locale, "no")) in chat.question.text
    asked = await chat.answer_all({
        "rating:situation": texts.rating(locale, "partly"),
        "customer_tried": "Spreadsheets and a consultant",
        "supplier_check": "/skip",
    })
    assert asked == ["rating:situation", "customer_tried", "supplier_check"]
    assert chat.kinds == ["saved", "tips", "info"]
    when = when_text(original.debrief.created_at, locale)
    assert chat.reply("saved").text == texts.message(locale, "updated", account="Acme", when=when)

    assert await count(chat) == 1
    edited = await latest(chat)
    assert edited.debrief.id == original.debrief.id
    assert edited.debrief.created_at == original.debrief.created_at
    assert edited.debrief.updated_at == clock()
    assert edited.answers["situation"].rating == "partly"
    assert edited.debrief.customer_tried == "Spreadsheets and a consultant"
    # everything kept is unchanged, including the typed meeting time and the other ratings
    assert (
        edited.debrief.next_meeting_at
        == original.debrief.next_meeting_at
        == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    )
    assert edited.debrief.outcome == "closed"
    assert {p: a.rating for p, a in edited.answers.items() if p != "situation"} == {
        p: a.rating for p, a in original.answers.items() if p != "situation"
    }


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_edit_refused_after_the_window(make_chat: ChatFactory, clock, locale: str) -> None:
    chat = await make_chat(locale=locale)
    await finish_quickly(chat)
    original = await latest(chat)
    clock.advance(days=7, minutes=1)
    await chat.say("history")
    assert chat.reply("history").buttons == ()
    await chat.say("edit 1")
    texts = chat.coach.texts
    assert chat.kinds == ["error"]
    assert chat.replies[0].text == texts.message(
        locale, "edit_window_closed", days=7, when=when_text(original.debrief.created_at, locale)
    )
    assert await chat.dialog() is None
    await chat.say("edit 9")
    assert chat.replies[0].text == texts.message(locale, "edit_not_found", number=9)


async def test_edit_window_closing_during_the_edit_changes_nothing(make_chat: ChatFactory, clock) -> None:
    chat = await make_chat()
    await finish_quickly(chat)
    original = await latest(chat)
    await chat.say("edit 1")
    await chat.press("Outcome")
    assert chat.field == "outcome"
    clock.advance(days=8)
    await chat.say("/keep")
    assert chat.kinds == ["error"]
    assert chat.replies[0].text == chat.coach.texts.message(
        "en", "edit_window_closed", days=7, when=when_text(original.debrief.created_at, "en")
    )
    row = await latest(chat)
    assert row.debrief.updated_at is None and row.debrief.outcome == "closed"
    assert await chat.dialog() is None  # the correction ended; the next message starts afresh


# -- cancelling, double submission ----------------------------------------------------------------
@pytest.mark.parametrize(("locale", "word"), [("en", "cancel"), ("nl", "stop"), ("nl", "annuleer")])
async def test_cancel_leaves_nothing_stored(make_chat: ChatFactory, locale: str, word: str) -> None:
    chat = await make_chat(locale=locale)
    await start(chat)
    await chat.answer({"rating:opening": "1", "agenda_set_by": "1", "note:opening": "A note"})
    assert chat.field == "rating:interaction"
    await chat.say(word)
    assert chat.replies[0].text == chat.coach.texts.message(locale, "cancelled")
    assert await chat.dialog() is None
    assert await count(chat) == 0
    await chat.say(word)
    assert chat.replies[0].text == chat.coach.texts.message(locale, "nothing_to_cancel")


async def test_cancel_button_on_the_account_question(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("debrief")
    await chat.press("Cancel")
    assert await chat.dialog() is None


async def test_double_click_applies_an_answer_once(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await start(chat)
    token = chat.question.expect
    await chat.say("no", expect=token)
    assert chat.field == "agenda_set_by"
    # the same button again (a double click or a retried request): nothing moves
    await chat.say("yes", expect=token)
    assert chat.kinds == ["info", "question"]
    assert chat.replies[0].text == chat.coach.texts.message("en", "stale_click")
    assert chat.field == "agenda_set_by"
    state = await chat.dialog()
    assert state is not None and state.data["answers"]["rating:opening"] == "no"


async def test_concurrent_finishes_store_one_debrief(concurrent_db, clock, database_url: str) -> None:
    coach = CoachContext(db=concurrent_db, clock=clock)
    person = await make_person(concurrent_db)
    assert person.id is not None
    chat = Chat(coach, person.id)
    await finish_quickly(chat)  # a first debrief, so "one more" is measurable
    await start(chat, "Globex")
    plan = {f.key: "/skip" for f in FIELDS if not f.required and f.key != "next_meeting_at"} | {
        f"rating:{p}": "partly" for p in ("opening", "interaction", "situation", "concessions")
    } | {"outcome": "closed"}
    await chat.answer(plan)
    assert chat.field == "next_meeting_at"  # the last question of this path
    token = chat.question.expect
    twin = Chat(coach, chat.person_id, chat.channel)
    first, second = await asyncio.gather(
        chat.say("/skip", expect=token), twin.say("/skip", expect=token)
    )
    kinds = sorted([[r.kind for r in first], [r.kind for r in second]])
    assert ["saved", "tips", "info"] in kinds
    assert await count(chat) == 2
    async with coach.db() as session:
        rows = await latest_debriefs(session=session, person_id=chat.person_id)
        n_answers = await session.scalar(sa.select(sa.func.count()).select_from(DebriefAnswer))
    assert sorted(r.account_name for r in rows) == ["Acme", "Globex"]
    assert n_answers == 10
    # a button of the finished dialog changes nothing, and says so
    assert [r.text for r in await chat.say("/skip", expect=token)] == [
        coach.texts.message("en", "stale_finished")]
    assert await count(chat) == 2


# -- language, help, unknown commands ------------------------------------------------------------
async def test_language_switch_mid_dialog(make_chat: ChatFactory, db) -> None:
    chat = await make_chat(locale="nl")
    await start(chat)
    await chat.answer({"rating:opening": "Ja", "agenda_set_by": "Ik, informeel", "note:opening": "overslaan"})
    assert chat.field == "rating:interaction"
    texts = chat.coach.texts
    assert chat.question.title == texts.message(
        "nl", "point_heading", number=2, title=texts.point("nl", "interaction", "title")
    )
    await chat.say("language en")
    assert chat.kinds == ["info", "question"]
    assert chat.replies[0].text == texts.message("en", "language_set")
    assert chat.field == "rating:interaction"
    assert chat.question.title == "2/5 · " + texts.point("en", "interaction", "title")
    assert [b.label for b in chat.question.buttons] == ["Yes", "Partly", "No"]
    await chat.say("taal nederlands")
    assert chat.replies[0].text == texts.message("nl", "language_set")
    await chat.say("taal klingon")
    assert chat.kinds == ["error"]
    assert chat.replies[0].text == texts.message("nl", "language_unknown")
    await chat.say("language english")
    plan = {f.key: "/skip" for f in FIELDS if not f.required} | {
        "rating:interaction": "yes",
        "rating:situation": "yes",
        "rating:concessions": "yes",
        "rating:next_step": "yes",
        "outcome": "closed",
    }
    await chat.answer(plan)
    assert chat.reply("saved").title == texts.message("en", "saved_title")
    async with db() as session:
        person = await get_person(session=session, person_id=chat.person_id)
    assert person.locale == "en"
    row = await latest(chat)
    assert row.debrief.agenda_set_by == "rep_informal"


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_help_and_unknown_commands(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    await chat.say("help")
    assert chat.kinds == ["help"]
    assert chat.replies[0].groups == help_groups(chat.coach, locale, manager=False)
    await chat.say("frobnicate the widgets")
    assert chat.kinds == ["help"]
    assert chat.replies[0].text == texts.message(locale, "unknown_command", text="frobnicate the widgets")
    await chat.say("hallo")
    assert chat.replies[0].text == texts.message(locale, "welcome", name="Sanne")
    assert [b.value for b in chat.replies[0].buttons] == ["debrief", "history", "help"]
    # help in the middle of a debrief answers and asks the same question again
    await start(chat)
    await chat.say("?")
    assert chat.kinds == ["help", "question"]
    assert chat.field == "rating:opening"
    # a text answer that merely starts with a command word is an answer, not a command
    await chat.answer({"rating:opening": "2", "agenda_set_by": "1"})
    await chat.say("help them see the roadmap")
    assert chat.field == "rating:interaction"
    state = await chat.dialog()
    assert state is not None and state.data["answers"]["note:opening"] == "help them see the roadmap"


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_history(make_chat: ChatFactory, clock, locale: str) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    await chat.say("history" if locale == "en" else "geschiedenis")
    assert chat.replies[0].text == texts.message(locale, "history_empty")
    await finish_quickly(chat, "Acme", rating__situation="no")
    clock.advance(days=8)
    await finish_quickly(chat, "Globex", outcome="postponed", rating__next_step="partly")
    await chat.say("history")
    reply = chat.reply("history")
    assert len(reply.items) == 2
    assert reply.items[0].startswith("1. ") and "Globex" in reply.items[0]
    assert texts.point(locale, "next_step", "title") in reply.items[0]
    assert "Acme" in reply.items[1] and texts.point(locale, "situation", "title") in reply.items[1]
    assert texts.outcome(locale, "closed") in reply.items[1]
    assert [b.value for b in reply.buttons] == ["edit 1"]  # Acme is older than seven days


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_over_long_note_is_refused_never_cut(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    await start(chat)
    await chat.answer({"rating:opening": "2", "agenda_set_by": "1"})
    await chat.say("x" * (NOTE_LIMIT + 1))
    assert chat.kinds == ["error", "question"]
    text = chat.replies[0].text
    assert text == chat.coach.texts.message(locale, "too_long", length=2001, limit=2000)
    assert "2000" in text and "2001" in text
    assert chat.field == "note:opening"
    state = await chat.dialog()
    assert state is not None and "note:opening" not in state.data["answers"]
    await chat.say("y" * NOTE_LIMIT)
    assert chat.field == "rating:interaction"
    state = await chat.dialog()
    assert state is not None and state.data["answers"]["note:opening"] == "y" * NOTE_LIMIT


async def test_control_characters_are_stripped(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("debrief Ac\x00me\u200b")
    await chat.answer({"rating:opening": "Part\x07ly", "agenda_set_by": "1"})
    await chat.say("line one\r\nline\x1b[31m two\u202e\ttabbed\x7f")
    await finish_rest(chat)
    row = await latest(chat)
    assert row.account_name == "Acme"
    assert row.answers["opening"].rating == "partly"
    assert row.answers["opening"].note == "line one\nline[31m two\ttabbed"


async def finish_rest(chat: Chat) -> None:
    plan = (
        {f.key: "/skip" for f in FIELDS if not f.required}
        | {f"rating:{p}": "yes" for p in ("opening", "interaction", "situation", "concessions", "next_step")}
        | {"outcome": "closed"}
    )
    await chat.answer(plan)
    assert chat.kinds == ["saved", "tips", "info"], chat.replies


@pytest.mark.parametrize(
    ("locale", "bad", "good"),
    [
        ("en", "sometime soonish", "next Tuesday 2pm"),
        ("nl", "ergens binnenkort", "volgende week dinsdag 14:00"),
    ],
)
async def test_unparseable_meeting_time_asks_again_with_an_example(
    make_chat: ChatFactory, locale: str, bad: str, good: str
) -> None:
    chat = await make_chat(locale=locale)
    await start(chat)
    await chat.answer(
        {f.key: "/skip" for f in FIELDS if not f.required and f.key != "next_meeting_at"}
        | {f"rating:{p}": "1" for p in ("opening", "interaction", "situation", "concessions")}
        | {"outcome": "1"}
    )
    assert chat.field == "next_meeting_at"
    texts = chat.coach.texts
    await chat.say(bad)
    assert chat.kinds == ["error", "question"]
    example = texts.message(locale, "datetime_example")
    assert chat.replies[0].text == texts.message(locale, "bad_datetime", text=bad, example=example)
    assert example in chat.question.text
    # a date without a time is not a meeting time either
    await chat.say("vrijdag" if locale == "nl" else "Friday")
    assert chat.kinds == ["error", "question"]
    await chat.say(good)
    assert chat.kinds == ["info", "saved", "tips", "info"]  # the last question: echoed and saved


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_unparseable_due_date_and_past_meeting_time(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    await start(chat)
    await chat.answer(
        {f.key: "/skip" for f in FIELDS if not f.required and f.kind not in ("date", "datetime")}
        | {f"rating:{p}": "1" for p in ("opening", "interaction", "situation", "concessions")}
        | {"outcome": "3", "rating:next_step": "2"}  # postponed, a vague next step
    )
    assert chat.field == "next_meeting_at"
    texts = chat.coach.texts
    await chat.say("1 November 2026 10:00" if locale == "en" else "1 november 2026 10:00")
    assert chat.kinds == ["error", "question"]
    when = when_text(datetime(2026, 11, 1, 9, 0, tzinfo=UTC), locale)
    assert chat.replies[0].text == texts.message(locale, "past_datetime", when=when)
    assert chat.field == "next_meeting_at"
    await chat.say("/skip")
    assert chat.field == "next_step_due"  # no meeting set: by when, then
    await chat.say("qwerty")
    example = texts.message(locale, "date_example")
    assert chat.replies[0].text == texts.message(locale, "bad_date", text="qwerty", example=example)
    await chat.say("2026-12-11")
    assert "saved" in chat.kinds
    assert (await latest(chat)).debrief.next_step_due == date(2026, 12, 11)


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_empty_account_asks_for_one(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    await chat.say("debrief")
    assert chat.question.text == texts.message(locale, "ask_account")
    for empty in ("", "   ", "\x00\u200b"):
        await chat.say(empty)
        assert chat.kinds == ["error", "question"]
        assert chat.replies[0].text == texts.message(locale, "account_empty")
        assert chat.field == "account"
    await chat.say("A" * 201)
    assert chat.replies[0].text == texts.message(locale, "account_too_long", length=201, limit=200)
    await chat.say("Initech")
    assert chat.field == "rating:opening"


async def test_nothing_half_written_is_stored(make_chat: ChatFactory, db) -> None:
    chat = await make_chat()
    await start(chat)
    await chat.answer({"rating:opening": "no", "agenda_set_by": "1", "note:opening": "n"})
    await chat.say("x" * 5000)
    await chat.say("debrief Globex")  # a new debrief replaces the abandoned draft
    assert chat.field == "rating:opening"
    state = await chat.dialog()
    assert state is not None and state.data["answers"] == {} and state.data["account"] == "Globex"
    assert await count(chat) == 0
    async with db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(DebriefAnswer)) == 0
        assert await session.scalar(sa.text("SELECT count(*) FROM account")) == 0
