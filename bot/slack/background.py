"""Work a Slack listener does after its answer went out (opening a modal, a DM, the Home tab).

Listeners answer Slack themselves (Bolt's process_before_response) and hand the rest here: no
polling for the ack, a bound on how much runs at once, and a drain when the app stops.

No message is sent from here: the tips DM after a submission is an outbox row stored with the
debrief, and the answer to a DM or a button (its file too) is an outbox row stored as soon as the
answer is known (dialogs/answers.py); bot/scheduling/scheduler.py delivers each once, retrying,
apart from the answers to Slack and the modals (bench/bench_slack.py reports how long after). The
one exception is the answer to `forget confirm`: there is no one left to store it for.
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
WORKERS = 16  # pieces of work running at once


class AfterAckWork:
    """The tasks started after answers to Slack, tracked so none is lost silently."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.workers = asyncio.Semaphore(workers)

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the answer to Slack has gone out; drained when the app stops.

        At most `workers` pieces run at once: a burst queues here (cheaply) instead of crowding the
        event loop, so the answers to the next requests stay quick."""
        task = asyncio.ensure_future(self._bounded(work))
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    async def _bounded(self, work: Coroutine[Any, Any, None]) -> None:
        async with self.workers:
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
        """Let work in flight finish (a modal, a Home refresh); cancel what takes longer."""
        if self.tasks:
            _, late = await asyncio.wait(set(self.tasks), timeout=within)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)  # let them unwind before the app's resources close


# The running Slack channel's after-ack work (tests wait on its tasks to know nothing is in flight).
AFTER_ACK_WORK = web.AppKey("slack_after_ack_work", AfterAckWork)
