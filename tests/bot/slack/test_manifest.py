"""bot/slack/manifest.yaml (the Slack app manifest): every scope and event is a real Slack name, and it
matches what the code serves."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bot.slack.runtime import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH
from tests.conftest import shared_path

MANIFEST = Path(__file__).resolve().parents[3] / "bot" / "slack" / "manifest.yaml"


def test_manifest_names_are_slacks_own() -> None:
    names = json.loads(
        shared_path("oracles", "slack", "app-manifest", "slack-manifest-names.json").read_text()
    )
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(scopes) <= set(names["bot_scopes"]), set(scopes) - set(names["bot_scopes"])
    assert set(events) <= set(names["events"]), set(events) - set(names["events"])
    assert set(scopes) == set(BOT_SCOPES)  # OAuth installs ask for what the manifest declares
    assert {"app_home_opened", "message.im", "user_change", "app_uninstalled", "tokens_revoked"} <= set(
        events
    )


def test_manifest_points_at_our_routes() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/debrief" and command["url"].endswith(EVENTS_PATH)
    assert manifest["settings"]["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert all(u.endswith(REDIRECT_PATH) for u in manifest["oauth_config"]["redirect_urls"])
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
