"""Slack's request signature, checked by our own Bolt middleware so a refusal logs our one line.

Bolt's built-in check logs "Invalid request signature detected (... body: ...)": the whole
request, a rep's notes included. The app is built with `request_verification_enabled=False` and
this middleware as `before_authorize` (both public AsyncApp parameters), which puts it where
Bolt's own check runs: before authorization, so an unsigned request never reaches the
installation store or the Web API. The POST /slack/events handler runs the same `refusal` on the
raw bytes before anything parses the body (bot.request_guard computes the v0 signature).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot import log_messages as msg
from bot.request_guard import slack_signature_valid

MAX_AGE_SECONDS = 5 * 60  # what Slack documents and SignatureVerifier enforces


class SignatureCheck(AsyncMiddleware):
    """401 for a request whose X-Slack-Signature does not match; one log line, no content."""

    def __init__(
        self,
        signing_secret: str,
        logger: logging.Logger,
        then: Callable[..., Awaitable[BoltResponse]] | None = None,
    ) -> None:
        # Socket Mode alone has no signing secret: then nothing over HTTP passes.
        self.secret = signing_secret
        self.logger = logger
        # Bolt takes one before_authorize middleware: what must also hold runs after the signature.
        self.then = then

    async def _passed(
        self, req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        return await (self.then(req, req.context, next) if self.then is not None else next())

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        if req.mode == "socket_mode":  # Socket Mode messages come over our own authenticated socket
            return await self._passed(req, next)
        timestamp = _header(req, "x-slack-request-timestamp")
        signature = _header(req, "x-slack-signature")
        fault = refusal(self.secret, req.raw_body.encode("utf-8", "surrogateescape"), timestamp, signature)
        if fault is None:
            return await self._passed(req, next)
        self.logger.warning(msg.SLACK_BAD_SIGNATURE.format(fault=fault))
        return BoltResponse(status=401, body={"error": "invalid request"})


def _header(req: AsyncBoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None


def _fault(timestamp: str | None, signature: str | None) -> str | None:
    """What is wrong before the signature is computed (None: compare it)."""
    if not timestamp or not signature:
        return msg.SLACK_SIGNATURE_HEADERS
    if not timestamp.isdigit():
        return msg.SLACK_SIGNATURE_TIMESTAMP
    if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return msg.SLACK_SIGNATURE_STALE
    return None


def refusal(secret: str, raw: bytes, timestamp: str | None, signature: str | None) -> str | None:
    """Why a request's signature does not hold, as a line for the log; None when it does."""
    if not secret:
        return msg.SLACK_SIGNATURE_NO_SECRET
    fault = _fault(timestamp, signature)
    if fault is not None:
        return fault
    headers = {"X-Slack-Request-Timestamp": timestamp or "", "X-Slack-Signature": signature or ""}
    return None if slack_signature_valid(secret, raw, headers) else msg.SLACK_SIGNATURE_MISMATCH
