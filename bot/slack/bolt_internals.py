"""The one place the coach reaches past slack-bolt's public API: building an AsyncBoltRequest.

Why: a view submission is ~20 kB URL-encoded; Bolt decodes it with urllib and json, this with
yarl's C unquoter and orjson. Figure (bench/bench_slack.py --shortcuts-each --commands 0): view
submissions 1.57 -> 1.06 ms coach CPU each (32%), 555 -> ~790 submissions/s.
Switch: FAST_FORM_PAYLOAD = False decodes every body with Bolt's own `parse_body`.

Either way a body that does not decode (not UTF-8, broken JSON, JSON nested deeper than the
parser goes, JSON that is not an object) raises MalformedBody instead of failing inside Bolt.
"""

from __future__ import annotations

from typing import Any

import orjson
import yarl
from aiohttp import web
from slack_bolt.async_app import AsyncBoltContext, AsyncBoltRequest
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.internals import parse_body

from bot.request_guard import MalformedBody

CHECKED = {"slack-bolt": ">=1.30,<1.31", "slack-sdk": ">=3.48,<3.49"}
FAST_FORM_PAYLOAD = True


async def bolt_request(request: web.Request) -> AsyncBoltRequest:
    """Bolt's aiohttp `to_bolt_request`, faster for interactivity: the `payload=` form is decoded by
    yarl's C unquoter instead of urllib's pure-Python one, which cost more CPU than storing the
    debrief, and its JSON by orjson (the standard parser took a tenth of the bot's CPU per
    submission). The raw body stays as it came, for the signature check; any other body is
    decoded by Bolt's `parse_body`. Slack posts UTF-8 whatever charset a header names. Relies on
    AsyncBoltRequest's attributes, `parse_body` and `build_async_context` (Bolt internals)."""
    try:
        raw = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("not UTF-8") from None
    payload = _form_payload(raw) if FAST_FORM_PAYLOAD else None
    if payload is None:
        payload = _bolt_parse(raw, request)
    bolt = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
    bolt.raw_body = raw
    bolt.body = payload
    bolt.context = build_async_context(AsyncBoltContext({}), payload)
    return bolt


def _bolt_parse(raw: str, request: web.Request) -> dict[str, Any]:
    """The body as Bolt's own parser reads it; MalformedBody when that fails or is not an object."""
    try:
        parsed = parse_body(raw, request.content_type)
    except RecursionError:
        raise MalformedBody("JSON nested too deep") from None
    except ValueError:
        raise MalformedBody("not JSON") from None
    if not isinstance(parsed, dict):
        raise MalformedBody("not a JSON object")
    return parsed


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
