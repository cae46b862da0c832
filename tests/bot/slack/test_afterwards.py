"""The work a Slack listener leaves for after its answer: modals are never held up by messages."""

from __future__ import annotations

import asyncio

from bot.slack.background import AfterAckWork


async def test_a_modal_opens_while_messages_queue_and_the_messages_follow() -> None:
    work = AfterAckWork(workers=2, message_workers=1)
    done: list[str] = []
    gate = asyncio.Event()

    async def message(name: str) -> None:
        await gate.wait()  # a slow DM (the API is busy)
        done.append(name)

    async def modal() -> None:
        done.append("modal")

    for n in range(3):
        work.message(message(f"dm{n}"))
    work.later(modal())
    for _ in range(5):
        await asyncio.sleep(0)
    assert done == ["modal"]  # three DMs waiting, one worker on them: the modal went first
    gate.set()
    await work.drain(within=1.0)
    assert done == ["modal", "dm0", "dm1", "dm2"]
    assert not work.tasks


async def test_drain_cancels_what_outlives_the_grace_period() -> None:
    work = AfterAckWork()
    finished: list[str] = []

    async def stuck() -> None:
        await asyncio.Event().wait()
        finished.append("never")

    async def quick() -> None:
        finished.append("quick")

    work.message(stuck())
    work.message(quick())
    await work.drain(within=0.05)
    await asyncio.sleep(0)
    assert finished == ["quick"] and not work.tasks
