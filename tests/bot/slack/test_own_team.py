"""Only our own workspaces are served: a single-workspace token its own team (auth.test at start),
OAuth the installed teams. A request Slack signed for any other team gets 401 and stores nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bot.config import OrgConfig, Settings
from bot.slack.client import SLACK
from storage.models import Debrief, Person, Workspace
from storage.slack_store import slack_bots, slack_installations
from tests.bot.slack.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    SlackClient,
    answers,
    open_modal,
    settle,
)
from tests.bot.slack.test_oauth import install, rows
from tests.conftest import LiveApp
from tests.factories import make_settings
from tests.fakes.slack_api import FakeSlackApi

FOREIGN = "T999"


async def stored(live_app: LiveApp) -> tuple[int, int, int]:
    """(workspaces, people, debriefs) in the database."""
    async with live_app.coach.db() as session:
        workspaces, people, debriefs = [
            int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in (Workspace, Person, Debrief)]
    return workspaces, people, debriefs


class TestSingleWorkspace:
    """SLACK_BOT_TOKEN xoxb-test belongs to T111 (the fake's auth.test says so)."""

    def test_the_fake_answers_auth_test_as_slack_documents(self, slack_api: FakeSlackApi) -> None:
        answer = slack_api._answer("auth.test", {}, BOT_TOKEN)
        assert set(answer) == {"ok", "url", "team", "user", "team_id", "user_id", "bot_id"}
        assert answer["ok"] is True and answer["team_id"] == TEAM

    async def test_the_workspace_is_learned_at_start(
        self, live_app: LiveApp, slack_api: FakeSlackApi
    ) -> None:
        assert live_app.app[SLACK].own is not None and live_app.app[SLACK].own.team_id == TEAM
        assert [c.token for c in slack_api.to("auth.test")] == [BOT_TOKEN]

    async def test_a_debrief_command_from_another_team_gets_401_and_stores_nothing(
        self, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
    ) -> None:
        status, _ = await slack.command("Acme", team=FOREIGN)
        assert status == 401
        await settle(live_app)
        assert await stored(live_app) == (0, 0, 0)
        assert {c.method for c in slack_api.calls} == {"auth.test"}  # no modal, no profile lookup

    async def test_a_submission_from_another_team_gets_401_and_stores_nothing(
        self, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
    ) -> None:
        view = await open_modal(slack, slack_api, "Acme")  # our own rep opened the form
        await settle(live_app)
        before = await stored(live_app)
        status, _ = await slack.submit(view, answers(), team=FOREIGN)
        assert status == 401
        await settle(live_app)
        assert await stored(live_app) == before
        assert before[2] == 0
        # The same form from our own team is stored.
        status, _ = await slack.submit(view, answers())
        assert status == 200
        await settle(live_app)
        assert (await stored(live_app))[2] == 1

    async def test_buttons_events_and_options_from_another_team_get_401(
        self, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
    ) -> None:
        assert (await slack.action("open_debrief", "Acme", team=FOREIGN))[0] == 401
        assert (await slack.options("Ac", team=FOREIGN))[0] == 401
        dm = {"type": "message", "channel_type": "im", "user": "U999", "text": "history",
              "channel": "D999", "ts": "1.2"}
        assert (await slack.event(dm, team=FOREIGN))[0] == 401
        assert (await slack.event({"type": "app_home_opened", "user": "U999", "tab": "home"},
                                  team=FOREIGN))[0] == 401
        await settle(live_app)
        assert await stored(live_app) == (0, 0, 0)
        assert {c.method for c in slack_api.calls} == {"auth.test"}

    async def test_our_own_team_is_served(
        self, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
    ) -> None:
        status, _ = await slack.command("Acme")
        assert status == 200
        await slack_api.wait_for("views.open")


class TestAuthTestFailsAtStart:
    """The token is not one Slack knows (auth.test: invalid_auth), then Slack comes round."""

    @pytest.fixture
    def settings(self, tmp_path: Path, org: OrgConfig, slack_api: FakeSlackApi) -> Settings:
        return make_settings(tmp_path, org=org, slack_signing_secret=SIGNING_SECRET,
                             slack_bot_token="xoxb-not-yet-known", slack_api_url=slack_api.api_url)

    async def test_one_line_then_401_until_auth_test_answers(
        self, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        said = [r.getMessage() for r in caplog.get_records("setup")
                if r.name == "coach.slack" and r.levelno == logging.WARNING]
        assert len(said) == 1 and "auth.test failed (invalid_auth)" in said[0], said
        status, _ = await slack.command("Acme")  # our team, signed, but the token's team is unknown
        assert status == 401
        assert len(slack_api.to("auth.test")) == 1  # not asked again within the backoff
        await settle(live_app)
        assert await stored(live_app) == (0, 0, 0)
        # Slack knows the token now; the next request (after the backoff) asks again and is served.
        slack_api.teams["xoxb-not-yet-known"] = TEAM
        own = live_app.app[SLACK].own
        assert own is not None
        own.backoff = 0.0
        status, _ = await slack.command("Acme")
        assert status == 200
        await slack_api.wait_for("views.open")
        assert own.team_id == TEAM
        assert (await slack.command("Acme", team=FOREIGN))[0] == 401


class TestOAuth:
    @pytest.fixture
    def settings(self, tmp_path: Path, org: OrgConfig, slack_api: FakeSlackApi) -> Settings:
        return make_settings(tmp_path, org=org, slack_signing_secret=SIGNING_SECRET,
                             slack_client_id="111.222", slack_client_secret="oauth-client-secret",
                             slack_api_url=slack_api.api_url)

    async def test_a_team_that_did_not_install_gets_401_and_stores_nothing(
        self, http: aiohttp.ClientSession, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
    ) -> None:
        await install(http, live_app)  # T222 installed
        for status, _ in (await slack.command("Acme", team=FOREIGN),
                          await slack.action("open_debrief", "Acme", team=FOREIGN)):
            assert status == 401
        await settle(live_app)
        assert await stored(live_app) == (0, 0, 0)
        assert slack_api.to("views.open") == []
        status, _ = await slack.command("Acme", team="T222")
        assert status == 200
        await slack_api.wait_for("views.open")

    async def test_app_uninstalled_after_the_bot_token_was_revoked_still_cleans_up(
        self, http: aiohttp.ClientSession, slack: SlackClient, live_app: LiveApp
    ) -> None:
        await install(http, live_app)
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT2"]}}
        assert (await slack.event(revoked, team="T222"))[0] == 200
        await settle(live_app)
        assert await rows(live_app, slack_bots) == []
        assert (await slack.event({"type": "app_uninstalled"}, team="T222"))[0] == 200
        await settle(live_app)
        assert await rows(live_app, slack_installations) == []
