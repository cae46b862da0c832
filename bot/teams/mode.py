"""Whether Teams is on, and how, from the settings alone (no botbuilder import when it is off)."""

from __future__ import annotations

from typing import Literal

from bot.config import Settings

TeamsMode = Literal["off", "emulator", "app_id"]


def teams_mode(settings: Settings) -> TeamsMode:
    """`app_id`: every request JWT-validated by botbuilder. `emulator`: no token check, for the
    local Bot Framework Emulator, only when an operator asks for it (server.teams_emulator or
    `coach serve --teams-emulator`). `off`: POST /api/messages is not mounted (404)."""
    if settings.microsoft_app_id:
        return "app_id"
    if settings.org.server.teams_emulator:
        return "emulator"
    return "off"


def with_teams_emulator(settings: Settings) -> Settings:
    """The same settings with server.teams_emulator on (what `coach serve --teams-emulator` does)."""
    server = settings.org.server.model_copy(update={"teams_emulator": True})
    org = settings.org.model_copy(update={"server": server})
    return settings.model_copy(update={"org": org})
