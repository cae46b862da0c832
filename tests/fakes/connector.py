"""A fake Bot Framework connector (the service behind a Teams activity's serviceUrl), on port 0.

It records every call (new messages, replies, updates, deletes) and can answer the next calls with
an error status (429 with Retry-After, 403, 500) on demand. No sleeps, no fixed port.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.serving import serve


@dataclass
class Call:
    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None
    status: int

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return list(self.body.get("attachments") or [])

    @property
    def card(self) -> dict[str, Any] | None:
        for a in self.attachments:
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return dict(a["content"])
        return None

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")

    @property
    def shown(self) -> str:
        """Everything a person would read: the text, and the text blocks and buttons of a card."""
        parts = [self.text]

        def walk(node: object) -> None:
            if isinstance(node, dict):
                if node.get("type") == "TextBlock" or node.get("type", "").startswith("Action."):
                    parts.append(str(node.get("text") or node.get("title") or ""))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.card or {})
        return "\n".join(p for p in parts if p)


@dataclass
class FakeConnector:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    _failures: list[tuple[int, dict[str, str], str | None]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    delay: float = 0.0

    def fail_next(
        self, status: int, times: int = 1, retry_after: str | None = None, method: str | None = None
    ) -> None:
        """Answer the next `times` calls (of HTTP `method` only, when given: "POST" sends a new
        message, "PUT" updates one) with `status`."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._failures += [(status, headers, method)] * times

    @property
    def delivered(self) -> list[Call]:
        """Calls that succeeded (what a person would actually see)."""
        return [c for c in self.calls if c.status < 300]

    def sent(self) -> list[Call]:
        return [c for c in self.delivered if c.method == "POST"]

    def updates(self) -> list[Call]:
        return [c for c in self.delivered if c.method == "PUT"]

    def clear(self) -> None:
        self.calls.clear()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        status, headers = 200, {}
        for n, (failing, failing_headers, method) in enumerate(self._failures):
            if method in (None, request.method):
                status, headers = failing, failing_headers
                del self._failures[n]
                break
        call = Call(request.method, request.match_info["conversation"],
                    request.match_info.get("activity"), body,
                    request.headers.get("Authorization"), status)
        self.calls.append(call)
        if self.delay:
            await asyncio.sleep(self.delay)
        if status >= 300:
            return web.json_response({"error": {"code": "Fake", "message": f"status {status}"}},
                                     status=status, headers=headers)
        if request.method == "DELETE":
            return web.Response(status=200)
        return web.json_response({"id": call.activity_id if request.method == "PUT"
                                  else f"activity-{next(self._ids)}"})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        base = "/v3/conversations/{conversation}/activities"
        app.router.add_post(base, self.handle)
        app.router.add_post(base + "/{activity}", self.handle)
        app.router.add_put(base + "/{activity}", self.handle)
        app.router.add_delete(base + "/{activity}", self.handle)
        return app


async def start_connector(host: str = "127.0.0.1") -> tuple[FakeConnector, web.AppRunner]:
    fake = FakeConnector()
    runner, url = await serve(fake.app(), host)
    fake.url = f"{url}/"
    return fake, runner
