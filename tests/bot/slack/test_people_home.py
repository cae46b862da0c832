"""users.info as the profile cache, App Home, and workspaces that never see each other."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from slack_sdk.models.views import View

from bot.config import OrgConfig, Settings
from storage.models import Person
from tests.bot.slack.conftest import (
    SIGNING_SECRET,
    TEAM,
    SlackClient,
    answers,
    debrief_count,
    fill_in,
    open_modal,
    settle,
)
from tests.bot.slack.test_oauth import install
from tests.conftest import LiveApp
from tests.factories import make_settings
from tests.fakes.slack_api import FakeSlackApi, default_user


async def test_profile_comes_from_users_info_once(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    slack_api.users["U111"] = {
        **default_user("U111"),
        "tz": "America/New_York",
        "locale": "nl-NL",
        "profile": {"real_name": "Sanne <!here> de Vries"},
    }
    await slack.command("help")
    await slack.command("history")
    assert len(slack_api.to("users.info")) == 1  # cached in the person row
    async with live_app.coach.db() as session:
        person = (await session.scalars(sa.select(Person))).one()
    assert (person.timezone, person.locale) == ("America/New_York", "nl")
    assert person.display_name == "Sanne <!here> de Vries" and person.profile_synced_at is not None


async def test_app_home_shows_latest_debriefs_and_profile(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api, "Acme"), answers())
    await slack.submit(view, answers())
    status, _ = await slack.event({"type": "app_home_opened", "user": "U111", "channel": "D1", "tab": "home"})
    assert status == 200
    (call,) = await slack_api.wait_for("views.publish")
    assert call.params["user_id"] == "U111"
    home = call.view
    View(**home).validate_json()
    text = json.dumps(home, ensure_ascii=False)
    assert "Acme" in text and "Opening commitment: 0 yes · 0 partly · 1 no" in text
    assert "Preparation for your meeting with Acme" in text  # the nudge the next meeting scheduled
    assert any(e.get("action_id") == "open_debrief" for b in home["blocks"] for e in b.get("elements", []))


async def test_start_button_on_home_opens_an_empty_modal(slack: SlackClient, slack_api: FakeSlackApi) -> None:
    await slack.action("open_debrief", "")
    (opened,) = await slack_api.wait_for("views.open")
    assert any(b.get("block_id") == "account" for b in opened.view["blocks"])


class TestTwoInstalledWorkspaces:
    """A single-workspace token serves its own team only (test_own_team.py); two workspaces are
    two OAuth installations, and they never see each other."""

    @pytest.fixture
    def settings(self, tmp_path: Path, org: OrgConfig, slack_api: FakeSlackApi) -> Settings:
        return make_settings(tmp_path, org=org, slack_signing_secret=SIGNING_SECRET,
                             slack_client_id="111.222", slack_client_secret="oauth-client-secret",
                             slack_api_url=slack_api.api_url)

    @pytest.fixture(autouse=True)
    async def installed(
        self, http: aiohttp.ClientSession, slack_api: FakeSlackApi, live_app: LiveApp
    ) -> None:
        for team in (TEAM, "T999"):
            slack_api.oauth_team = team
            await install(http, live_app)

    async def test_workspaces_never_see_each_other(
        self, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
    ) -> None:
        view = await open_modal(slack, slack_api, "Acme")
        await slack.submit(view, answers())
        (dm,) = await slack_api.wait_for("chat.postMessage")
        debrief_id = next(e["value"] for b in dm.blocks if b["type"] == "actions" for e in b["elements"]
                              if e["action_id"] == "edit_debrief")  # the recap's mail link is a button too
        # The same user id in another workspace is another person, with no history and no customers.
        status, body = await slack.command("history", team="T999")
        assert "Acme" not in body
        _, options = await slack.options("", team="T999")
        assert options["options"] == []
        await slack.action("edit_debrief", debrief_id, team="T999")
        await settle(live_app)
        refusal = (await slack_api.wait_for("chat.postMessage", 2))[1]
        assert "Acme" not in json.dumps(refusal.params) and len(slack_api.to("views.open")) == 1
        assert (dm.token, refusal.token) == ("xoxb-T111", "xoxb-T999")  # each with its own token
        # Submitting a copy of the first modal from the other workspace stores under that workspace only.
        status, _ = await slack.submit(view, answers(), team="T999", view_id="V555")
        assert status == 200 and await debrief_count(live_app) == 2
        async with live_app.coach.db() as session:
            people = (await session.scalars(sa.select(Person).order_by(Person.id))).all()
        first, second = people
        assert first.workspace_id != second.workspace_id
