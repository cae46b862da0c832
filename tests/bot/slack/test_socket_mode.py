"""Socket Mode (SLACK_APP_TOKEN): the same listeners over a WebSocket; HTTP takes nothing unsigned."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot.config import OrgConfig, Settings
from tests.bot.slack.conftest import BOT_TOKEN, SlackClient, oracle
from tests.conftest import LiveApp
from tests.factories import make_settings
from tests.fakes.slack_api import FakeSlackApi


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig, slack_api: FakeSlackApi) -> Settings:
    return make_settings(
        tmp_path,
        org=org,
        slack_app_token="xapp-1-test",
        slack_bot_token=BOT_TOKEN,
        slack_api_url=slack_api.api_url,
    )


async def test_command_over_socket_mode_opens_the_modal(
    slack_api: FakeSlackApi, live_app: LiveApp, slack: SlackClient
) -> None:
    (opened,) = await slack_api.wait_for("apps.connections.open")
    assert opened.token == "xapp-1-test"
    await slack_api.wait_for("socket.connected")
    payload = dict(parse_qsl(SlackClient.command_body("Acme")))
    envelope = await slack_api.send_envelope("slash_commands", payload)
    (view,) = await slack_api.wait_for("views.open")
    assert view.token == BOT_TOKEN and view.params["trigger_id"] == payload["trigger_id"]
    await slack_api.wait_for("socket.ack")
    assert slack_api.socket_acks[0]["envelope_id"] == envelope
    # Without a signing secret nothing is accepted over HTTP, even correctly shaped.
    status, _ = await slack.post(oracle("slash-command.bolt.form.txt"))
    assert status == 401
