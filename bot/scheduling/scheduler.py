"""The outbox scheduler: claims due rows with a lease, renders them by `kind`, sends them through
the person's platform Sender, and records the outcome. Any number of replicas may run it on one
PostgreSQL database; each row is delivered once.

Extending: `bot.scheduling.kinds.renderers()` maps an outbox `kind` to a renderer, an async callable
`(ctx: CoachContext, item: storage.outbox.Item) -> list[Reply] | Outgoing | None`; each app builds
its own registry from it. Enqueue rows with `storage.outbox.enqueue(session=..., dedup_key=...,
kind=..., person_id=..., due_at=..., payload=..., expires_at=...)` and add the renderer there.
Returning None cancels the row (nothing to say any more); raising retries it with backoff.
Work, not a message (a CRM write), is an action in app[ACTIONS]: (ctx, item) -> None, or DeliveryError.
A row past `expires_at` is marked expired instead of sent late. A row stored to go out at once (a
debrief's tips, kind dialogs.debrief.TIPS; a channel's answer after its ack, dialogs.answers.REPLY)
is followed by `Scheduler.wake()` (`wake_scheduler(app)`), so it is claimed within moments instead
of at the next poll.

Outcomes: sent; retried with exponential backoff (or after `Retry-After`) up to `max_attempts`;
failed (permanent error, kept with `last_error`); cancelled (person unreachable: skipped, or the
renderer said so); expired. A replica that dies leaves its claims to be re-claimed after the lease.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web
from sqlalchemy.pool import StaticPool

from bot import log_messages as msg
from bot.delivery import SENDERS, DeliveryError, Outgoing, Sender
from bot.keys import COACH, METRICS, SETTINGS
from bot.scheduling.feeds import poll_feeds_forever
from bot.scheduling.kinds import Action, BatchRenderer, Rendered, Renderer, batch_renderers, renderers
from dialogs.context import CoachContext
from storage import directory, outbox
from storage.models import OutboxStatus, Person, not_null

log = logging.getLogger("coach.scheduler")
SQLITE_SENDS = 16  # sends at once on a SQLite file (their database work still goes one at a time)
_NOT_RENDERED = object()


@dataclass(frozen=True)
class SchedulerConfig:
    batch_size: int = 200
    lease: timedelta = timedelta(seconds=120)
    concurrency: int = 64
    poll_interval: float = 1.0
    pipelines: int = 2  # concurrent claim loops: one batch renders while another sends
    max_attempts: int = 8
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    wake_gather: float = 0.05  # after a wake, let the rows of a burst arrive to claim them together


def worker_name() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Scheduler:
    def __init__(
        self,
        *,
        ctx: CoachContext,
        senders: Mapping[str, Sender],
        config: SchedulerConfig | None = None,
        kinds: Mapping[str, Renderer] | None = None,
        batch_kinds: Mapping[str, BatchRenderer] | None = None,
        worker: str | None = None,
        outcomes: Callable[[str, str], None] | None = None,
        actions: Mapping[str, Action] | None = None,
    ) -> None:
        self.ctx = ctx
        self.outcomes = outcomes  # told (kind, "sent" | "retried" | "failed" | "cancelled"): /metrics
        self.senders = senders
        self.config = config or SchedulerConfig()
        self.kinds = renderers() if kinds is None else kinds
        self.actions = actions or {}
        self.batch_kinds = batch_renderers() if batch_kinds is None and kinds is None else (batch_kinds or {})
        self.worker = worker or worker_name()
        bind = getattr(ctx.db, "kw", {}).get("bind")
        if bind is not None and bind.dialect.name == "sqlite":
            # SQLite has one writer: one pipeline. A file's sessions queue for its one connection, so
            # sends may overlap (and their marks share a commit); an in-memory database's one
            # connection is shared outright (StaticPool): send in turn.
            shared = isinstance(bind.pool, StaticPool)
            self.config = replace(self.config, pipelines=1,
                                  concurrency=1 if shared else min(self.config.concurrency, SQLITE_SENDS))
        self._queued: list[tuple[int, asyncio.Future[None]]] = []
        self._marking = False
        self._woken = asyncio.Event()
        self._at_once = False

    def wake(self, *, at_once: bool = False) -> None:
        """Look for due rows now instead of at the next poll (a row was just stored to send at once).
        `at_once`: without waiting `wake_gather` for more rows of a burst (someone awaits an answer)."""
        self._at_once = self._at_once or at_once
        self._woken.set()

    # -- the loop ---------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Claim and deliver until `stop` is set; catches up on everything due at start."""
        await asyncio.gather(
            *(self._pipeline(stop, woken=n == 0) for n in range(max(1, self.config.pipelines)))
        )

    async def _pipeline(self, stop: asyncio.Event, woken: bool = True) -> None:
        """Claim and deliver in a loop; `woken`: this one answers wakes (one does: a burst's rows
        are claimed in one batch, not once by each pipeline, and the others poll)."""
        while not stop.is_set():
            if woken:
                self._woken.clear()  # a wake during this batch is kept: the wait returns at once
                self._at_once = False
            try:
                handled = await self.run_once()
            except Exception as exc:  # the database is away; keep the replica alive and retry
                log.warning(msg.SCHEDULER_ERROR.format(error=repr(exc)))
                handled = 0
            if handled < self.config.batch_size:  # all that was due is done: wait for more
                await self._idle(stop, woken)

    async def _idle(self, stop: asyncio.Event, woken: bool) -> None:
        """Wait for the poll interval, the stop or (when `woken`) a wake, whichever comes first."""
        waits = {asyncio.ensure_future(stop.wait())}
        if woken:
            waits.add(asyncio.ensure_future(self._woken.wait()))
        _, pending = await asyncio.wait(
            waits, timeout=self.config.poll_interval, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if woken and self._woken.is_set() and not stop.is_set() and not self._at_once:
            await asyncio.sleep(self.config.wake_gather)

    async def run_once(self) -> int:
        """One batch: release dead replicas' leases, claim, render and send. Returns rows claimed."""
        now = self.ctx.clock()
        async with self.ctx.db() as session, session.begin():
            await outbox.release_expired_leases(session=session, now=now)
            items = await outbox.claim(
                session=session,
                worker=self.worker,
                now=now,
                lease=self.config.lease,
                limit=self.config.batch_size,
            )
        if not items:
            return 0
        async with self.ctx.db() as session:
            people = await outbox.recipients(session=session, person_ids=[i.person_id for i in items])
        ready: list[outbox.Item] = []
        for item in items:
            verdict = self.precheck(item, people.get(item.person_id), now)
            if verdict is None:
                ready.append(item)
            else:
                await self._final(item, *verdict)
        prerendered = await self._render_batches(ready)
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one(item: outbox.Item) -> None:
            async with gate:
                await self.deliver(item, people[item.person_id], prerendered.get(item.id, _NOT_RENDERED))

        await asyncio.gather(*(one(i) for i in ready))
        return len(items)

    def precheck(
        self, item: outbox.Item, recipient: outbox.Recipient | None, now: datetime
    ) -> tuple[str, str] | None:
        """(status, reason) for a row that must not be rendered at all; None to go on."""
        if recipient is None:
            return OutboxStatus.CANCELLED, "person no longer exists"
        if item.expires_at is not None and now >= item.expires_at:
            return OutboxStatus.EXPIRED, "no longer useful"
        if not recipient.person.reachable and item.kind not in self.actions:
            return OutboxStatus.CANCELLED, "skipped: person unreachable"
        if item.kind not in {**self.kinds, **self.batch_kinds, **self.actions}:
            return OutboxStatus.FAILED, f"no renderer for kind {item.kind!r}"
        return None

    async def _render_batches(self, items: Sequence[outbox.Item]) -> dict[int, Rendered | Exception]:
        by_kind: dict[str, list[outbox.Item]] = {}
        for item in items:
            if item.kind in self.batch_kinds:
                by_kind.setdefault(item.kind, []).append(item)
        out: dict[int, Rendered | Exception] = {}
        for kind, group in by_kind.items():
            try:
                out.update(await self.batch_kinds[kind](self.ctx, group))
            except Exception as exc:
                log.exception(msg.SCHEDULER_RENDER_FAILED.format(id=[i.id for i in group][:5], kind=kind))
                out.update(dict.fromkeys((i.id for i in group), exc))
        return out

    # -- one row ----------------------------------------------------------------------------------
    async def deliver(
        self,
        item: outbox.Item,
        recipient: outbox.Recipient,
        prerendered: Rendered | Exception | object = None,
    ) -> None:
        if item.kind in self.actions:  # work, not a message: done (sent), or as its DeliveryError says
            return await self._attempt(item, recipient, self.actions[item.kind](self.ctx, item))
        if prerendered is _NOT_RENDERED:
            try:
                rendered = await self.kinds[item.kind](self.ctx, item)
            except Exception as exc:
                log.exception(msg.SCHEDULER_RENDER_FAILED.format(id=item.id, kind=item.kind))
                return await self._retry(item, f"render: {exc!r}", None)
        elif isinstance(prerendered, Exception):
            return await self._retry(item, f"render: {prerendered!r}", None)
        else:
            rendered = prerendered  # type: ignore[assignment]
        if rendered is None:
            return await self._final(item, OutboxStatus.CANCELLED, "nothing to send any more")
        message = rendered if isinstance(rendered, Outgoing) else Outgoing(replies=list(rendered))
        sender = self.senders.get(recipient.platform)
        if sender is None:
            return await self._final(
                item, OutboxStatus.FAILED, f"no sender for platform {recipient.platform!r}"
            )
        await self._attempt(item, recipient, sender.send(person=recipient.person, message=message))

    async def _attempt(self, item: outbox.Item, recipient: outbox.Recipient, work: Awaitable[None]) -> None:
        try:
            await work
        except DeliveryError as exc:
            if exc.unreachable:
                await self._mark_unreachable(recipient.person)
                return await self._final(item, OutboxStatus.FAILED, f"unreachable: {exc.message}")
            if exc.permanent:
                return await self._final(item, OutboxStatus.FAILED, f"permanent: {exc.message}")
            return await self._retry(item, exc.message, exc.retry_after)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return await self._retry(item, repr(exc), None)
        await self._mark_sent(item.id)
        self._count(item.kind, "sent")

    def _count(self, kind: str, outcome: str) -> None:
        if self.outcomes is not None:
            self.outcomes(kind, outcome)

    async def _mark_sent(self, item_id: int) -> None:
        """Record a delivered row as sent before returning (group commit): the first waiting row
        leads and writes every row delivered meanwhile in one statement, the others just wait.
        A crash between a send and its mark re-sends at most the rows in that one statement."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((item_id, done))
        if not self._marking:
            self._marking = True
            batch: list[tuple[int, asyncio.Future[None]]] = []
            try:
                while self._queued:
                    batch, self._queued = self._queued, []
                    try:
                        async with self.ctx.db() as session, session.begin():
                            marked = await outbox.mark_sent(
                                session=session,
                                ids=[i for i, _ in batch],
                                worker=self.worker,
                                now=self.ctx.clock(),
                            )
                    except Exception as exc:  # stays claimed: re-sent after the lease
                        log.warning(msg.SCHEDULER_ERROR.format(error=repr(exc)))
                        marked = -1
                    if 0 <= marked < len(batch):
                        log.warning(
                            msg.SCHEDULER_LEASE_LOST.format(count=len(batch) - marked, worker=self.worker)
                        )
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
                    batch = []
            finally:
                self._marking = False
                for _, future in [*batch, *self._queued]:
                    if not future.done():
                        future.cancel()
                self._queued = [(i, f) for i, f in self._queued if not f.done()]
        await done

    def backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        if retry_after is not None:
            return timedelta(seconds=max(0.0, retry_after))
        base = self.config.backoff_base * (2 ** max(0, attempts - 1))
        delay = min(base, self.config.backoff_cap)
        return delay * (1 + random.random() * 0.1)

    async def _retry(self, item: outbox.Item, error: str, retry_after: float | None) -> None:
        if item.attempts >= self.config.max_attempts:
            return await self._final(
                item, OutboxStatus.FAILED, f"gave up after {item.attempts} attempts: {error}"
            )
        due = self.ctx.clock() + self.backoff(item.attempts, retry_after)
        async with self.ctx.db() as session, session.begin():
            await outbox.mark_retry(
                session=session, item_id=item.id, worker=self.worker, due_at=due, error=error
            )
        self._count(item.kind, "retried")

    async def _final(self, item: outbox.Item, status: str, reason: str) -> None:
        if status == OutboxStatus.FAILED:
            log.warning(msg.SCHEDULER_FAILED.format(id=item.id, kind=item.kind, reason=reason))
        async with self.ctx.db() as session, session.begin():
            await outbox.mark_final(
                session=session, item_id=item.id, worker=self.worker, status=status, error=reason
            )
        self._count(item.kind, str(status))

    async def _mark_unreachable(self, person: Person) -> None:
        async with self.ctx.db() as session, session.begin():
            await directory.mark_unreachable(session=session, person_id=not_null(person.id))


# -- in the app ----------------------------------------------------------------------------------
SCHEDULER = web.AppKey("scheduler", Scheduler)
# Every outbox kind's renderer, built per app in create_app (an app may add its own kinds).
RENDERERS = web.AppKey("renderers", dict[str, Renderer])
ACTIONS = web.AppKey("actions", dict[str, Action])  # work run instead of sent (CRM writes), set before start
# Tests and operators may set this before the app starts (shorter lease, faster backoff).
SCHEDULER_CONFIG = web.AppKey("scheduler_config", SchedulerConfig)


def wake_scheduler(app: web.Application, *, at_once: bool = False) -> None:
    """Have the app's scheduler look for due rows now (when it runs); see `Scheduler.wake`."""
    scheduler = app.get(SCHEDULER)
    if scheduler is not None:
        scheduler.wake(at_once=at_once)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx entry: run the scheduler and the calendar-feed poller while the app runs."""
    senders = app[SENDERS]  # its own statement: inline, mypy infers AppKey[Mapping] from the parameter
    scheduler = Scheduler(ctx=app[COACH], senders=senders, config=app.get(SCHEDULER_CONFIG),
                          kinds=app[RENDERERS], batch_kinds=batch_renderers(),
                          outcomes=app[METRICS].outbox_outcome, actions=app.get(ACTIONS))
    app[SCHEDULER] = scheduler
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(scheduler.run(stop), name="coach-scheduler"),
        asyncio.create_task(poll_feeds_forever(app[COACH], app[SETTINGS].org, stop), name="coach-feeds"),
    ]
    yield
    stop.set()
    for task in tasks:
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
