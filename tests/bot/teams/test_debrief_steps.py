"""The Teams debrief in two cards: ratings and outcome first, then only the details that apply;
what is stored is settled by the rules (a detail that does not apply is never stored)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa

from dialogs.debrief import stored_values
from storage.debriefs import get_debrief
from tests.bot.teams.conftest import Debrief, TeamsUser, count, fill_in, form_values, good_answers
from tests.bot.teams.test_debrief_card import inputs, open_card, open_details, texts_of
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def card_schema() -> jsonschema.Draft6Validator:
    path = shared_path("oracles", "adaptive-card", "adaptive-card-1.5.json")
    return jsonschema.Draft6Validator(json.loads(path.read_text(encoding="utf-8")))


async def stored(rep: TeamsUser) -> dict[str, Any]:
    async with rep.live.coach.db() as session:
        row = (await session.scalars(sa.select(Debrief))).one()
        assert row.id is not None
        return stored_values(await get_debrief(session=session, debrief_id=row.id, person_id=row.person_id))


def weak(**ratings: str) -> dict[str, str]:
    answers = good_answers()
    answers.update({f"rating:{p}": r for p, r in ratings.items()})
    return answers


async def test_the_details_card_stores_what_still_applies_after_a_rating_change(rep: TeamsUser) -> None:
    """Concessions rated "no" show what was asked and given; the rep types them, then decides
    none were asked and saves: the typed concessions are not stored, the rest is."""
    card_id, card = await open_details(rep, weak(concessions="no"))
    assert {"concessions_asked", "concessions_given"} <= set(inputs(card))
    answers = {**weak(concessions="none"), "concessions_asked": "Framework", "concessions_given": "Signed",
               "note:opening": "Their agenda by mail."}
    assert await rep.submit(card_id, form_values(card, **answers)) == 201
    values = await stored(rep)
    assert values["rating:concessions"] == "none"
    assert values["concessions_asked"] is None and values["concessions_given"] is None
    assert values["note:opening"] == "Their agenda by mail." and values["agenda_set_by"] == "customer_formal"
    assert values["rating:next_step"] == "yes"  # answered by the outcome (next step agreed)
    assert values["next_step_due"] is None  # not asked when a next meeting is set


async def test_a_crafted_or_stale_field_is_not_stored(rep: TeamsUser) -> None:
    """Fields sent that the card did not show (a crafted payload, an old client) are dropped."""
    card_id, card = await open_details(rep)
    values = form_values(card, **good_answers())
    values |= {"answers_given": "Left over", "concessions_got": "Left over", "next_step_who": "Me"}
    assert await rep.submit(card_id, values) == 201
    row = await stored(rep)
    assert row["answers_given"] is None and row["concessions_got"] is None and row["next_step_who"] is None


async def test_new_ratings_on_the_details_card_bring_their_details_and_keep_the_typed(
    rep: TeamsUser, card_schema: Any
) -> None:
    card_id, card = await open_details(rep)
    # Opening after all good (its note goes aside), interaction only partly (its answers are asked).
    answers = {**weak(opening="yes", interaction="partly"), "note:opening": "Their agenda by mail."}
    assert await rep.submit(card_id, form_values(card, **answers)) == 201
    assert await count(rep.live, Debrief) == 0
    (update,) = rep.connector.updates()
    again = update.card
    assert again is not None and list(card_schema.iter_errors(again)) == []
    assert any("other details" in t for t in texts_of(again))
    assert "answers_given" in inputs(again) and "note:opening" not in inputs(again)
    assert inputs(again)["customer_questions"]["value"] == good_answers()["customer_questions"]
    # The opening weak again: its note comes back as typed.
    rep.connector.clear()
    weak_again = weak(opening="partly", interaction="partly")
    assert await rep.submit(card_id, form_values(again, **weak_again)) == 201
    (update,) = rep.connector.updates()
    assert update.card is not None and inputs(update.card)["note:opening"]["value"] == "Their agenda by mail."
    assert await count(rep.live, Debrief) == 0


async def test_a_closed_deal_needs_no_next_step_rating(rep: TeamsUser) -> None:
    card_id, card = await open_card(rep)
    first = {**good_answers(), "outcome": "closed", "rating:next_step": ""}
    details = await fill_in(rep, card_id, card, first)
    assert "rating:next_step" not in inputs(details) and "next_step_what" in inputs(details)
    assert await rep.submit(card_id, form_values(details, **first)) == 201
    assert (await stored(rep))["rating:next_step"] == "yes"


async def test_a_lost_deal_asks_the_next_step_rating_and_stores_no_meeting(rep: TeamsUser) -> None:
    card_id, details = await open_details(rep)
    assert "next_meeting_at_date" in inputs(details) and "rating:next_step" not in inputs(details)
    lost = {**good_answers(), "outcome": "lost"}  # changed on the details card, the date still there
    assert await rep.submit(card_id, form_values(details, **lost)) == 201
    (update,) = rep.connector.updates()
    again = update.card
    assert again is not None and "rating:next_step" in inputs(again)  # no longer answered: asked
    assert any("Pick one: Yes, Partly or No" in t for t in texts_of(again))
    assert "next_meeting_at_date" not in inputs(again)
    rep.connector.clear()
    lost["rating:next_step"] = "no"
    assert await rep.submit(card_id, form_values(again, **lost)) == 201
    (update,) = rep.connector.updates()
    assert update.card is not None and "note:next_step" in inputs(update.card)
    rep.connector.clear()
    assert await rep.submit(card_id, form_values(update.card, **lost, **{"note:next_step": "Gone."})) == 201
    row = await stored(rep)
    assert row["outcome"] == "lost" and row["rating:next_step"] == "no" and row["note:next_step"] == "Gone."
    assert row["next_meeting_at"] is None and row["next_step_what"] is None


async def test_a_card_from_before_the_two_steps_still_saves(rep: TeamsUser) -> None:
    """A full card sent before an upgrade carries no list of the fields it showed: what it sent
    is stored, settled by the rules."""
    await open_card(rep)
    values = {**good_answers(), "coach": "debrief", "key": "old-card", "account": "Acme"}
    assert await rep.submit("activity-1", values) == 201
    assert await count(rep.live, Debrief) == 1
    row = await stored(rep)
    assert row["concessions_given"] is None  # concessions fine: not stored
    assert row["customer_questions"] == good_answers()["customer_questions"]
