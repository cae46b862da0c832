"""An action point's journey in Teams, over the fake connector: the digest card carries the
proposal in an input with its own submit; the manager edits and sends it; the rep gets it once
with who asked, sees it in the next nudge, files a debrief by card and answers the one optional
question with "Yes, done"; the next digest counts it done."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import jsonschema
import pytest

from bot.teams.cards import FORM_ACTION
from tests.bot.action_journey import digest_of, make_team, meeting_soon, points, rep_in
from tests.bot.teams.conftest import TeamsUser, fill_in, form_values, good_answers, person
from tests.conftest import LiveApp, shared_path
from tests.fakes.connector import Call, FakeConnector

MAARTJE_AAD = "0a1b2c3d-0000-4000-8000-0000000000aa"
SANNE_AAD = "0a1b2c3d-0000-4000-8000-0000000000bb"


@pytest.fixture(scope="module")
def card_schema() -> jsonschema.Draft6Validator:
    path = shared_path("oracles", "adaptive-card", "adaptive-card-1.5.json")
    return jsonschema.Draft6Validator(json.loads(path.read_text(encoding="utf-8")))


def walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *(n for v in node.values() for n in walk(v))]
    if isinstance(node, list):
        return [n for v in node for n in walk(v)]
    return []


def to(connector: FakeConnector, who: TeamsUser) -> list[Call]:
    return [c for c in connector.sent() if c.conversation_id == who.conversation]


def button_value(call: Call, value: str) -> dict[str, Any]:
    """The data of the card's button that sends `value` (Teams posts it back as the value)."""
    for node in walk(call.card or {}):
        data = node.get("data")
        if node.get("type") == "Action.Submit" and isinstance(data, dict) and data.get("text") == value:
            return {k: v for k, v in data.items() if k != "msteams"}
    raise AssertionError(f"no button {value!r} in {call.shown}")


async def press(user: TeamsUser, data: dict[str, Any]) -> None:
    activity = user.activity(text="", value=data)
    assert (await user.post(activity)).status in (200, 201)
    await user.live.outbox_settled()


async def test_the_journey_in_teams(
    live_app: LiveApp, http: aiohttp.ClientSession, connector: FakeConnector,
    card_schema: jsonschema.Draft6Validator,
) -> None:
    manager = TeamsUser(live_app, http, connector, aad=MAARTJE_AAD, name="Maartje Jansen")
    rep = TeamsUser(live_app, http, connector, aad=SANNE_AAD, name="Sanne de Vries")
    assert await manager.say("hi") in (200, 201) and await rep.say("hi") in (200, 201)
    maartje, sanne = await person(live_app, MAARTJE_AAD), await person(live_app, SANNE_AAD)
    assert maartje is not None and sanne is not None and maartje.id and sanne.id
    await make_team(live_app.coach, maartje, sanne)
    connector.clear()

    # proposed: the digest card has Sanne's action point in an input, with its own submit
    assert await manager.say("team") in (200, 201)
    (digest,) = [c for c in to(connector, manager) if c.card is not None]
    assert [e.message for e in card_schema.iter_errors(digest.card)] == []
    (submit,) = [n for n in walk(digest.card) if n.get("type") == "Action.Submit"
                 and n.get("data", {}).get("coach") == FORM_ACTION]
    assert submit["title"] == "Send to Sanne de Vries"
    data = submit["data"]
    (box,) = [n for n in walk(digest.card) if n.get("id") == data["input"]]
    assert box["type"] == "Input.Text" and data["command"].startswith(f"assign #{sanne.id}")
    proposed = rep_in(await digest_of(live_app.coach, maartje.id), sanne.id)["action_point"]
    assert box["value"] == proposed["text"] and proposed["pattern"] in data["command"]

    # edited and sent (Teams posts the card's inputs merged with the submit's data)
    edited = "Call Acme before the meeting and ask what they would like to cover"
    connector.clear()
    inputs = {n["id"]: n.get("value", "") for n in walk(digest.card)
              if n.get("type", "").startswith("Input.")}
    await press(manager, {**inputs, **data, data["input"]: edited})
    (point,) = await points(live_app.coach)
    assert (point.person_id, point.manager_id, point.text) == (sanne.id, maartje.id, edited)
    assert "Sent to Sanne de Vries" in to(connector, manager)[-1].shown

    # shown to the rep, exactly once, with who asked and a Done button
    (notice,) = to(connector, rep)
    assert f"Maartje Jansen asked you to: {edited}" in notice.shown
    button_value(notice, f"done #{point.id}")

    # in the next nudge
    await meeting_soon(live_app.coach, sanne)
    await live_app.outbox_settled()
    nudge = to(connector, rep)[-1]
    assert "Acme" in nudge.shown and f"Maartje Jansen asked you to: {edited}" in nudge.shown

    # the next debrief (the card) asks once whether it was done; "Yes, done" marks it
    connector.clear()
    assert await rep.say("debrief Acme") in (200, 201)
    first = to(connector, rep)[-1]
    assert first.card is not None
    details = await fill_in(rep, "activity-1", first.card, good_answers())
    assert await rep.submit("activity-1", form_values(details, **good_answers())) in (200, 201)
    asked = [c for c in to(connector, rep) if "Did you do that in this meeting?" in c.shown]
    assert len(asked) == 1 and asked[0].shown.count(edited) == 1
    await press(rep, button_value(asked[0], f"done #{point.id}"))
    assert [p.status for p in await points(live_app.coach)] == ["done"]
    assert "Marked as done" in to(connector, rep)[-1].shown

    # reported in the next digest
    part = rep_in(await digest_of(live_app.coach, maartje.id), sanne.id)
    assert (part["action_points_open"], part["action_points_done"]) == (0, 1)
