"""How many prompts a chat debrief takes, per path and language, and what each path stores.

Counted as the issue counts them in the web chat: from the first question after the customer's
name to the saved message, every question the rep answers (conversation.reply_to, the engine of
the web chat, the Slack DM and the Teams chat).
"""

from __future__ import annotations

import pytest

from dialogs.checklist import POINTS
from dialogs.checklist_path import questions
from dialogs.debrief import stored_values
from storage.debriefs import StoredDebrief, latest_debriefs
from tests.debrief_paths import DUE, MEETING, TARGETS, path
from tests.dialogs.conftest import Chat, ChatFactory


async def latest(chat: Chat) -> StoredDebrief:
    async with chat.coach.db() as session:
        rows = await latest_debriefs(session=session, person_id=chat.person_id)
    assert rows
    return rows[0]


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("name", ["all_good", "typical", "longest"])
async def test_each_path_takes_at_most_its_target_of_prompts(
    make_chat: ChatFactory, locale: str, name: str
) -> None:
    chat = await make_chat(locale=locale)
    asked = await chat.debrief("Acme", path(name, locale))
    print(f"\nchat prompts, {name} ({locale}): {len(asked)}")
    assert len(asked) <= TARGETS[name], asked
    row = await latest(chat)
    # The engine asks exactly what the rules ask for these answers, in their order.
    assert asked == questions(stored_values(row))[0]
    assert asked[0] == "rating:opening" and "outcome" in asked
    # a next step agreed (all good, typical) also offers a recap for the customer; postponed does not
    recap = ["recap"] if row.debrief.outcome in ("next_step", "closed") else []
    assert chat.kinds[-3 - len(recap):] == ["saved", "tips", *recap, "info"]


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_all_good_asks_who_set_the_agenda_and_nothing_about_the_next_step_rating(
    make_chat: ChatFactory, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    asked = await chat.debrief("Acme", path("all_good", locale))
    assert len(asked) == 9
    assert "agenda_set_by" in asked and "rating:next_step" not in asked  # the outcome answers it
    assert not any(k.startswith("note:") for k in asked)
    row = await latest(chat)
    assert {p: a.rating for p, a in row.answers.items()} == {p: "yes" for p in POINTS}
    assert row.debrief.next_meeting_at == MEETING[locale]
    assert row.debrief.next_step_due is None and row.debrief.answers_given is None
    assert chat.reply("tips").items == (chat.coach.texts.praise(locale, account="Acme"),)


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_typical_asks_one_note_per_weak_point_and_coaches_on_them(
    make_chat: ChatFactory, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    answers = path("typical", locale)
    asked = await chat.debrief("Acme", answers)
    assert len(asked) == 12
    assert [k for k in asked if k.startswith("note:")] == ["note:opening"]
    row = await latest(chat)
    assert row.answers["opening"].rating == "partly" and row.answers["concessions"].rating == "no"
    assert row.answers["opening"].note == answers["note:opening"]
    assert row.debrief.agenda_set_by == "customer_formal"
    assert row.debrief.concessions_given == answers["concessions_given"]
    assert row.debrief.concessions_got is None  # not asked for a "no": nothing came back
    assert row.debrief.outcome == "next_step" and row.answers["next_step"].rating == "yes"
    tips = chat.reply("tips")
    # a weak opening always comes first; the concession given for nothing is named in the rep's words
    assert tips.meta["points"] == ["opening", "concessions"]
    assert tips.meta["rules"] == ["opening_formal_agenda_with_demand", "concessions_nothing_back"]
    assert answers["concessions_asked"] in tips.items[0]
    assert answers["concessions_given"] in tips.items[2]


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_longest_path_asks_the_due_date_when_no_meeting_is_set(
    make_chat: ChatFactory, locale: str
) -> None:
    chat = await make_chat(locale=locale)
    asked = await chat.debrief("Acme", path("longest", locale))
    assert len(asked) == 18
    assert asked[-2:] == ["next_meeting_at", "next_step_due"]
    row = await latest(chat)
    assert row.debrief.outcome == "postponed" and row.answers["next_step"].rating == "partly"
    assert row.debrief.next_meeting_at is None and row.debrief.next_step_due == DUE
    assert row.debrief.supplier_check == "not_asked" and row.debrief.concessions_got is not None


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_no_next_step_asks_nothing_about_what_who_or_when(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    texts = chat.coach.texts
    answers = path("all_good", locale, outcome=texts.outcome(locale, "postponed"),
                   rating__next_step=texts.rating(locale, "no"), note__next_step="/skip",
                   rating__interaction=texts.rating(locale, "no"), note__interaction="/skip")
    asked = await chat.debrief("Acme", answers)
    assert not {"next_step_what", "next_step_due", "customer_questions", "answers_given"} & set(asked)
    assert asked[-3:] == ["rating:next_step", "note:next_step", "next_meeting_at"]
    row = await latest(chat)
    assert row.debrief.next_step_what is None and row.answers["interaction"].note is None


async def test_a_lost_deal_asks_no_next_meeting(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    answers = path("all_good", outcome="Lost", rating__next_step="No", note__next_step="They chose another")
    asked = await chat.debrief("Acme", answers)
    assert asked[-3:] == ["outcome", "rating:next_step", "note:next_step"]
    row = await latest(chat)
    assert row.debrief.outcome == "lost" and row.debrief.next_meeting_at is None
    assert row.answers["next_step"].note == "They chose another"


async def test_concessions_none_asked_asks_no_concession_details(make_chat: ChatFactory) -> None:
    chat = await make_chat(locale="nl")
    asked = await chat.debrief("Acme", path("typical", "nl", rating__concessions="Niets gevraagd"))
    assert not any(k.startswith("concessions_") for k in asked) and len(asked) == 10
    row = await latest(chat)
    assert row.answers["concessions"].rating == "none"
    assert "concessions" not in chat.reply("tips").meta["points"]  # nothing asked is not a weak point
