"""Slack's request signature, checked by our own Bolt middleware so a refusal logs our one line.

Bolt's built-in check logs "Invalid request signature detected (... body: ...)": the whole
request, a rep's notes included. The app is built with `request_verification_enabled=False` and
this middleware as `before_authorize` (both public AsyncApp parameters), which puts it where
Bolt's own check runs: before authorization, so an unsigned request never reaches the
installation store or the Web API. The check itself is slack_sdk's SignatureVerifier.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot import log_messages as msg

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
        self.verifier = SignatureVerifier(signing_secret=signing_secret) if signing_secret else None
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
        fault = msg.SLACK_SIGNATURE_NO_SECRET if self.verifier is None else _fault(timestamp, signature)
        if fault is None and self.verifier is not None and self.verifier.is_valid(
            req.raw_body, timestamp, signature
        ):
            return await self._passed(req, next)
        self.logger.warning(msg.SLACK_BAD_SIGNATURE.format(fault=fault or msg.SLACK_SIGNATURE_MISMATCH))
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
