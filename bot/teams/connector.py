"""The outbound half of Bot Framework: a connector client on one shared aiohttp session.

botbuilder's stock path builds a msrest ConnectorClient (and its retry policy) per turn and sends
through `requests` in a thread on a new connection. This client does the same REST calls
(`/v3/conversations/...`) on pooled keep-alive connections, one client per (service URL, app id,
audience), with the bearer token from botbuilder's own credentials. It retries 429 (honouring
Retry-After) and 5xx with backoff, and keeps under Teams' per-conversation rate limits.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.schema import Activity, ResourceResponse
from yarl import URL

from bot.teams import msrest_internals
from storage.errors import CoachError

RETRY_STATUSES = {429, 500, 502, 503, 504}
# Teams' per-bot, per-conversation limits: (messages, seconds).
TEAMS_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TOKEN_TTL = 120.0  # seconds we reuse a token before asking the credentials (and MSAL's cache) again


class ConnectorError(CoachError):
    """The connector refused or failed a call (after retries, for 429 and 5xx)."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, status=status, retry_after=retry_after)
        self.status = status
        self.retry_after = retry_after

    @property
    def unreachable(self) -> bool:
        """403 and 404: the bot was removed, the app uninstalled, or the conversation is gone."""
        return self.status in (403, 404)


class ConversationLimiter:
    """Teams' documented per-bot, per-conversation limits, as sliding windows (per process).

    Default: 7 messages per second, 8 per 2 s, 60 per 30 s, 1800 per hour.
    """

    def __init__(self, windows: tuple[tuple[int, float], ...] = TEAMS_LIMITS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.windows = windows
        self.clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._horizon = max(w for _, w in windows)

    def _wait(self, sent: deque[float], now: float) -> float:
        wait = 0.0
        for limit, window in self.windows:
            in_window = [t for t in sent if t > now - window]
            if len(in_window) >= limit:
                wait = max(wait, in_window[-limit] + window - now)
        return wait

    async def acquire(self, conversation_id: str) -> None:
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            sent = self._sent.setdefault(conversation_id, deque())
            while True:
                now = self.clock()
                while sent and sent[0] <= now - self._horizon:
                    sent.popleft()
                wait = self._wait(sent, now)
                if wait <= 0:
                    sent.append(now)
                    break
                await asyncio.sleep(wait)
        if len(self._sent) > 10_000:
            self._forget_idle()

    def _forget_idle(self) -> None:
        cutoff = self.clock() - self._horizon
        for key in [k for k, v in self._sent.items() if not v or v[-1] <= cutoff]:
            self._sent.pop(key, None)
            lock = self._locks.get(key)
            if lock is not None and not lock.locked():
                self._locks.pop(key, None)


class ConnectorPool:
    """One aiohttp session for every outbound Bot Framework call, and the clients that use it."""

    def __init__(self, *, attempts: int = 4, backoff: float = 0.5, max_wait: float = 30.0,
                 limiter: ConversationLimiter | None = None, timeout: float = 15.0) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self.limiter = limiter or ConversationLimiter()
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[tuple[str, str, str], TeamsConnectorClient] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=200, limit_per_host=100, keepalive_timeout=30),
                timeout=self.timeout,
                headers={"User-Agent": "ClosingCoach (BotBuilder Python; aiohttp)"},
            )
        return self._session

    def client(self, service_url: str, credentials: Any, audience: str = "") -> TeamsConnectorClient:
        app_id = getattr(credentials, "microsoft_app_id", None) or ""
        key = (service_url.rstrip("/"), app_id, audience)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = TeamsConnectorClient(self, key[0], credentials)
        return client

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._clients.clear()


