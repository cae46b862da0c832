"""The one place the coach reaches past slack-bolt's public API: building an AsyncBoltRequest.

Why: a view submission is ~20 kB URL-encoded; Bolt decodes it with urllib and json, this with
yarl's C unquoter and orjson. Figure (bench/bench_slack.py --shortcuts-each --commands 0): view
submissions 1.57 -> 1.06 ms coach CPU each (32%), 555 -> ~790 submissions/s.
Switch: FAST_FORM_PAYLOAD = False sends every body through Bolt's `to_bolt_request`.
"""

from __future__ import annotations

from typing import Any

import orjson
import yarl
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_bolt_request
from slack_bolt.async_app import AsyncBoltContext, AsyncBoltRequest
from slack_bolt.request.async_internals import build_async_context

CHECKED = {"slack-bolt": ">=1.30,<1.31", "slack-sdk": ">=3.48,<3.49"}
FAST_FORM_PAYLOAD = True


async def bolt_request(request: web.Request) -> AsyncBoltRequest:
    """Bolt's aiohttp `to_bolt_request`, faster for interactivity: the `payload=` form is decoded by
    yarl's C unquoter instead of urllib's pure-Python one, which cost more CPU than storing the
    debrief, and its JSON by orjson (the standard parser took a tenth of the bot's CPU per
    submission). The raw body stays as it came, for the signature check; any other body goes
    Bolt's way. Relies on AsyncBoltRequest's attributes and `build_async_context` (Bolt internals)."""
    if not FAST_FORM_PAYLOAD:
        return await to_bolt_request(request)
    raw = await request.text()
    payload = _form_payload(raw)
    if payload is None:
        return await to_bolt_request(request)
    bolt = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
    bolt.raw_body = raw
    bolt.body = payload
    bolt.context = build_async_context(AsyncBoltContext({}), payload)
    return bolt


def _form_payload(raw: str) -> dict[str, Any] | None:
    """The JSON `payload` of a form body that holds only that field (what Slack posts for
    interactivity), or None for anything else (commands, JSON events, odd shapes)."""
    if not raw.startswith("payload=") or "&" in raw:
        return None
    value = yarl.URL.build(query_string=raw, encoded=True).query.get("payload")
    if value is None:
        return None
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
