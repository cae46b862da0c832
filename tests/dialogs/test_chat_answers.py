"""What a chat debrief accepts and how it answers: short words, readable choice errors, typed dates
echoed with a one-tap correction, and a customer name close to a known one confirmed once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from dialogs import checklist_path
from dialogs.text import format_when
from storage.debriefs import StoredDebrief, latest_debriefs
from storage.models import Account
from tests.debrief_paths import MEETING, path
from tests.dialogs.conftest import Chat, ChatFactory


async def latest(chat: Chat) -> StoredDebrief:
    async with chat.coach.db() as session:
        rows = await latest_debriefs(session=session, person_id=chat.person_id)
    assert rows
    return rows[0]


# -- short words, choice errors ---------------------------------------------------------------------
@pytest.mark.parametrize(("locale", "yes", "no"), [("en", "y", "n"), ("nl", "j", "n"), ("en", "J", "N")])
async def test_y_n_and_j_answer_a_rating(make_chat: ChatFactory, locale: str, yes: str, no: str) -> None:
    chat = await make_chat(locale=locale)
    answers = path("typical", locale, rating__opening=yes, rating__concessions=no)
    await chat.debrief("Acme", answers)
    row = await latest(chat)
    assert row.answers["opening"].rating == "yes" and row.answers["concessions"].rating == "no"


async def test_y_is_no_answer_to_a_question_without_yes(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("debrief Acme")
    await chat.say("y")
    assert chat.field == "agenda_set_by"
    await chat.say("y")
    assert chat.kinds == ["error", "question"] and chat.field == "agenda_set_by"


@pytest.mark.parametrize(
    ("locale", "ratings", "agenda"),
    [
        ("en", "Pick one: Yes, Partly or No.",
         "Pick one: “The customer, formally”, “I did, informally” or “Nobody really”."),
        ("nl", "Kies: Ja, Deels of Nee.",
         "Kies: „De klant, formeel”, „Ik, informeel” of „Eigenlijk niemand”."),
    ],
)
async def test_a_wrong_choice_lists_the_options_readably(
    make_chat: ChatFactory, locale: str, ratings: str, agenda: str
) -> None:
    chat = await make_chat(locale=locale)
    await chat.say("debrief Acme")
    await chat.say("maybe")
    assert chat.kinds == ["error", "question"]
    assert chat.replies[0].text == ratings
    await chat.say("1")
    await chat.say("whoever")
    assert chat.replies[0].text == agenda and chat.field == "agenda_set_by"
    await chat.say("1" if locale == "en" else "2")
    assert chat.field == "rating:interaction"


# -- typed dates: echoed, corrected in one tap --------------------------------------------------------
@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_a_typed_meeting_time_is_echoed_and_corrected_in_one_tap(
    make_chat: ChatFactory, clock, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    answers = path("all_good", locale)
    await chat.debrief("Acme", answers)
    echo = chat.replies[0]
    when = format_when(MEETING[locale], locale=locale, tz="Europe/Amsterdam")
    assert echo.text == texts.message(locale, "date_echo", typed=answers["next_meeting_at"], when=when)
    assert "→" in echo.text and chat.kinds[1:] == ["saved", "tips", "recap", "info"]
    [correct] = echo.buttons
    assert correct.label == texts.message(locale, "button_change_date")
    original = await latest(chat)

    clock.advance(minutes=2)
    await chat.say(correct.value)  # the button: that one field of the stored debrief, asked again
    assert chat.field == "next_meeting_at" and len(chat.replies) == 2
    assert texts.message(locale, "current_value", value=when) in chat.question.text
    await chat.say("3 December 2026 10:00" if locale == "en" else "3 december 2026 10:00")
    assert chat.reply("saved").text == texts.message(
        locale, "updated", account="Acme",
        when=format_when(original.debrief.created_at, locale=locale, tz="Europe/Amsterdam"))
    row = await latest(chat)
    assert row.debrief.id == original.debrief.id and row.debrief.created_at == original.debrief.created_at
    assert row.debrief.next_meeting_at == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert row.debrief.next_step_what == original.debrief.next_step_what
    assert {p: a.rating for p, a in row.answers.items()} == {p: a.rating for p, a in original.answers.items()}


async def test_a_typed_due_date_is_echoed_as_a_day(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.debrief("Acme", path("longest"))
    texts = chat.coach.texts
    assert chat.replies[0].text == texts.message("en", "date_echo", typed="Friday", when="Fri 4 Dec 2026")
    assert chat.replies[0].buttons[0].value.endswith(" next_step_due")


async def test_a_skipped_date_is_not_echoed(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.debrief("Acme", path("all_good", next_meeting_at="/skip"))
    assert chat.kinds == ["saved", "tips", "recap", "info"]


async def test_a_date_asked_before_other_questions_is_echoed_and_asked_again_on_a_tap(
    make_chat: ChatFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Rules that ask the next meeting before the outcome (an organisation may order them so): the
    echo comes with the next question, and its button asks the meeting again in the same draft."""
    text = checklist_path.RULES_FILE.read_text(encoding="utf-8")
    points = "opening, interaction, situation, concessions"
    shipped = f"sequence: [{points}, outcome, next_step, next_meeting_at, next_step_due]"
    assert shipped in text
    rules = tmp_path / "rules.yaml"
    moved = f"sequence: [{points}, next_meeting_at, outcome, next_step, next_step_due]"
    rules.write_text(text.replace(shipped, moved), encoding="utf-8")
    monkeypatch.setattr(checklist_path, "RULES", checklist_path.load_rules(rules))
    monkeypatch.setitem(checklist_path.RULES.when, "next_meeting_at", checklist_path.Condition())
    chat = await make_chat()
    answers = path("all_good")
    await chat.say("debrief Acme")
    await chat.answer({k: v for k, v in answers.items() if k != "outcome"})
    assert chat.field == "outcome" and chat.kinds == ["info", "question"]
    echo = chat.replies[0]
    assert echo.text.startswith("“next Tuesday 2pm” → ")
    stale = echo.buttons[0].value
    await chat.say(stale)
    assert chat.field == "next_meeting_at"
    state = await chat.dialog()
    assert state is not None and "next_meeting_at" not in state.data["answers"]
    await chat.say("Wednesday 3pm")
    await chat.say(stale)  # the first echo's button again: that answer was replaced meanwhile
    assert chat.field == "outcome" and chat.kinds == ["info", "question"]
    assert chat.replies[0].text == chat.coach.texts.message("en", "stale_click")
    await chat.answer_all({**answers, "outcome": "Closed"})
    row = await latest(chat)
    assert row.debrief.next_meeting_at == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert row.debrief.outcome == "closed"