class TeamsConnectorClient:
    """What CloudAdapterBase needs of a ConnectorClient: `.conversations.<operation>(...)`."""

    def __init__(self, pool: ConnectorPool, service_url: str, credentials: Any) -> None:
        self.pool = pool
        self.service_url = service_url
        self.credentials = credentials
        self.conversations = _Conversations(self)
        self._token: str | None = None
        self._token_until = 0.0

    async def _authorization(self, refresh: bool = False) -> str | None:
        creds = self.credentials
        if not getattr(creds, "microsoft_app_id", None):
            return None  # authentication disabled (Emulator on loopback): no token to send
        if refresh or self._token is None or time.monotonic() >= self._token_until:
            # MSAL is synchronous and may call AAD: keep it off the event loop.
            self._token = await asyncio.to_thread(creds.get_access_token, refresh)
            self._token_until = time.monotonic() + TOKEN_TTL
        return f"Bearer {self._token}"

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None,
                   *, conversation_id: str | None = None) -> dict[str, Any]:
        """One REST call with retries; the conversation's rate limit is taken once per message."""
        if conversation_id is not None and method == "POST":
            await self.pool.limiter.acquire(conversation_id)
        url = URL(self.service_url + path, encoded=True)
        refreshed = False
        for attempt in range(1, self.pool.attempts + 1):
            headers = {}
            auth = await self._authorization()
            if auth:
                headers["Authorization"] = auth
            try:
                async with self.pool.session.request(method, url, json=body, headers=headers) as resp:
                    if resp.status < 300:
                        if resp.content_type == "application/json":
                            data = await resp.json()
                            return data if isinstance(data, dict) else {}
                        await resp.read()
                        return {}
                    text = (await resp.text())[:300]
                    status, retry_after = resp.status, _retry_after(resp.headers.get("Retry-After"))
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                status, retry_after, text = 503, None, f"{type(exc).__name__}: {exc}"
            if status == 401 and auth and not refreshed:
                self._token, refreshed = None, True  # a revoked or expired token: fetch once more
                await self._authorization(refresh=True)
                continue
            if status not in RETRY_STATUSES or attempt == self.pool.attempts:
                raise ConnectorError(status, f"{method} {path}: HTTP {status} {text}",
                                     retry_after=retry_after)
            delay = retry_after if retry_after is not None else self.pool.backoff * 2 ** (attempt - 1)
            await asyncio.sleep(min(self.pool.max_wait, delay) * (1 + random.random() * 0.1))
        raise AssertionError("unreachable")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _path(conversation_id: str, activity_id: str | None = None) -> str:
    path = f"/v3/conversations/{quote(conversation_id, safe='')}/activities"
    return f"{path}/{quote(activity_id, safe='')}" if activity_id else path


def activity_json(activity: Activity) -> dict[str, Any]:
    """The activity as the connector's JSON. msrest walks a card's content value by value (with an
    eval per string); a card is plain JSON already, so it is put back as it is. The rest goes
    through bot.teams.msrest_internals."""
    attachments = activity.attachments or []
    contents = [a.content for a in attachments]
    for a in attachments:
        a.content = None
    try:
        body = msrest_internals.serialize(activity)
    finally:
        for a, content in zip(attachments, contents, strict=True):
            a.content = content
    for item, content in zip(body.get("attachments", []), contents, strict=True):
        if content is not None:
            item["content"] = content
    return body


def _response(data: dict[str, Any]) -> ResourceResponse:
    return ResourceResponse(id=data.get("id"))


class _Conversations:
    def __init__(self, client: TeamsConnectorClient) -> None:
        self._client = client

    async def send_to_conversation(self, conversation_id: str, activity: Activity) -> ResourceResponse:
        return _response(await self._client.call(
            "POST", _path(conversation_id), activity_json(activity), conversation_id=conversation_id))

    async def reply_to_activity(self, conversation_id: str, activity_id: str,
                                activity: Activity) -> ResourceResponse:
        return _response(await self._client.call(
            "POST", _path(conversation_id, activity_id), activity_json(activity),
            conversation_id=conversation_id))

    async def update_activity(self, conversation_id: str, activity_id: str,
                              activity: Activity) -> ResourceResponse:
        return _response(await self._client.call(
            "PUT", _path(conversation_id, activity_id), activity_json(activity),
            conversation_id=conversation_id))

    async def delete_activity(self, conversation_id: str, activity_id: str) -> None:
        await self._client.call("DELETE", _path(conversation_id, activity_id))
