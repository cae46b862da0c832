"""Prometheus metrics of one app instance (own registry, no module globals) and GET /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "coach_http_request_seconds",
            "HTTP request latency by route and status.",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.debriefs = Counter(
            "coach_debriefs_total",
            "Debriefs submitted, by channel and result: stored, or a repeat (a retry or a double "
            "click, stored once).",
            ["channel", "result"],
            registry=self.registry,
        )
        self.messages = Counter(
            "coach_messages_total", "Messages handled, by channel.", ["channel"],
            registry=self.registry,
        )
        self.outbox = Counter(
            "coach_outbox_messages_total",
            "Scheduled messages (nudges, prompts, digests...) this replica's scheduler handled, by kind "
            "and outcome: sent, retried (a later attempt is planned), failed, cancelled.",
            ["kind", "outcome"],
            registry=self.registry,
        )

    def debrief(self, channel: str, *, created: bool) -> None:
        """A debrief submitted on `channel`: stored, or a repeat of one already stored."""
        self.debriefs.labels(channel, "stored" if created else "repeat").inc()

    def outbox_outcome(self, kind: str, outcome: str) -> None:
        self.outbox.labels(kind, outcome).inc()

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            self.requests.labels(route, request.method, str(status)).observe(
                time.perf_counter() - start
            )

    async def handle(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
