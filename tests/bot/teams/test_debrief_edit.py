"""Correcting a debrief in Teams on the same two cards, the stored answers filled in: from the
tips' *Edit answers* or `edit 1` typed; owner, edit window and a forgotten debrief refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dialogs.debrief import stored_values
from storage.debriefs import get_debrief
from tests.bot.teams.conftest import Debrief, TeamsUser, count, form_values, good_answers
from tests.bot.teams.test_debrief_card import inputs, open_details, texts_of

OTHER_AAD = "0b7d1c52-8e0f-4c4e-9a53-2f1d2b9f4e11"
# The fake connector numbers the messages it accepts: the first card, the tips, then the edit card.
TIPS_ID, EDIT_CARD_ID = "activity-2", "activity-3"
OTHERS_CARD_ID = "activity-5"  # Megan's card and tips, then the other rep's card, tips, edit card
DAY = timedelta(days=1)


async def file_debrief(rep: TeamsUser) -> tuple[int, dict[str, Any]]:
    """`debrief Acme`, both cards answered and saved: the debrief's id and its stored values
    (the tips have gone out; the connector's record holds only them)."""
    card_id, card = await open_details(rep)
    assert await rep.submit(card_id, form_values(card, **good_answers())) == 201
    debrief_id = await latest_id(rep)
    return debrief_id, await stored(rep, debrief_id)


async def latest_id(rep: TeamsUser) -> int:
    async with rep.live.coach.db() as session:
        found = await session.scalar(sa.select(sa.func.max(Debrief.id)))
    assert found is not None
    return int(found)


async def stored(rep: TeamsUser, debrief_id: int) -> dict[str, Any]:
    async with rep.live.coach.db() as session:
        row = await session.get(Debrief, debrief_id)
        assert row is not None
        found = await get_debrief(session=session, debrief_id=debrief_id, person_id=row.person_id)
    return stored_values(found)


def edit_button(rep: TeamsUser) -> dict[str, Any]:
    """The tips card's *Edit answers* action (the last message with one)."""
    for call in reversed(rep.connector.sent()):
        for action in (call.card or {}).get("actions", []):
            if action["title"] in ("Edit answers", "Antwoorden aanpassen"):
                return dict(action)
    raise AssertionError("no edit button on the tips")


async def press(rep: TeamsUser, action: dict[str, Any], card_id: str = TIPS_ID) -> int:
    """Press a reply's button as Teams does: a messageBack with its words and its value."""
    back = action["data"]["msteams"]
    return (await rep.post(rep.activity(text=back["text"], value=back["value"], replyToId=card_id))).status


async def open_edit(rep: TeamsUser, debrief_id: int) -> dict[str, Any]:
    """The tips' *Edit answers* pressed: the first card of the correction, as a new message."""
    action = edit_button(rep)
    assert action["data"]["text"] == f"edit id:{debrief_id}"  # the debrief's id, nothing else
    rep.connector.clear()
    assert await press(rep, action) == 201
    (sent,) = rep.connector.sent()
    assert sent.card is not None and rep.connector.updates() == []  # the tips card stays as it is
    rep.connector.clear()
    return sent.card


async def next_card(rep: TeamsUser, card: dict[str, Any], **answers: Any) -> dict[str, Any]:
    """Press a correcting card's button: the card drawn in its place."""
    assert await rep.submit(EDIT_CARD_ID, form_values(card, **answers)) == 201
    (update,) = rep.connector.updates()
    assert update.activity_id == EDIT_CARD_ID and update.card is not None
    rep.connector.clear()
    return update.card


def tips_count(rep: TeamsUser, words: str) -> int:
    return sum(words in c.shown for c in rep.connector.sent())


async def make_older(rep: TeamsUser, debrief_id: int, by: timedelta) -> None:
    """Move the debrief's filing time back (as if filed that much earlier)."""
    async with rep.live.coach.db() as session, session.begin():
        row = await session.get(Debrief, debrief_id)
        assert row is not None
        row.created_at = row.created_at - by


async def test_the_edit_button_fills_both_cards_and_save_corrects_once(
    rep: TeamsUser, card_schema: Any
) -> None:
    debrief_id, before = await file_debrief(rep)
    first = await open_edit(rep, debrief_id)
    assert list(card_schema.iter_errors(first)) == []
    fields = inputs(first)
    # The five ratings and the outcome as stored; the customer is fixed (named in the title).
    assert {k: f.get("value") for k, f in fields.items()} == {
        k: before[k] for k in ("rating:opening", "rating:interaction", "rating:situation",
                               "rating:concessions", "outcome", "rating:next_step")}
    assert texts_of(first)[0] == "Correct your debrief · Acme"
    assert first["actions"][0]["data"]["edit"] == debrief_id

    details = await next_card(rep, first, **{"rating:opening": "partly"})
    assert list(card_schema.iter_errors(details)) == []
    shown = {k: f.get("value") for k, f in inputs(details).items()}
    assert shown["rating:opening"] == "partly"  # the change made on the first card
    meeting = before["next_meeting_at"].astimezone(ZoneInfo(rep.timezone))
    assert shown["next_meeting_at_date"] == meeting.date().isoformat()
    assert shown["next_meeting_at_time"] == meeting.strftime("%H:%M") == "14:00"
    for key in ("agenda_set_by", "note:opening", "customer_questions", "supplier_check", "next_step_what"):
        assert shown[key] == before[key], key
    assert details["actions"][0]["title"] == "Save changes"

    values = form_values(details, **{"note:opening": "They brought their own agenda."})
    assert await rep.submit(EDIT_CARD_ID, values) == 201
    (summary,) = rep.connector.updates()
    assert summary.activity_id == EDIT_CARD_ID and summary.card is not None
    assert list(card_schema.iter_errors(summary.card)) == []
    assert texts_of(summary.card)[0] == "Debrief updated · Acme" and "actions" not in summary.card
    after = await stored(rep, debrief_id)
    assert after["rating:opening"] == "partly" and after["note:opening"] == "They brought their own agenda."
    assert {k: v for k, v in after.items() if k not in ("rating:opening", "note:opening")} == {
        k: v for k, v in before.items() if k not in ("rating:opening", "note:opening")}
    assert await count(rep.live, Debrief) == 1
    assert tips_count(rep, "is updated; it keeps its original time") == 1  # the tips, from the outbox
    assert tips_count(rep, "For your next meeting") == 1

    rep.connector.clear()  # the same Save again (a double click, a retry): no second tips
    assert await rep.submit(EDIT_CARD_ID, values) == 201
    assert tips_count(rep, "For your next meeting") == 0
    assert await stored(rep, debrief_id) == after


@pytest.mark.parametrize(("locale", "title", "button"), [
    ("en-US", "Correct your debrief · Acme", "Next"),
    ("nl-NL", "Debrief aanpassen · Acme", "Verder"),
])
async def test_edit_typed_brings_the_same_filled_card(
    rep: TeamsUser, card_schema: Any, locale: str, title: str, button: str
) -> None:
    rep.locale = locale
    debrief_id, before = await file_debrief(rep)
    rep.connector.clear()
    assert await rep.say("edit 1") == 201
    (sent,) = rep.connector.sent()
    assert sent.card is not None and list(card_schema.iter_errors(sent.card)) == []
    assert texts_of(sent.card)[0] == title and sent.card["actions"][0]["title"] == button
    assert inputs(sent.card)["rating:situation"]["value"] == before["rating:situation"]
    assert sent.card["actions"][0]["data"]["edit"] == debrief_id
    assert sent.card["actions"][0]["data"]["kept"]["note:opening"] == before["note:opening"]


async def test_someone_elses_debrief_id_in_the_card_data_changes_nothing(rep: TeamsUser) -> None:
    megans_id, megans = await file_debrief(rep)
    other = TeamsUser(rep.live, rep.http, rep.connector, aad=OTHER_AAD, name="Other Rep")
    rep.connector.clear()
    card_id, card = await open_details(other, text="debrief Globex")
    assert await other.submit(card_id, form_values(card, **good_answers(), account="Globex")) == 201
    others_id = await latest_id(rep)
    rep.connector.clear()
    assert await other.say("edit 1") == 201
    (sent,) = rep.connector.sent()
    assert sent.card is not None and sent.card["actions"][0]["data"]["edit"] == others_id
    rep.connector.clear()

    # Their own cards, the data pointing at Megan's debrief: Next and Save alike are refused.
    crafted_next = form_values(sent.card, **{"rating:opening": "yes"}) | {"edit": megans_id}
    assert await other.submit(OTHERS_CARD_ID, form_values(sent.card, **{"rating:opening": "yes"})) == 201
    (update,) = rep.connector.updates()
    assert update.card is not None and "note:opening" not in inputs(update.card)  # their own: Next
    rep.connector.clear()
    crafted_save = form_values(update.card, **{"agenda_set_by": "me"}) | {"edit": megans_id}
    for crafted in (crafted_next, crafted_save):
        assert await other.submit(OTHERS_CARD_ID, crafted) == 201
        (refusal,) = rep.connector.sent()
        assert refusal.text == "That debrief is no longer there, so there is nothing to correct."
        assert rep.connector.updates() == []
        rep.connector.clear()
    assert await other.say(f"edit id:{megans_id}") == 201  # typed: no card either
    (refusal,) = rep.connector.sent()
    assert refusal.card is None and "no longer there" in refusal.text
    assert await stored(rep, megans_id) == megans
    assert (await stored(rep, others_id))["rating:opening"] == "no"
    assert await count(rep.live, Debrief) == 2


async def test_past_the_edit_window_the_button_and_the_card_are_refused(rep: TeamsUser) -> None:
    rep.locale = "nl-NL"
    debrief_id, before = await file_debrief(rep)
    first = await open_edit(rep, debrief_id)
    await make_older(rep, debrief_id, 8 * DAY)
    values = form_values(first, **{"rating:opening": "yes"})
    assert await rep.submit(EDIT_CARD_ID, values) == 201
    (refusal,) = rep.connector.sent()
    assert "een debrief kun je alleen binnen 7 dagen aanpassen" in refusal.text
    assert rep.connector.updates() == []  # the card stays; nothing changed
    rep.connector.clear()
    assert await press(rep, {"data": {"msteams": {"text": f"edit id:{debrief_id}", "value": {
        "coach": "answer", "text": f"edit id:{debrief_id}", "expect": None}}}}) == 201
    (refusal,) = rep.connector.sent()
    assert refusal.card is None and "binnen 7 dagen" in refusal.text
    after = await stored(rep, debrief_id)
    assert after == before
    assert await count(rep.live, Debrief) == 1


async def test_a_save_after_the_window_closed_between_the_cards_changes_nothing(rep: TeamsUser) -> None:
    debrief_id, before = await file_debrief(rep)
    first = await open_edit(rep, debrief_id)
    details = await next_card(rep, first, **{"rating:opening": "partly"})
    await make_older(rep, debrief_id, 7 * DAY + timedelta(minutes=1))  # the window closed meanwhile
    assert await rep.submit(EDIT_CARD_ID, form_values(details, **{"note:opening": "Late"})) == 201
    (refusal,) = rep.connector.sent()
    assert "can only be corrected within 7 days" in refusal.text
    assert await stored(rep, debrief_id) == before
    assert tips_count(rep, "For your next meeting") == 0


async def test_a_debrief_forgotten_since_the_card_was_opened_is_not_stored_again(rep: TeamsUser) -> None:
    debrief_id, _ = await file_debrief(rep)
    first = await open_edit(rep, debrief_id)
    assert await rep.say("forget confirm") == 201
    rep.connector.clear()
    assert await rep.submit(EDIT_CARD_ID, form_values(first, **{"rating:opening": "yes"})) == 201
    (refusal,) = rep.connector.sent()
    assert "no longer there" in refusal.text and rep.connector.updates() == []
    assert await count(rep.live, Debrief) == 0


async def test_the_customer_in_the_edit_title_stays_text(rep: TeamsUser, card_schema: Any) -> None:
    answers = {**good_answers(), "account": "<at>Boss</at> **Acme**"}
    card_id, card = await open_details(rep, answers)
    assert await rep.submit(card_id, form_values(card, **answers)) == 201
    first = await open_edit(rep, await latest_id(rep))
    assert list(card_schema.iter_errors(first)) == []
    assert texts_of(first)[0] == "Correct your debrief · &lt;at&gt;Boss&lt;/at&gt; \\*\\*Acme\\*\\*"
