"""Which workspaces the Slack channel serves: a single-workspace token its own team only (learned
from auth.test), OAuth only the installed teams. Bolt's `before_authorize` hook: it runs after the
signature check and before Bolt's own authorization, so a foreign team gets 401 and no listener.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncBoltContext, AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg

log = logging.getLogger("coach.slack")

# Requests Slack sends with no workspace to authorize (Bolt answers these itself).
NO_TEAM_REQUESTS = ("url_verification", "ssl_check")
# Events that delete a workspace's stored tokens; they may arrive after its bot token is gone
# (tokens_revoked first, then app_uninstalled), so OAuth lets them through as Bolt does.
UNINSTALL_EVENTS = ("app_uninstalled", "tokens_revoked", "team_access_revoked")
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 300.0


class OwnWorkspace:
    """The workspace a single-workspace bot token belongs to: auth.test's team_id, asked at start
    and, while unknown, again on a request at most every `backoff` seconds (doubling)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.team_id: str | None = None
        self.backoff = FIRST_BACKOFF
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    async def learn(self) -> str | None:
        if self.team_id is not None:
            return self.team_id
        async with self._lock:
            if self.team_id is None and self._due():
                await self._ask()
        return self.team_id

    def _due(self) -> bool:
        return self._failed_at is None or time.monotonic() >= self._failed_at + self.backoff

    async def _ask(self) -> None:
        retrying = self._failed_at is not None
        try:
            answer = await self.client.auth_test()
            team = answer.get("team_id")
            if not isinstance(team, str) or not team:
                raise SlackClientError("auth.test named no team_id")
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            if retrying:
                self.backoff = min(self.backoff * 2, MAX_BACKOFF)
            self._failed_at = time.monotonic()
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
            log.warning(msg.SLACK_AUTH_TEST_FAILED.format(error=error, seconds=round(self.backoff)))
            return
        self.team_id = team
        if retrying:
            log.info(msg.SLACK_AUTH_TEST_OK.format(team=team))


def own_teams_only(
    own: OwnWorkspace | None, installations: AsyncInstallationStore | None
) -> Callable[..., Awaitable[BoltResponse]]:
    """The before_authorize middleware: 401 for a team this bot does not serve."""

    async def gate(req: AsyncBoltRequest, context: AsyncBoltContext,
                   next: Callable[[], Awaitable[Any]]) -> BoltResponse:
        body = req.body or {}
        if body.get("type") in NO_TEAM_REQUESTS or body.get("ssl_check"):
            return await next()
        team = context.team_id
        if own is not None:
            served = team is not None and team == await own.learn()
        elif installations is not None:
            # An org-wide install names its enterprise, not a team; the store finds it by that.
            named = team is not None or bool(context.is_enterprise_install and context.enterprise_id)
            served = _uninstall_event(body) or (named and await installations.async_find_bot(
                enterprise_id=context.enterprise_id, team_id=team,
                is_enterprise_install=context.is_enterprise_install) is not None)
        else:
            served = False
        if not served:
            log.warning(msg.SLACK_FOREIGN_TEAM.format(team=str(team)[:40]))
            return BoltResponse(status=401, body='{"error": "invalid request"}',
                                headers={"content-type": "application/json"})
        return await next()

    return gate


def _uninstall_event(body: dict[str, Any]) -> bool:
    event = body.get("event")
    return body.get("type") == "event_callback" and isinstance(event, dict) \
        and event.get("type") in UNINSTALL_EVENTS
