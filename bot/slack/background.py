"""Work a Slack listener does after its answer went out (opening a modal, a DM, the Home tab).

Listeners answer Slack themselves (Bolt's process_before_response) and hand the rest here: no
polling for the ack, a bound on how much runs at once, and a drain when the app stops.

Two lanes: work with a deadline (a modal must open within its trigger's 3 seconds) and messages
that have none (a file, a button's answer). The messages get few workers, so in a burst they queue
behind the answers to Slack and the modals instead of slowing them down. The tips DM after a
submission is not here: it is an outbox row stored with the debrief, which
bot/scheduling/scheduler.py delivers once, retrying (bench/bench_slack.py reports how long after).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot import log_messages as msg

log = logging.getLogger("coach.slack")
WORKERS = 16  # pieces of work with a deadline running at once
MESSAGE_WORKERS = 4  # messages without one (DMs, files) running at once


class AfterAckWork:
    """The tasks started after answers to Slack, tracked so none is lost silently."""

    def __init__(self, workers: int = WORKERS, message_workers: int = MESSAGE_WORKERS) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.workers = asyncio.Semaphore(workers)
        self.message_workers = asyncio.Semaphore(message_workers)

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the answer to Slack has gone out; drained when the app stops.

        At most `workers` pieces run at once: a burst queues here (cheaply) instead of crowding the
        event loop, so the answers to the next requests stay quick."""
        self._start(self._bounded(self.workers, work))

    def message(self, work: Coroutine[Any, Any, None]) -> None:
        """`later`, for a message that has no deadline: it yields to the answers and the modals."""
        self._start(self._bounded(self.message_workers, work))

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    @staticmethod
    async def _bounded(lane: asyncio.Semaphore, work: Coroutine[Any, Any, None]) -> None:
        async with lane:
            await work

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(msg.SLACK_WORK_FAILED.format(error=repr(task.exception())), exc_info=task.exception())

    def acked(self, work: Callable[[AsyncArgs], Coroutine[Any, Any, None]]) -> Callable[..., Awaitable[None]]:
        """A listener that acks at once and does `work` afterwards (buttons, events)."""

        async def listener(args: AsyncArgs) -> None:
            await args.ack()
            self.later(work(args))

        return listener

    async def drain(self, within: float = 5.0) -> None:
        """Let work in flight finish (a file, a Home refresh); cancel what takes longer."""
        if self.tasks:
            _, late = await asyncio.wait(set(self.tasks), timeout=within)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)  # let them unwind before the app's resources close


# The running Slack channel's after-ack work (tests wait on its tasks to know nothing is in flight).
AFTER_ACK_WORK = web.AppKey("slack_after_ack_work", AfterAckWork)
