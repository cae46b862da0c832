"""Which credentials turn Slack on, and the one line `coach serve` prints for it."""

from __future__ import annotations

import pytest

from bot.app import channel_status
from bot.slack.mode import slack_mode
from tests.factories import make_settings


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({}, None),
        ({"slack_signing_secret": "s"}, None),  # no token from anywhere
        ({"slack_bot_token": "xoxb-1"}, None),  # nothing can reach us
        ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}, "HTTP, single workspace"),
        ({"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"}, "Socket Mode, single workspace"),
        (
            {"slack_client_id": "1.2", "slack_client_secret": "c", "slack_signing_secret": "s"},
            "HTTP, OAuth install at /slack/install",
        ),
    ],
)
def test_slack_mode_follows_the_credentials(env: dict[str, str], mode: str | None) -> None:
    settings = make_settings(**env)
    assert slack_mode(settings) == mode
    (line,) = [line for line in channel_status(settings, "127.0.0.1", 3978) if line.startswith("Slack:")]
    assert line == (f"Slack: on at POST /slack/events ({mode})" if mode else line)
    assert ("off" in line) == (mode is None)
