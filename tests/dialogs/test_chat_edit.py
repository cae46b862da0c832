"""Correcting one part of a stored debrief in the chat (`edit 2`), and buttons of earlier messages
pressed while a debrief is open."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogs.checklist import POINTS
from dialogs.text import format_when
from storage.debriefs import StoredDebrief, count_debriefs, latest_debriefs
from tests.debrief_paths import path
from tests.dialogs.conftest import Chat, ChatFactory


async def latest(chat: Chat) -> StoredDebrief:
    async with chat.coach.db() as session:
        rows = await latest_debriefs(session=session, person_id=chat.person_id)
    assert rows
    return rows[0]


LOST = path("all_good", outcome="Lost", rating__next_step="No", note__next_step="/skip")


def ratings(row: StoredDebrief) -> dict[str, str]:
    return {p: a.rating for p, a in row.answers.items()}


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_edit_shows_the_stored_debrief_and_asks_only_the_chosen_point(
    make_chat: ChatFactory, clock, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    await chat.debrief("Acme", path("typical", locale))
    original = await latest(chat)
    clock.advance(days=6, hours=23)
    await chat.say("edit 1" if locale == "en" else "wijzig 1")
    [summary] = chat.replies
    when = format_when(original.debrief.created_at, locale=locale, tz="Europe/Amsterdam")
    assert summary.title == texts.message(locale, "edit_summary_title", account="Acme", when=when)
    assert summary.items[0] == texts.message(locale, "edit_summary_point", number=1,
                                             title=texts.point(locale, "opening", "title"),
                                             rating=texts.rating(locale, "partly"))
    assert summary.items[5] == texts.message(locale, "edit_summary_outcome",
                                             outcome=texts.outcome(locale, "next_step"))
    assert texts.message(locale, "edit_summary_meeting", when=format_when(
        original.debrief.next_meeting_at, locale=locale, tz="Europe/Amsterdam")) == summary.items[6]
    assert [b.value for b in summary.buttons] == [*POINTS, "outcome", "next_meeting_at", "cancel"]

    await chat.press(texts.point(locale, "concessions", "title"))
    assert chat.replies[0].text == texts.message(
        locale, "edit_part_start", part=texts.point(locale, "concessions", "title"), account="Acme")
    assert chat.field == "rating:concessions"
    assert texts.message(locale, "current_value", value=texts.rating(locale, "no")) in chat.question.text
    asked = await chat.answer_all({
        "rating:concessions": texts.rating(locale, "partly"),
        "concessions_asked": "/keep",
        "concessions_given": "/keep",
        "concessions_got": "A signed pilot" if locale == "en" else "Een getekende pilot",
    })
    assert asked == ["rating:concessions", "concessions_asked", "concessions_given", "concessions_got"]
    assert chat.reply("saved").text == texts.message(locale, "updated", account="Acme", when=when)

    edited = await latest(chat)
    async with chat.coach.db() as session:
        assert await count_debriefs(session=session, person_id=chat.person_id) == 1
    assert edited.debrief.id == original.debrief.id
    assert edited.debrief.created_at == original.debrief.created_at and edited.debrief.updated_at == clock()
    assert ratings(edited) == {**ratings(original), "concessions": "partly"}
    assert edited.debrief.concessions_given == original.debrief.concessions_given
    assert edited.debrief.concessions_got is not None
    for column in ("agenda_set_by", "customer_questions", "next_step_what", "next_meeting_at", "outcome"):
        assert getattr(edited.debrief, column) == getattr(original.debrief, column), column
    assert edited.answers["opening"].note == original.answers["opening"].note


async def test_a_point_rated_better_drops_the_details_that_no_longer_apply(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.debrief("Acme", path("longest"))
    await chat.say("edit 1 situation")  # a part named straight away
    assert chat.field == "rating:situation"
    asked = await chat.answer_all({"rating:situation": "Yes"})
    assert asked == ["rating:situation"]
    edited = await latest(chat)
    assert edited.answers["situation"].rating == "yes"
    assert edited.debrief.customer_tried is None and edited.debrief.supplier_check is None
    assert edited.debrief.next_step_due is not None  # another part: kept


async def test_changing_the_outcome_asks_what_the_new_outcome_needs(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.debrief("Acme", LOST)
    await chat.say("edit 1")
    await chat.press("Outcome")
    asked = await chat.answer_all({"outcome": "Next step agreed", "next_step_what": "A pilot",
                                   "next_meeting_at": "next Tuesday 2pm"})
    assert asked == ["outcome", "next_step_what", "next_meeting_at"]  # the next step: now it applies
    edited = await latest(chat)
    assert edited.debrief.outcome == "next_step" and edited.answers["next_step"].rating == "yes"
    assert edited.debrief.next_step_what == "A pilot"
    assert edited.debrief.next_meeting_at == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    # and back to lost: what no longer applies is cleared, nothing else is asked
    await chat.say("edit 1 outcome")
    asked = await chat.answer_all({"outcome": "Lost", "rating:next_step": "No", "note:next_step": "/skip"})
    assert asked == ["outcome", "rating:next_step", "note:next_step"]
    edited = await latest(chat)
    assert edited.debrief.next_meeting_at is None and edited.debrief.next_step_what is None
    assert edited.answers["next_step"].rating == "no"


async def test_the_next_meeting_part_asks_the_due_date_when_the_meeting_is_dropped(
    make_chat: ChatFactory,
) -> None:
    chat = await make_chat()
    await chat.debrief("Acme", path("longest", next_meeting_at="Wednesday 3pm"))
    assert (await latest(chat)).debrief.next_step_due is None  # not asked: a meeting was set
    await chat.say("edit 1")
    await chat.press("Next meeting")
    asked = await chat.answer_all({"next_meeting_at": "/skip", "next_step_due": "Friday"})
    assert asked == ["next_meeting_at", "next_step_due"]
    edited = await latest(chat)
    assert edited.debrief.next_meeting_at is None and edited.debrief.next_step_due is not None


async def test_a_lost_debrief_offers_no_next_meeting_to_change(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.debrief("Acme", LOST)
    await chat.say("edit 1")
    assert [b.value for b in chat.question.buttons] == [*POINTS, "outcome", "cancel"]
    await chat.say("next meeting")
    assert chat.kinds == ["error", "question"]
    labels = [chat.coach.texts.point("en", p, "title") for p in POINTS]
    assert chat.replies[0].text == f"Pick one: {', '.join(labels)} or Outcome."
    await chat.say("2")  # by number
    assert chat.field == "rating:interaction"


@pytest.mark.parametrize(("locale", "word"), [("en", "cancel"), ("nl", "stop")])
async def test_cancelling_an_edit_says_the_stored_debrief_is_unchanged(
    make_chat: ChatFactory, locale: str, word: str
) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    await chat.debrief("Acme", path("typical", locale))
    original = await latest(chat)
    await chat.say("edit 1")
    await chat.say("1")
    await chat.say(texts.rating(locale, "no"))
    await chat.say(word)
    assert [r.text for r in chat.replies] == [texts.message(locale, "edit_cancelled", account="Acme")]
    assert await chat.dialog() is None
    row = await latest(chat)
    assert ratings(row) == ratings(original) and row.debrief.updated_at is None
    await chat.say("edit 1")
    await chat.press(texts.message(locale, "button_cancel"))  # from the summary itself
    assert chat.replies[0].text == texts.message(locale, "edit_cancelled", account="Acme")


async def test_edit_by_a_stale_reference_is_refused(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    other = await make_chat(user_id="U-other")
    await other.debrief("Globex", path("all_good"))
    theirs = await latest(other)
    await chat.say(f"edit id:{theirs.debrief.id} next_meeting_at")  # someone else's: not found
    assert chat.kinds == ["error"]
    assert chat.replies[0].text == chat.coach.texts.message("en", "edit_gone")
    assert await chat.dialog() is None


# -- buttons of earlier messages while a debrief is open --------------------------------------------
@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_an_edit_button_from_history_mid_debrief_is_not_an_answer(
    make_chat: ChatFactory, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    await chat.debrief("Acme", path("all_good", locale))
    await chat.say("history")
    edit = chat.reply("history").buttons[0]
    await chat.say("debrief Globex")
    await chat.answer({"rating:opening": texts.rating(locale, "yes")})
    assert chat.field == "agenda_set_by"
    before = await chat.dialog()
    await chat.say(edit.value)  # pressed in the history shown earlier: no question token
    assert chat.kinds == ["info", "question"] and chat.field == "agenda_set_by"
    assert chat.replies[0].text == texts.message(locale, "stale_button", account="Globex", text="edit 1")
    assert "“edit 1”" in chat.replies[0].text or "„edit 1”" in chat.replies[0].text
    after = await chat.dialog()
    assert after is not None and before is not None
    assert (after.version, after.data) == (before.version, before.data)
    await chat.say("debrief")  # the welcome's "start a debrief": the draft stays
    assert chat.replies[0].text == texts.message(locale, "debrief_in_progress", account="Globex")
    assert chat.field == "agenda_set_by"


async def test_an_answer_button_with_an_old_token_never_answers(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("debrief Acme")
    first = chat.question
    await chat.press("Yes")
    await chat.press("I did, informally")
    assert chat.field == "rating:interaction"
    await chat.say("no", expect=first.expect)  # "No" on the first question, pressed late
    assert chat.kinds == ["info", "question"] and chat.field == "rating:interaction"
    state = await chat.dialog()
    assert state is not None and state.data["answers"]["rating:opening"] == "yes"
    assert "rating:interaction" not in state.data["answers"]


async def test_a_keep_typed_in_a_new_debrief_is_not_stored_as_text(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("debrief Acme")
    await chat.answer({"rating:opening": "Partly", "agenda_set_by": "1"})
    assert chat.field == "note:opening"
    await chat.say("/keep")
    assert chat.kinds == ["info", "question"] and chat.field == "note:opening"


async def test_a_forget_confirmation_pressed_mid_debrief_forgets_nothing(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.debrief("Acme", path("all_good"))
    await chat.say("forget")
    confirm = chat.replies[0].buttons[0].value
    await chat.say("debrief Globex")
    await chat.say(confirm)
    assert chat.kinds == ["info", "question"] and chat.field == "rating:opening"
    said = chat.coach.texts.message("en", "stale_button", account="Globex", text=confirm)
    assert chat.replies[0].text == said
    async with chat.coach.db() as session:
        assert await count_debriefs(session=session, person_id=chat.person_id) == 1
