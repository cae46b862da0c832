"""A fake chat platform at the HTTP boundary, and the Sender that talks to it.

`ChatSink` is an aiohttp server on port 0 that records every delivered message (keyed by the
outbox-free message id the sender puts in it) and can answer 429 (with Retry-After) or 500 to a
share of the calls. `HttpSender` is a minimal Sender for it: 429 -> DeliveryError(retry_after),
5xx -> retryable DeliveryError, 403 -> permanent, 410 -> unreachable. `RecordingSender` keeps
messages in memory for unit tests of the scheduler's bookkeeping.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.delivery import DeliveryError, Outgoing
from storage.models import Person
from tests.serving import serve


@dataclass
class ChatSink:
    failure_rate: float = 0.0
    retry_after: str = "0"
    seed: int = 7
    url: str = ""
    delivered: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    _rng: random.Random = field(init=False)
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    async def start(self) -> ChatSink:
        app = web.Application()
        app.router.add_post("/send", self._send)
        self._runner, self.url = await serve(app)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.failure_rate and self._rng.random() < self.failure_rate:
            self.refused += 1
            if self._rng.random() < 0.5:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": self.retry_after},
                )
            return web.json_response({"ok": False, "error": "internal"}, status=500)
        self.delivered.append(body)
        return web.json_response({"ok": True})

    def counts(self, key: str = "meeting_id") -> Counter[Any]:
        return Counter(m.get(key) for m in self.delivered)


class HttpSender:
    """Posts {person, meeting_id, texts} to the sink."""

    def __init__(self, url: str, session: aiohttp.ClientSession, platform: str = "web") -> None:
        self.url = url + "/send"
        self.session = session
        self.platform = platform

    async def send(self, *, person: Person, message: Outgoing) -> None:
        first = message.replies[0] if message.replies else None
        body = {
            "person": person.id,
            "meeting_id": first.meta.get("meeting_id") if first else None,
            "texts": [r.text for r in message.replies],
            "titles": [r.title for r in message.replies],
        }
        async with self.session.post(self.url, json=body) as response:
            if response.status == 200:
                return
            if response.status == 429:
                raise DeliveryError(
                    "rate limited", retry_after=float(response.headers.get("Retry-After", "1"))
                )
            if response.status == 410:
                raise DeliveryError("gone", permanent=True, unreachable=True)
            if response.status in (401, 403, 404):
                raise DeliveryError(f"HTTP {response.status}", permanent=True)
            raise DeliveryError(f"HTTP {response.status}")


class RecordingSender:
    """Keeps what it was asked to send; `fail_with` raises that DeliveryError instead."""

    def __init__(self, platform: str = "web") -> None:
        self.platform = platform
        self.sent: list[tuple[int, Outgoing]] = []
        self.fail_with: DeliveryError | None = None
        self.gate: asyncio.Event | None = None  # when set to an unset Event, sends block on it

    async def send(self, *, person: Person, message: Outgoing) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        assert person.id is not None
        self.sent.append((person.id, message))