# -- a name close to a known account -------------------------------------------------------------
async def accounts(chat: Chat) -> list[str]:
    async with chat.coach.db() as session:
        return sorted((await session.scalars(sa.select(Account.name))).all())


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_a_name_close_to_a_known_account_is_confirmed_once(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    await chat.debrief("Acme Logistics", path("all_good", locale))
    await chat.say("debrief Acme")
    assert chat.field == "account_close" and chat.kinds == ["question"]
    assert chat.question.text == texts.message(locale, "account_close_one", typed="Acme",
                                               known="Acme Logistics")
    labels = [b.label for b in chat.question.buttons]
    assert labels == ["Acme Logistics", texts.message(locale, "button_new_account", typed="Acme")]
    await chat.press("Acme Logistics")
    assert chat.replies[0].text == texts.message(locale, "start_debrief", account="Acme Logistics")
    assert chat.field == "rating:opening"
    await chat.answer_all(path("all_good", locale))
    assert (await latest(chat)).account_name == "Acme Logistics"
    assert await accounts(chat) == ["Acme Logistics"]


async def test_keeping_the_new_name_makes_a_new_account(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.debrief("Acme Logistics", path("all_good"))
    await chat.say("debrief")
    await chat.say("Acme")
    assert chat.field == "account_close"
    await chat.press(chat.coach.texts.message("en", "button_new_account", typed="Acme"))
    assert chat.field == "rating:opening"
    await chat.answer_all(path("all_good"))
    assert await accounts(chat) == ["Acme", "Acme Logistics"]
    # Once both are known, "Acme" is Acme: nothing to confirm.
    await chat.say("debrief acme")
    assert chat.field == "rating:opening"
    assert chat.replies[0].text == chat.coach.texts.message("en", "start_debrief", account="Acme")


@pytest.mark.parametrize(
    ("known", "typed", "asks"),
    [
        ("Acme Logistics", "acme  LOGISTICS", False),  # the same account: its known spelling
        ("Acme Logistics", "Acme Logistcs", True),  # a typo
        ("Acme, Inc.", "Acme Inc", True),  # punctuation
        ("Bakkerij de Vries", "Bakkerij", True),  # the first word
        ("Acme Logistics", "Globex", False),
        ("Acme", "Acne", True),
        ("ABC", "ABD", False),  # too short to call a typo
    ],
)
async def test_which_names_count_as_close(make_chat: ChatFactory, known: str, typed: str, asks: bool) -> None:
    chat = await make_chat()
    await chat.debrief(known, path("all_good"))
    await chat.say(f"debrief {typed}")
    assert (chat.field == "account_close") == asks
    if not asks and typed.casefold().split() == known.casefold().split():
        assert chat.replies[0].text == chat.coach.texts.message("en", "start_debrief", account=known)


async def test_the_confirmation_takes_typed_answers_and_refuses_others(make_chat: ChatFactory, clock) -> None:
    chat = await make_chat(locale="nl")
    texts = chat.coach.texts
    no_meeting = path("all_good", "nl", next_meeting_at="overslaan")  # the latest debrief comes first
    await chat.debrief("Acme Logistics", no_meeting)
    clock.advance(hours=1)
    await chat.debrief("Acme Services", no_meeting)
    await chat.say("debrief Acme")
    assert chat.question.text == texts.message("nl", "account_close_many", typed="Acme",
                                               known="Acme Services")
    new = texts.message("nl", "button_new_account", typed="Acme")
    assert [b.label for b in chat.question.buttons] == ["Acme Services", "Acme Logistics", new]
    for unclear in ("misschien", "ja", "3"):  # "ja" names neither of two
        await chat.say(unclear)
        assert chat.kinds == ["error", "question"] and chat.field == "account_close"
    assert chat.replies[0].text == f"Kies: Acme Services, Acme Logistics of {new}."
    await chat.say("acme logistics")
    assert chat.replies[0].text == texts.message("nl", "start_debrief", account="Acme Logistics")
    await chat.say("stop")
    await chat.say("debrief Acme")
    await chat.say("2")
    assert chat.replies[0].text == texts.message("nl", "start_debrief", account="Acme Logistics")
    await chat.say("stop")
    await chat.say("debrief Acme")
    await chat.say("nee")  # not one of those: a new customer
    assert chat.replies[0].text == texts.message("nl", "start_debrief", account="Acme")
    assert await accounts(chat) == ["Acme Logistics", "Acme Services"]  # nothing stored yet
