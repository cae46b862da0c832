"""Reading what arrives on the inbound endpoints without letting malformed input become a 500.

Every channel's endpoint hands its body to these before any handler sees it: a body in an unknown
charset, not valid in its charset, not JSON, nested deeper than the parser goes (orjson stops at
1024 levels and says so, where the standard parser would exhaust the stack) or the wrong shape
raises MalformedBody, which the endpoint answers with a 4xx and one log line.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiohttp import web

from bot import log_messages as msg

log = logging.getLogger("coach.requests")

SLACK_WINDOW_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class MalformedBody(Exception):
    """The body cannot be read as what the endpoint takes; `reason` says why, for the log."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def refused(request: web.Request, exc: MalformedBody) -> None:
    """The one log line for a refused body (a warning: the sender's mistake, not ours)."""
    log.warning(msg.MALFORMED_BODY.format(path=request.path, status=exc.status, reason=exc.reason))


def decode(raw: bytes, charset: str | None) -> str:
    """The body as text in its declared charset (UTF-8 when none is named)."""
    try:
        return raw.decode(codecs.lookup(charset or "utf-8").name)
    except LookupError:
        raise MalformedBody("unknown charset", status=415) from None
    except UnicodeDecodeError:
        raise MalformedBody("not valid in its charset") from None


def parse_json(text: str) -> Any:
    """JSON by orjson, which refuses lone surrogates and nesting past 1024 levels by raising."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise MalformedBody("not JSON, or nested too deep") from None


async def json_body(request: web.Request) -> Any:
    """The request's JSON body (any JSON value: the caller checks its shape)."""
    return parse_json(decode(await request.read(), request.charset))


def slack_signature_valid(
    secret: str, raw: bytes, headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> bool:
    """Slack's v0 request signature over the raw bytes (what slack_sdk's SignatureVerifier checks,
    without decoding the body first or trusting the timestamp header to be a number)."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or abs(now() - int(timestamp)) > SLACK_WINDOW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
