"""One authorised JSON call to a CRM over aiohttp: the token refreshed once on a 401, rate limits
honoured (a short wait here, a long one by the outbox), every failure sorted into the errors of
bot.crm.api. Each vendor says how to read its answers (`Classifier`)."""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp

from bot.crm.api import CrmRateLimited, CrmRejected, CrmUnauthorized, CrmUnavailable

TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)
SHORT_WAIT = 2.0  # a rate limit that clears within this is waited out here; longer goes back to the outbox
WAITS = 2  # short waits per call before it goes back to the outbox


@dataclass(frozen=True)
class Verdict:
    kind: Literal["ok", "unauthorized", "rate_limited", "unavailable", "rejected"]
    message: str = ""
    retry_after: float | None = None  # rate_limited: seconds
    pause: float = 0.0  # seconds no call may go to this CRM connection (its limit is used up)


Classifier = Callable[[int, Mapping[str, str], Any], Verdict]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


class Auth(Protocol):
    async def token(self) -> str:
        """The access token to send (refreshed first when it is about to expire)."""

    async def refresh(self, refused: str) -> str:
        """A new token after `refused` got a 401; raises CrmUnauthorized when there is none."""


class Throttle:
    """When the next call to one CRM connection may go (shared by every write on this replica)."""

    def __init__(self) -> None:
        self.not_before = 0.0

    def hold(self, seconds: float) -> None:
        self.not_before = max(self.not_before, time.monotonic() + seconds)

    async def wait(self) -> None:
        delay = self.not_before - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class Transport:
    def __init__(
        self, http: aiohttp.ClientSession, auth: Auth, classify: Classifier, throttle: Throttle | None = None
    ) -> None:
        self.http = http
        self.auth = auth
        self.classify = classify
        self.throttle = throttle or Throttle()

    async def call(
        self, method: str, url: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> Answer:
        refreshed, waits = False, 0
        token = await self.auth.token()
        while True:
            await self.throttle.wait()
            status, headers, body = await self._send(method, url, token, json, params)
            verdict = self.classify(status, headers, body)
            if verdict.pause > 0:
                self.throttle.hold(verdict.pause)
            where = f"{method} {url.split('?', 1)[0]}"
            if verdict.kind == "ok":
                return Answer(status, body)
            if verdict.kind == "unauthorized":
                if refreshed:
                    raise CrmUnauthorized(f"{where}: {verdict.message} (after a token refresh)")
                refreshed = True
                token = await self.auth.refresh(token)
                continue
            if verdict.kind == "rate_limited":
                after = verdict.retry_after if verdict.retry_after is not None else 1.0
                if after <= SHORT_WAIT and waits < WAITS:
                    waits += 1
                    self.throttle.hold(after)
                    continue
                raise CrmRateLimited(f"{where}: {verdict.message}", retry_after=after)
            if verdict.kind == "unavailable":
                raise CrmUnavailable(f"{where}: {verdict.message}")
            raise CrmRejected(f"{where}: {verdict.message}")

    async def _send(
        self, method: str, url: str, token: str, json: Any, params: Mapping[str, str] | None
    ) -> tuple[int, Mapping[str, str], Any]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            async with self.http.request(
                method, url, json=json, params=params, headers=headers, timeout=TIMEOUT
            ) as resp:
                raw = await resp.read()
                return resp.status, resp.headers, _json(raw)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CrmUnavailable(f"{method} {url.split('?', 1)[0]}: {type(exc).__name__}: {exc}") from None


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return jsonlib.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:500]


def form_post_error(status: int, body: Any) -> str:
    """A token endpoint's refusal in one line (`error` / `error_description`, or HubSpot's `message`)."""
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("error", "error_description", "status", "message") if body.get(k)]
        if parts:
            return f"{status}: {' — '.join(parts)}"
    return f"{status}"


async def post_form(http: aiohttp.ClientSession, url: str, data: Mapping[str, str]) -> dict[str, Any]:
    """POST an OAuth token request (form-encoded, no bearer token); its JSON answer. A refused
    grant (a revoked refresh token, a bad code) is CrmUnauthorized; no answer is CrmUnavailable."""
    try:
        async with http.post(
            url, data=dict(data), timeout=TIMEOUT, headers={"Accept": "application/json"}
        ) as resp:
            status, body = resp.status, _json(await resp.read())
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CrmUnavailable(f"POST {url}: {type(exc).__name__}: {exc}") from None
    if status == 200 and isinstance(body, dict):
        return body
    if status == 429:
        raise CrmRateLimited(f"POST {url}: {form_post_error(status, body)}", retry_after=10.0)
    if status >= 500:
        raise CrmUnavailable(f"POST {url}: {form_post_error(status, body)}")
    raise CrmUnauthorized(f"token request refused: {form_post_error(status, body)}")
