"""An action point's journey in Slack, over signed requests and the fake Web API: the digest's
proposal opens in a modal (views.open), is edited and sent; the rep gets it once with who asked
and a Done button, sees it in the next nudge, presses Done; the next digest counts it done.
`/debrief assign <@U…>` resolves the mention by the signed team's user id only."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from bot.slack.text_form import CALLBACK_FORM, INPUT
from bot.slack.views import ACTION_FORM
from storage.models import Person
from tests.bot.action_journey import digest_of, make_team, meeting_soon, points, rep_in
from tests.bot.slack.conftest import SlackClient, opened, settle
from tests.conftest import LiveApp
from tests.factories import make_person
from tests.fakes.slack_api import FakeSlackApi, default_user

MAARTJE, SANNE, OTHER = "UMAAR", "USANNE", "UOTHER"


def named(user_id: str, name: str, team: str = "T111") -> dict[str, Any]:
    user = default_user(user_id, team)
    user["real_name"] = name
    user["profile"] = {"real_name": name, "email": f"{name.split()[0].lower()}@ourco.nl"}
    return user


async def person(live_app: LiveApp, user: str) -> Person:
    async with live_app.coach.db() as session:
        return (await session.scalars(sa.select(Person).where(Person.platform_user_id == user))).one()


async def team_in_slack(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> tuple[Person, Person]:
    slack_api.users[MAARTJE] = named(MAARTJE, "Maartje Jansen")
    slack_api.users[SANNE] = named(SANNE, "Sanne de Vries")
    for user in (MAARTJE, SANNE):
        assert (await slack.command("help", user=user))[0] == 200
    maartje, sanne = await person(live_app, MAARTJE), await person(live_app, SANNE)
    await make_team(live_app.coach, maartje, sanne)
    return maartje, sanne


def dms_to(slack_api: FakeSlackApi, user: str) -> list[list[dict[str, Any]]]:
    return [c.blocks for c in slack_api.to("chat.postMessage") if c.params.get("channel") == user]


def shown(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def test_the_journey_proposed_edited_sent_shown_nudged_done_and_counted(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    maartje, sanne = await team_in_slack(slack, slack_api, live_app)
    assert maartje.id is not None and sanne.id is not None

    # proposed: the manager's digest has a button for Sanne that opens the proposal in a modal
    status, body = await slack.command("team", user=MAARTJE)
    assert status == 200
    (form,) = [b for b in buttons(json.loads(body)["blocks"]) if b["action_id"] == ACTION_FORM]
    assert form["text"]["text"] == "Send to Sanne de Vries"
    proposal = json.loads(form["value"])
    proposed = rep_in(await digest_of(live_app.coach, maartje.id), sanne.id)["action_point"]
    assert proposed["pattern"] == "agenda:customer_formal" and proposed["count"] == 3  # her history
    assert proposal["text"] == proposed["text"]
    source = f"{proposed['pattern']},{proposed['example_debrief_id']}"
    assert proposal["command"] == f"assign #{sanne.id} ({source}):"
    before = len(slack_api.to("views.open"))
    assert (await slack.action(ACTION_FORM, form["value"], user=MAARTJE))[0] == 200
    view = opened((await slack_api.wait_for("views.open", before + 1))[-1])
    assert view["callback_id"] == CALLBACK_FORM
    (box,) = [b for b in view["blocks"] if b.get("block_id") == INPUT]
    assert box["element"].get("initial_value", "") == proposal["text"]
    assert box["label"]["text"] == "Action point for Sanne de Vries"

    # edited and sent
    edited = "Ask Acme for their agenda before Thursday's meeting, and propose yours"
    status, answer = await slack.submit(view, {INPUT: edited}, user=MAARTJE, view_id="VFORM1")
    assert status == 200 and answer == ""  # the modal closes
    assert (await slack.submit(view, {INPUT: edited}, user=MAARTJE, view_id="VFORM1"))[0] == 200  # again
    await settle(live_app)
    (point,) = await points(live_app.coach)
    assert (point.person_id, point.manager_id, point.status) == (sanne.id, maartje.id, "open")
    assert point.text == edited  # edited, still aimed at what the digest proposed it for
    assert (point.pattern, point.point, point.example_debrief_id) == (
        "agenda:customer_formal", "opening", proposed["example_debrief_id"])
    assert "Sent to Sanne de Vries" in shown(dms_to(slack_api, MAARTJE)[-1])

    # shown to the rep at once, exactly once, with who asked and a Done button
    (notice,) = dms_to(slack_api, SANNE)
    assert f"Maartje Jansen asked you to: {edited}" in shown(notice)
    (done,) = [b for b in buttons(notice) if b["value"] == f"done #{point.id}"]

    # in the next nudge
    await meeting_soon(live_app.coach, sanne)
    await settle(live_app)
    nudge = dms_to(slack_api, SANNE)[-1]
    assert "Acme" in shown(nudge) and f"Maartje Jansen asked you to: {edited}" in shown(nudge)
    assert any(b["value"] == f"done #{point.id}" for b in buttons(nudge))

    # marked done with the notice's button (the signed user is who finishes it)
    assert (await slack.action(done["action_id"], done["value"], user=SANNE))[0] == 200
    await settle(live_app)
    assert "Marked as done" in shown(dms_to(slack_api, SANNE)[-1])
    assert [p.status for p in await points(live_app.coach)] == ["done"]

    # reported in the next digest
    sanne_part = rep_in(await digest_of(live_app.coach, maartje.id), sanne.id)
    assert (sanne_part["action_points_open"], sanne_part["action_points_done"]) == (0, 1)


async def test_a_refused_form_stays_open_with_the_reason_and_stores_nothing(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await team_in_slack(slack, slack_api, live_app)
    status, body = await slack.command("team", user=MAARTJE)
    (form,) = [b for b in buttons(json.loads(body)["blocks"]) if b["action_id"] == ACTION_FORM]
    await slack.action(ACTION_FORM, form["value"], user=MAARTJE)
    view = opened((await slack_api.wait_for("views.open", len(slack_api.to("views.open")) or 1))[-1])
    # Sanne opens the form Maartje was shown: Sanne is no manager, so it is refused under the field
    status, answer = await slack.submit(view, {INPUT: "Do it"}, user=SANNE, view_id="VFORM2")
    assert status == 200 and json.loads(answer)["response_action"] == "errors"
    assert INPUT in json.loads(answer)["errors"]
    await settle(live_app)
    assert await points(live_app.coach) == []


async def test_assign_with_a_mention_reaches_only_the_signed_teams_user(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    maartje, sanne = await team_in_slack(slack, slack_api, live_app)
    status, body = await slack.command(f"assign <@{SANNE}|sanne> ask for their agenda", user=MAARTJE)
    assert status == 200 and "Sent to Sanne de Vries" in body
    # a user of another workspace is not found from Maartje's, even a row that names her manager
    await make_person(live_app.coach.db, user_id=OTHER, name="Olga Other", platform="slack",
                      workspace="T999", manager_id=maartje.id)
    status, body = await slack.command(f"assign <@{OTHER}> call them", user=MAARTJE)
    assert status == 200 and "can't find" in body and "Olga" not in body
    stored = [(p.person_id, p.text) for p in await points(live_app.coach)]
    assert stored == [(sanne.id, "ask for their agenda")]
    await settle(live_app)
    assert len(dms_to(slack_api, SANNE)) == 1
