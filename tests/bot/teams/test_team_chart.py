"""A manager's on-demand `team` digest in Teams carries its chart inline, like the weekly one."""

from __future__ import annotations

import base64

import aiohttp

from storage.people import update_person
from storage.sales_teams import set_manager
from tests.bot.teams.conftest import TeamsUser, person
from tests.conftest import LiveApp
from tests.fakes.connector import FakeConnector


async def test_team_command_shows_the_chart_inline(
    live_app: LiveApp, http: aiohttp.ClientSession, connector: FakeConnector
) -> None:
    manager = TeamsUser(live_app, http, connector, aad="0a1b2c3d-0000-4000-8000-00000000aaaa", name="Maartje")
    rep = TeamsUser(live_app, http, connector, aad="0a1b2c3d-0000-4000-8000-00000000bbbb", name="Tom")
    assert await manager.say("hi") in (200, 201) and await rep.say("hi") in (200, 201)
    boss, tom = await person(live_app, manager.aad), await person(live_app, rep.aad)
    assert boss is not None and tom is not None and boss.id is not None and tom.id is not None
    async with live_app.coach.db() as session, session.begin():
        await update_person(session=session, person_id=boss.id, role="manager")
        await set_manager(session=session, person_id=tom.id, manager_id=boss.id)
    connector.clear()

    assert await manager.say("team") in (200, 201)

    images = [a for call in connector.sent() for a in call.attachments
              if a.get("contentType") == "image/png"]
    assert len(images) == 1
    url = images[0]["contentUrl"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    shown = " ".join(call.shown for call in connector.sent())
    assert "Tom" in shown
    # the chart's alt text travels in the message with the image; Tom has no debriefs yet, so
    # the HOW for him is a question for the one-to-one
    assert "Chart. Left: each rep's checklist score per week (weeks ending on" in shown
    assert "For your one-to-one, ask Tom:" in shown
