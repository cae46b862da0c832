"""The one place the coach reaches past botbuilder-python's public API: `_OpenIdMetadata._refresh`.

Why: botbuilder fetches the signing keys with blocking `requests` on the event loop, no timeout.
Figure (bench/bench_teams.py --shortcuts-each, last line): with the keys endpoint at 100 ms per
call a refresh stalls the event loop ~200 ms by botbuilder's refresh, ~4 ms by this one (no turns/s:
the benchmark runs unauthenticated, so no refresh happens in it).
Switch: SIGNING_KEYS_IN_A_THREAD = False leaves botbuilder's own refresh.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import requests
from botframework.connector.auth import jwt_token_extractor

# The versions these shortcuts were read against; pyproject.toml bounds the same (tests check both).
CHECKED = {
    "botbuilder-core": ">=4.17,<4.18",
    "botbuilder-integration-aiohttp": ">=4.17,<4.18",
    "botframework-connector": ">=4.17,<4.18",
}

# -- the Bot Framework's signing keys -----------------------------------------------------------------
# botbuilder's _OpenIdMetadata fetches the OpenID document and the signing keys with `requests`, on
# the event loop and without a timeout: once a day, and when a token names a key it does not know (at
# most hourly). Every turn in flight waits for those two HTTP calls. The same documents, checks and
# schedule; the calls run in a thread, one refresh at a time, with a timeout. Not a throughput
# shortcut (the benchmark runs without authentication): it removes a stall of two HTTP round trips.
SIGNING_KEYS_IN_A_THREAD = True
KEYS_TIMEOUT = 10.0
_refresh_locks: dict[tuple[int, int], asyncio.Lock] = {}


def _fetch_signing_keys(url: str) -> list[dict[str, Any]]:
    response = requests.get(url, timeout=KEYS_TIMEOUT)
    response.raise_for_status()
    keys = requests.get(response.json()["jwks_uri"], timeout=KEYS_TIMEOUT)
    keys.raise_for_status()
    return list(keys.json()["keys"])


async def _refresh_in_a_thread(self: Any) -> None:
    lock = _refresh_locks.setdefault((id(self), id(asyncio.get_running_loop())), asyncio.Lock())
    seen = self.last_updated
    async with lock:
        if self.last_updated != seen:
            return  # another turn refreshed them while this one waited
        keys = await asyncio.to_thread(_fetch_signing_keys, self.url)
        self.keys, self.last_updated = keys, datetime.now()


def fetch_signing_keys_in_a_thread() -> None:
    """Replace `_OpenIdMetadata._refresh` (when SIGNING_KEYS_IN_A_THREAD; else leave botbuilder's)."""
    if not SIGNING_KEYS_IN_A_THREAD:
        return
    metadata = getattr(jwt_token_extractor, "_OpenIdMetadata", None)
    if metadata is not None and hasattr(metadata, "_refresh"):
        metadata._refresh = _refresh_in_a_thread

