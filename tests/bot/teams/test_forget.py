"""Identity in Teams over real HTTP: `forget confirm` leaves the rep's name, aadObjectId, Teams id
and notes nowhere (the channel they spoke in included); card data is never identity."""

from __future__ import annotations

from storage.models import Debrief, DebriefAnswer
from tests.bot.database_scan import hits
from tests.bot.teams.conftest import TeamsUser, count, form_values, good_answers
from tests.bot.teams.test_debrief_card import open_details

NOTE = "Quokka-lantern clause 7731"


async def test_forget_over_teams_leaves_no_trace(rep: TeamsUser) -> None:
    card_id, card = await open_details(rep)
    assert await rep.submit(card_id, form_values(card, **{**good_answers(), "note:opening": NOTE})) == 201
    channel = rep.activity(text="debrief Acme", conversation={
        "conversationType": "channel", "tenantId": rep.activity()["conversation"]["tenantId"],
        "id": "19:sales-floor@thread.tacv2", "isGroup": True, "name": "Sales floor",
    })
    assert (await rep.post(channel)).status == 201  # answered: debriefs stay in the personal chat
    needles = [rep.name, rep.aad, f"29:{rep.aad}", NOTE]
    before = await hits(rep.live.coach.db, needles)
    assert {n for _, _, n in before} == set(needles)  # the scan sees all of it before

    assert await rep.say("forget confirm") == 201
    assert await hits(rep.live.coach.db, needles) == []
    assert await hits(rep.live.coach.db, ["19:sales-floor@thread.tacv2"])  # the channel is still known


async def test_card_data_is_no_identity_another_reps_key_stores_nothing(rep: TeamsUser) -> None:
    """The card's key (client-made data) of a debrief Megan filed, sent by another rep: refused."""
    card_id, card = await open_details(rep)
    values = form_values(card, **good_answers())
    assert await rep.submit(card_id, values) == 201
    assert await count(rep.live, Debrief) == 1
    other = TeamsUser(rep.live, rep.http, rep.connector, aad="0b7d1c52-8e0f-4c4e-9a53-2f1d2b9f4e11",
                      name="Other Rep")
    rep.connector.clear()
    assert await other.submit(card_id, {**values, "note:opening": "Taken over"}) == 201
    assert await count(rep.live, Debrief) == 1
    assert await count(rep.live, DebriefAnswer, DebriefAnswer.note == "Taken over") == 0
    assert any("nothing was saved" in call.shown for call in rep.connector.sent())
