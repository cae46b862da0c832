"""The running Slack channel's handle: the Bolt app, its Web API client and where tokens come from."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.own_team import OwnWorkspace


@dataclass
class SlackRuntime:
    """The running Slack channel: the Bolt app, its Web API client and where tokens come from."""

    bolt: AsyncApp
    client: AsyncWebClient
    settings: Settings
    installations: AsyncInstallationStore | None = None
    own: OwnWorkspace | None = None  # single workspace: the token's team (auth.test)

    async def bot_token(self, team_id: str) -> str | None:
        """The bot token for a workspace: the single token, or the stored installation's."""
        if self.installations is None:
            token = self.settings.slack_bot_token
            return token.get_secret_value() if token else None
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None


SLACK = web.AppKey("slack", SlackRuntime)


def web_client(settings: Settings, session: aiohttp.ClientSession, token: str | None) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL, one pooled session, 429 (Retry-After) and 5xx retries."""
    base_url = settings.slack_api_url.rstrip("/") + "/"
    web_log = logging.getLogger("coach.slack.web")
    if web_log.level == logging.NOTSET:
        # slack_sdk formats its debug lines (whole request and response bodies) whenever its
        # logger's own level is NOTSET, logged or not; a level skips that unless asked for DEBUG.
        web_log.setLevel(logging.INFO)
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        logger=web_log,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )
