"""Whether Slack is on, and how, from the credentials alone (no slack_bolt import when it is off)."""

from __future__ import annotations

from bot.config import Settings


def slack_mode(settings: Settings) -> str | None:
    """How Slack runs with these credentials, or None when it is off.

    A bot token (one workspace) or OAuth client credentials (many) say where tokens come from;
    SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP) say how requests arrive.
    """
    oauth = bool(settings.slack_client_id and settings.slack_client_secret)
    if not (oauth or settings.slack_bot_token):
        return None
    tokens = "OAuth install at /slack/install" if oauth else "single workspace"
    if settings.slack_app_token:
        return f"Socket Mode, {tokens}"
    if settings.slack_signing_secret:
        return f"HTTP, {tokens}"
    return None
