"""A web chat visitor over real HTTP for the tests: one cookie jar, the page's calls."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.conftest import LiveApp


class Visitor:
    """One browser: its own cookie jar, the page's calls."""

    def __init__(self, http: aiohttp.ClientSession, live: LiveApp) -> None:
        self.http = http
        self.url = live.url

    async def say(self, text: str, **payload: Any) -> dict[str, Any]:
        async with self.http.post(f"{self.url}/webchat/messages", json={"text": text, **payload}) as r:
            assert r.status == 200, await r.text()
            return dict(await r.json())

    async def suggest(self, typed: str, **headers: str) -> tuple[int, Any]:
        async with self.http.get(f"{self.url}/webchat/accounts", params={"q": typed}, headers=headers) as r:
            return r.status, (await r.json() if r.content_type == "application/json" else await r.text())
