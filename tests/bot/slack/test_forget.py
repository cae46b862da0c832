"""`/debrief forget confirm` over real HTTP: the rep's Slack name, e-mail, user id and notes are
nowhere in the database afterwards."""

from __future__ import annotations

from storage.models import Person
from tests.bot.database_scan import hits
from tests.bot.slack.conftest import USER, SlackClient, answers, fill_in, open_modal, settle
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi

NOTE = "Quokka-lantern clause 7731"


async def test_forget_over_slack_leaves_no_trace(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    form = answers(**{"note:opening": NOTE})
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api), form)
    status, text = await slack.submit(view, form)
    assert (status, text) == (200, "")
    await settle(live_app)
    needles = [USER, f"Rep {USER}", f"{USER.lower()}@example.com", NOTE]
    found = await hits(live_app.coach.db, needles)
    assert {n for _, _, n in found} == set(needles)  # the scan sees all of it before
    assert ("person", "display_name", f"Rep {USER}") in found

    status, _ = await slack.command("forget confirm")
    assert status == 200
    await settle(live_app)
    assert await hits(live_app.coach.db, needles) == []
    async with live_app.coach.db() as session:
        assert await session.get(Person, 1) is None
