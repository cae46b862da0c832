"""Several scheduler replicas on one real PostgreSQL: every due nudge delivered exactly once, a
killed replica's claims delivered by the other after the lease, and a flaky platform (30% 429/500)
still getting each nudge once: over HTTP to a fake chat platform, and through the real SlackSender
to the fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from bot.app import COACH, create_app
from bot.delivery import Outgoing
from bot.scheduling.scheduler import SCHEDULER_CONFIG, Scheduler, SchedulerConfig
from dialogs.context import CoachContext
from storage.models import Outbox, Person, utcnow
from tests.bot.scheduling_seed import seed_nudges
from tests.factories import make_settings
from tests.fakes.chat_sink import ChatSink, HttpSender
from tests.fakes.slack_api import FakeSlackApi

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("database_url")]
FAST = SchedulerConfig(
    batch_size=100,
    concurrency=32,
    poll_interval=0.02,
    backoff_base=timedelta(milliseconds=20),
    max_attempts=30,
)


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def live_coach(db) -> CoachContext:  # the real clock: leases and backoff must actually elapse
    return CoachContext(db=db)


@pytest.fixture
async def sink() -> AsyncIterator[ChatSink]:
    fake = await ChatSink().start()
    yield fake
    await fake.close()


async def statuses(db) -> Counter[str]:
    async with db() as session:
        return Counter(
            dict(
                (
                    await session.execute(sa.select(Outbox.status, sa.func.count()).group_by(Outbox.status))
                ).all()
            )
        )


async def run_until_done(db, schedulers: list[Scheduler], total: int, limit_s: float = 60) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(stop)) for s in schedulers]
    deadline = time.monotonic() + limit_s
    try:
        while (await statuses(db))["sent"] < total:
            assert time.monotonic() < deadline, await statuses(db)
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_two_replicas_deliver_1000_nudges_once_each(db, live_coach, sink):
    meetings = await seed_nudges(db, count=1000)
    async with aiohttp.ClientSession() as http:
        replicas = [
            Scheduler(
                ctx=live_coach,
                senders={"web": HttpSender(sink.url, http)},
                config=FAST,
                worker=f"replica-{i}",
            )
            for i in range(2)
        ]
        started = time.perf_counter()
        await run_until_done(db, replicas, 1000)
        elapsed = time.perf_counter() - started
    counts = sink.counts()
    assert sorted(counts) == sorted(meetings), "none missing"
    assert max(counts.values()) == 1, "no duplicate"
    assert await statuses(db) == Counter({"sent": 1000})
    async with db() as session:
        workers = Counter((await session.scalars(sa.select(Outbox.claimed_by))).all())
    assert set(workers) == {"replica-0", "replica-1"}, "both replicas took part"
    print(f"1000 nudges by two replicas in {elapsed:.2f}s")


class StallingSender(HttpSender):
    """Delivers the first `allowed` messages, then hangs (a replica about to be killed)."""

    def __init__(self, *args: object, allowed: int) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.allowed = allowed
        self.hang = asyncio.Event()

    async def send(self, *, person: Person, message: Outgoing) -> None:
        if self.allowed <= 0:
            await self.hang.wait()
        self.allowed -= 1
        await super().send(person=person, message=message)


async def test_a_replica_killed_mid_batch_leaves_its_claims_to_the_other(db, live_coach, sink):
    meetings = await seed_nudges(db, count=150)
    lease = timedelta(seconds=1)
    async with aiohttp.ClientSession() as http:
        doomed = Scheduler(
            ctx=live_coach,
            senders={"web": StallingSender(sink.url, http, allowed=10)},
            config=SchedulerConfig(batch_size=100, lease=lease),
            worker="doomed",
        )
        claimed_at = utcnow()
        batch = asyncio.create_task(doomed.run_once())
        deadline = time.monotonic() + 10
        while (await statuses(db))["sent"] < 10:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        batch.cancel()  # killed mid-batch: 90 rows claimed and never sent
        with pytest.raises(asyncio.CancelledError):
            await batch
        assert await statuses(db) == Counter({"sent": 10, "claimed": 90, "pending": 50})

        survivor = Scheduler(
            ctx=live_coach, senders={"web": HttpSender(sink.url, http)}, config=FAST, worker="survivor"
        )
        await run_until_done(db, [survivor], 150)
    counts = sink.counts()
    assert sorted(counts) == sorted(meetings) and max(counts.values()) == 1
    async with db() as session:
        rows = (await session.execute(sa.select(Outbox.claimed_by, Outbox.attempts, Outbox.sent_at))).all()
    assert Counter(r.claimed_by for r in rows) == Counter({"doomed": 10, "survivor": 140})
    assert sorted(r.attempts for r in rows if r.claimed_by == "survivor")[-90:] == [2] * 90
    async with db() as session:
        first_retake = await session.scalar(
            sa.select(sa.func.min(Outbox.sent_at)).where(
                Outbox.claimed_by == "survivor", Outbox.attempts == 2
            )
        )
    assert first_retake is not None
    assert first_retake - claimed_at >= lease, "the doomed replica's rows wait for its lease to run out"


async def test_a_flaky_platform_still_gets_every_nudge_exactly_once(db, live_coach):
    meetings = await seed_nudges(db, count=300)
    flaky = await ChatSink(failure_rate=0.3).start()
    try:
        async with aiohttp.ClientSession() as http:
            replicas = [
                Scheduler(
                    ctx=live_coach, senders={"web": HttpSender(flaky.url, http)}, config=FAST, worker=f"r{i}"
                )
                for i in range(2)
            ]
            await run_until_done(db, replicas, 300)
    finally:
        await flaky.close()
    counts = flaky.counts()
    assert flaky.refused > 50, "the platform really did refuse about 30% of the calls"
    assert sorted(counts) == sorted(meetings) and max(counts.values()) == 1
    async with db() as session:
        retried = await session.scalar(sa.select(sa.func.count()).where(Outbox.attempts > 1))
    assert retried and retried >= flaky.refused * 0.5


class FlakySlackApi(FakeSlackApi):
    """The fake Slack API, refusing 30% of chat.postMessage calls with 429 or 500."""

    rng = random.Random(5)
    refused = 0

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage" and self.rng.random() < 0.3:
            status = 429 if self.rng.random() < 0.5 else 500
            FlakySlackApi.refused += 1
            self.fail_next("chat.postMessage", status, retry_after="0" if status == 429 else None)
        return await super()._handle(request)


async def test_the_slack_sender_delivers_every_nudge_once_through_a_flaky_slack(
    tmp_path: Path, database_url: str, engine
) -> None:
    """The real SlackSender (slack_sdk client, Block Kit) inside the app, its scheduler on PostgreSQL."""
    api = await FlakySlackApi().start()
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        slack_signing_secret="test-signing-secret-1234567890ab",
        slack_bot_token="xoxb-test",
        slack_api_url=api.api_url,
    )
    app = create_app(settings)
    app[SCHEDULER_CONFIG] = SchedulerConfig(
        poll_interval=0.05, backoff_base=timedelta(milliseconds=20), max_attempts=30
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        coach = app[COACH]
        async with coach.db() as session, session.begin():
            await session.execute(sa.update(Outbox).values(status="cancelled"))
        meetings = await seed_nudges(coach.db, count=120, people=6, platform="slack")
        deadline = time.monotonic() + 60
        while True:
            async with coach.db() as session:
                done = await session.scalar(sa.select(sa.func.count()).where(Outbox.status == "sent"))
            if done == 120:
                break
            assert time.monotonic() < deadline, done
            await asyncio.sleep(0.1)
    finally:
        await runner.cleanup()
        await api.close()
    posted = api.to("chat.postMessage")
    assert FlakySlackApi.refused > 10, "Slack really refused about 30% of the calls"
    per_meeting = Counter(
        int(m) for c in posted for m in re.findall(r"nudges got (\d+)", json.dumps(c.blocks))
    )
    assert sorted(per_meeting) == sorted(meetings), "none missing"
    assert set(per_meeting.values()) == {1}, "none twice"
