"""`forget confirm` over real HTTP in Teams: the rep's name, aadObjectId, Teams id and notes are
nowhere in the database afterwards, the channel they spoke in included."""

from __future__ import annotations

from tests.bot.database_scan import hits
from tests.bot.teams.conftest import TeamsUser, form_values, good_answers
from tests.bot.teams.test_debrief_card import open_card

NOTE = "Quokka-lantern clause 7731"


async def test_forget_over_teams_leaves_no_trace(rep: TeamsUser) -> None:
    card_id, card = await open_card(rep)
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
