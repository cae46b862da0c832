"""Multi-workspace install: /slack/install -> Slack -> /slack/oauth_redirect stores an installation."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bot.config import OrgConfig, Settings
from storage.slack_store import slack_bots, slack_installations, slack_oauth_states
from tests.bot.slack.conftest import SIGNING_SECRET, SlackClient, settle
from tests.conftest import LiveApp
from tests.factories import make_settings
from tests.fakes.slack_api import FakeSlackApi


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig, slack_api: FakeSlackApi) -> Settings:
    return make_settings(
        tmp_path,
        org=org,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id="111.222",
        slack_client_secret="oauth-client-secret",
        slack_api_url=slack_api.api_url,
    )


async def install(http: aiohttp.ClientSession, live_app: LiveApp) -> None:
    async with http.get(f"{live_app.url}/slack/install") as resp:
        assert resp.status == 200
        page = await resp.text()
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    state = re.search(r"state=([\w-]+)", page)
    assert state is not None and "client_id=111.222" in page and "scope=commands" in page
    async with http.get(
        f"{live_app.url}/slack/oauth_redirect",
        params={"code": "c0de", "state": state.group(1)},
        headers={"Cookie": cookie},
    ) as resp:
        assert resp.status == 200, await resp.text()


async def rows(live_app: LiveApp, table: sa.Table) -> list[sa.Row]:
    async with live_app.coach.db() as session:
        return list((await session.execute(sa.select(table))).all())


async def test_install_stores_the_workspace_and_serves_it(
    http: aiohttp.ClientSession, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await install(http, live_app)
    (exchange,) = slack_api.to("oauth.v2.access")
    assert exchange.params["code"] == "c0de"
    (installation,) = await rows(live_app, slack_installations)
    assert (installation.team_id, installation.bot_token) == ("T222", "xoxb-T222")
    assert await rows(live_app, slack_oauth_states) == []  # the state was consumed
    # That workspace is now served, with its own token.
    status, _ = await slack.command("Acme", team="T222")
    assert status == 200
    (opened,) = await slack_api.wait_for("views.open")
    assert opened.token == "xoxb-T222"


async def test_a_workspace_that_did_not_install_is_not_served(
    http: aiohttp.ClientSession, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await install(http, live_app)
    await slack.command("Acme", team="T333")
    await settle(live_app)  # a modal would open after the answer
    assert slack_api.to("views.open") == []


async def test_replayed_or_unknown_state_is_refused(
    http: aiohttp.ClientSession, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    async with http.get(
        f"{live_app.url}/slack/oauth_redirect",
        params={"code": "c0de", "state": "forged"},
        headers={"Cookie": "slack-app-oauth-state=forged"},
    ) as resp:
        assert resp.status >= 400
    assert slack_api.to("oauth.v2.access") == []
    assert await rows(live_app, slack_installations) == []


async def test_uninstall_and_revoked_tokens_clean_up(
    http: aiohttp.ClientSession, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await install(http, live_app)
    status, _ = await slack.event(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT2"]}}, team="T222"
    )
    assert status == 200
    await settle(live_app)  # events finish after the ack
    assert await rows(live_app, slack_bots) == []
    await install(http, live_app)
    status, _ = await slack.event({"type": "app_uninstalled"}, team="T222")
    assert status == 200
    await settle(live_app)
    assert await rows(live_app, slack_installations) == []
    assert await rows(live_app, slack_bots) == []
