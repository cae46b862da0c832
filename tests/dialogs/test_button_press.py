"""A pressed button is never taken as the answer to another question: a history's *Edit 1* pressed
mid-debrief does nothing and says so, a closed question's button says nothing changed, and a chat
that opens again shows the open question where the rep left it."""

from __future__ import annotations

import pytest

from dialogs import button_press, conversation
from dialogs.checklist import FIELDS_BY_KEY
from dialogs.debrief_questions import SKIP
from tests.dialogs.conftest import Chat, ChatFactory
from tests.factories import make_person, store_debrief


async def press_command(chat: Chat, value: str) -> None:
    chat.replies = await button_press.press_command(
        ctx=chat.coach, person_id=chat.person_id, channel=chat.channel, value=value)


async def to_a_text_question(chat: Chat) -> None:
    """Answer the open questions by a button ("no" where there is one: a weak point asks for
    details) until one takes typed text (it has no buttons, or only Skip)."""
    for _ in range(40):
        question = chat.question
        values = [b.value for b in question.buttons]
        if chat.field == "account" or values in ([], [SKIP]):
            return
        await chat.say("no" if "no" in values else values[0], expect=question.expect)
    raise AssertionError("no question took typed text")


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_an_old_edit_button_mid_debrief_is_not_an_answer(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    await store_debrief(chat.coach, await make_person(chat.coach.db, locale=locale))  # the same rep
    await chat.say("history")
    edit = chat.replies[0].buttons[0]
    assert edit.value == "edit 1"
    await chat.say("debrief Globex")
    await chat.press(chat.question.buttons[0].label)
    before = await chat.dialog()
    assert before is not None

    await press_command(chat, edit.value)
    texts = chat.coach.texts
    assert chat.replies[0].text == texts.message(locale, "button_not_an_answer", text="edit 1")
    assert chat.question.expect == f"{before.step}@{before.version}"  # asked again, unmoved
    after = await chat.dialog()
    assert after is not None and (after.step, after.version, after.data) == (
        before.step, before.version, before.data)


async def test_an_edit_button_on_a_text_question_is_not_stored_as_the_text(make_chat: ChatFactory) -> None:
    """Where typed text is an answer, "edit 1" from a button is still not one."""
    chat = await make_chat()
    await store_debrief(chat.coach, await make_person(chat.coach.db))
    await chat.say("debrief Globex")
    await to_a_text_question(chat)
    before = await chat.dialog()
    assert before is not None and FIELDS_BY_KEY[before.step].kind == "text"
    await press_command(chat, "edit 1")
    after = await chat.dialog()
    assert before is not None and after is not None
    assert after.data == before.data and after.version == before.version


async def test_a_command_button_with_no_debrief_open_is_that_command(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await press_command(chat, "debrief")
    assert chat.field == "account"
    await chat.say("cancel")
    await press_command(chat, "history")
    assert chat.kinds == ["history"]


async def test_a_closed_questions_button_says_nothing_changed(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("debrief Acme")
    question = chat.question
    await chat.say("cancel")
    replies = await button_press.press_answer(ctx=chat.coach, person_id=chat.person_id, channel="web",
                                              value=question.buttons[0].value, expect=str(question.expect))
    assert [r.text for r in replies] == [chat.coach.texts.message("en", "stale_finished")]
    assert await chat.dialog() is None


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_opening_the_chat_again_shows_the_open_question(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    fresh = await conversation.welcome(ctx=chat.coach, person_id=chat.person_id, channel="web")
    assert [r.text for r in fresh] == [texts.message(locale, "welcome", name="Sanne")]

    await chat.say("debrief Acme")
    await chat.press(chat.question.buttons[0].label)
    open_question = chat.question
    again = await conversation.welcome(ctx=chat.coach, person_id=chat.person_id, channel="web")
    assert again[0].text == texts.message(locale, "resume_debrief", account="Acme")
    assert again[-1].expect == open_question.expect and again[-1].text == open_question.text
    # Another channel's page has no debrief open.
    elsewhere = await conversation.welcome(ctx=chat.coach, person_id=chat.person_id, channel="slack")
    assert [r.kind for r in elsewhere] == ["info"] and elsewhere[0].buttons

    await chat.say("cancel")
    await chat.say("debrief")
    blank = await conversation.welcome(ctx=chat.coach, person_id=chat.person_id, channel="web")
    assert blank[0].text == texts.message(locale, "resume_blank", account="")
    assert blank[-1].expect == chat.question.expect
