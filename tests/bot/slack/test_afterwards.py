"""The work a Slack listener leaves for after its answer: bounded, drained when the app stops."""

from __future__ import annotations

import asyncio

from bot.slack.background import AfterAckWork


async def test_a_burst_runs_at_most_the_workers_at_once_and_all_of_it_finishes() -> None:
    work = AfterAckWork(workers=2)
    running: list[int] = []
    most = 0
    gate = asyncio.Event()

    async def piece() -> None:
        nonlocal most
        running.append(1)
        most = max(most, len(running))
        await gate.wait()  # a slow Slack call (views.open on a busy API)
        running.pop()

    for _ in range(5):
        work.later(piece())
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(running) == 2  # three wait their turn
    gate.set()
    await work.drain(within=1.0)
    assert most == 2 and not running and not work.tasks


async def test_drain_cancels_what_outlives_the_grace_period() -> None:
    work = AfterAckWork()
    finished: list[str] = []

    async def stuck() -> None:
        await asyncio.Event().wait()
        finished.append("never")

    async def quick() -> None:
        finished.append("quick")

    work.later(stuck())
    work.later(quick())
    await work.drain(within=0.05)
    await asyncio.sleep(0)
    assert finished == ["quick"] and not work.tasks
