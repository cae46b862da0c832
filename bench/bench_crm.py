"""CRM sync on PostgreSQL: N debriefs filed through the dialog submit path while two replicas (two
processes, each an outbox Scheduler with the CRM write action) write them into a fake HubSpot (its
own process) that answers 20% of its calls with 429 and the X-HubSpot-RateLimit-* headers.

The N debriefs are filed first; then the two replicas start and the clock runs until every CRM
write is sent. Prints that time, the notes and tasks written per debrief (target exactly 1 + 1, no
marker twice), the 429s met, and the p50/p99 of the rep's debrief answer
(`dialogs.debrief.submit_debrief`, a steady --rate of submits) while the sync runs, against the same
submits with no sync running, measured first in the same run.

    .venv/bin/python bench/bench_crm.py [--quick] [--debriefs 1000] [--accounts 100] [--ratio 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import asyncpg
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bot.config import Settings
from bot.crm.connectors import Connectors
from bot.crm.matching import Matcher
from bot.crm.sync import CrmSync
from bot.crm.tokens import TokenBox
from bot.scheduling.scheduler import Scheduler, SchedulerConfig
from dialogs.context import CoachContext
from dialogs.debrief import submit_debrief
from dialogs.text import default_texts
from dialogs.validation import Locality, validate_form
from storage import crm, migrate
from storage.accounts import get_or_create_account
from storage.calendars import claim_domain
from storage.engine import create_engine, session_factory
from storage.models import Outbox, OutboxStatus
from storage.people import get_or_create_person, get_or_create_workspace
from tests.factories import full_form
from tests.fakes.hubspot_api import FakeHubSpot

ADMIN_URL = os.environ.get("COACH_BENCH_POSTGRES_URL") or os.environ.get(
    "COACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REPS = 20
CONCURRENCY = 4  # reps submitting at once
KEY = Fernet.generate_key().decode()


# -- the fake HubSpot, its own process ---------------------------------------------------------------------
def hubspot_process(accounts: int, ratio: float, port_out: Any, stop: Any) -> None:
    async def main() -> None:
        fake = FakeHubSpot(rate_limit_ratio=ratio, interval_ms=100)
        for n in range(REPS):
            fake.add_owner(f"rep{n}@ourco.nl")
        for n in range(accounts):
            company = fake.add_company(f"Customer {n} B.V.", f"customer{n}.example")
            fake.add_deal(f"Customer {n} pilot", company)
        await fake.start()
        port_out.send(fake.url)
        await asyncio.to_thread(stop.wait)
        await fake.close()

    asyncio.run(main())


# -- a replica: an outbox scheduler that runs only the CRM write action ----------------------------------
def replica_process(url: str, hubspot_url: str, stop: Any) -> None:
    async def main() -> None:
        engine = create_engine(url, pool_size=10)
        db = session_factory(engine)
        ctx = CoachContext(db=db, texts=default_texts())
        settings = Settings(secret_key=KEY, hubspot_access_token="pat-test", hubspot_api_url=hubspot_url)
        async with aiohttp.ClientSession() as http:
            connectors = Connectors(settings=settings, box=TokenBox(KEY), http=http, db=db, clock=ctx.clock)
            sync = CrmSync(
                connectors=connectors,
                matcher=Matcher(db=db, clock=ctx.clock, wake=lambda: None),
                include_notes=False,
                wake=lambda: None,
            )
            config = SchedulerConfig(poll_interval=0.05, backoff_base=SchedulerConfig().backoff_base / 300)
            scheduler = Scheduler(
                ctx=ctx,
                senders={},
                config=config,
                kinds={},
                batch_kinds={},
                actions={crm.CRM_WRITE: sync.write},
            )
            done = asyncio.Event()

            async def watch() -> None:
                await asyncio.to_thread(stop.wait)
                done.set()

            await asyncio.gather(scheduler.run(done), watch())
        await engine.dispose()

    asyncio.run(main())


# -- the rep's side ---------------------------------------------------------------------------------------
async def prepare(
    url: str, accounts: int, platform_id: str, *, connected: bool
) -> tuple[CoachContext, list[int]]:
    engine = create_engine(url, pool_size=10)
    db = session_factory(engine)
    ctx = CoachContext(db=db, texts=default_texts())
    async with db() as session, session.begin():
        ws = await get_or_create_workspace(session=session, platform="web", external_id=platform_id)
        assert ws.id is not None
        reps = []
        for n in range(REPS):
            person = await get_or_create_person(
                session=session,
                workspace_id=ws.id,
                platform_user_id=f"U{n}",
                display_name=f"Rep {n}",
                locale="en",
                timezone="Europe/Amsterdam",
                email=f"rep{n}@ourco.nl",
            )
            assert person.id is not None
            reps.append(person.id)
        for n in range(accounts):
            account_id = await get_or_create_account(
                session=session, workspace_id=ws.id, name=f"Customer {n}"
            )
            await claim_domain(session=session, account_id=account_id, domain=f"customer{n}.example")
        if connected:
            await crm.connect(
                session=session,
                workspace_id=ws.id,
                crm="hubspot",
                source="token",
                tokens="",
                now=datetime.now(UTC),
            )
    return ctx, reps


async def submit_all(ctx: CoachContext, reps: list[int], n: int, accounts: int, tag: str) -> list[float]:
    loc = Locality(locale="en", timezone="Europe/Amsterdam", now=datetime.now(UTC))
    forms = []
    for a in range(accounts):
        debrief, errors = validate_form(
            full_form(account=f"Customer {a}", next_meeting_at=None), texts=ctx.texts, loc=loc
        )
        assert debrief is not None, errors
        forms.append(debrief)
    latencies: list[float] = []
    counter = iter(range(n))

    async def rep() -> None:
        for i in counter:
            start = time.perf_counter()
            await submit_debrief(
                ctx=ctx, person_id=reps[i % REPS], debrief=forms[i % accounts], idempotency_key=f"{tag}:{i}"
            )
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(rep() for _ in range(CONCURRENCY)))
    return latencies


async def crm_rows(ctx: CoachContext) -> dict[str, int]:
    async with ctx.db() as session:
        rows = await session.execute(
            sa.select(Outbox.status, sa.func.count())
            .where(Outbox.kind == crm.CRM_WRITE)
            .group_by(Outbox.status)
        )
        return {str(s): int(c) for s, c in rows.all()}


def _after(seconds: float) -> Callable[[], Awaitable[bool]]:
    end = time.perf_counter() + seconds

    async def done() -> bool:
        return time.perf_counter() >= end

    return done


async def probe(
    ctx: CoachContext,
    reps: list[int],
    args: argparse.Namespace,
    tag: str,
    until: Callable[[], Awaitable[bool]],
) -> list[float]:
    """Debrief submits at a steady rate (each on its own: a slow one does not hold the next back)
    until `until()` says stop; their latencies."""
    loc = Locality(locale="en", timezone="Europe/Amsterdam", now=datetime.now(UTC))
    debrief, errors = validate_form(
        full_form(account="Probe", next_meeting_at=None), texts=ctx.texts, loc=loc
    )
    assert debrief is not None, errors
    latencies: list[float] = []
    tasks: list[asyncio.Task[None]] = []

    async def one(i: int) -> None:
        begun = time.perf_counter()
        await submit_debrief(ctx=ctx, person_id=reps[i % REPS], debrief=debrief, idempotency_key=f"{tag}:{i}")
        latencies.append(time.perf_counter() - begun)

    i = 0
    while not await until():
        tasks.append(asyncio.create_task(one(i)))
        i += 1
        await asyncio.sleep(1 / args.rate)
    await asyncio.gather(*tasks)
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main_async(args: argparse.Namespace, url: str) -> int:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    mp_ctx = mp.get_context("spawn")
    stop = mp_ctx.Event()
    recv, send = mp_ctx.Pipe(duplex=False)
    fake = mp_ctx.Process(target=hubspot_process, args=(args.accounts, args.ratio, send, stop))
    fake.start()
    hubspot_url = recv.recv()
    try:
        base_ctx, base_reps = await prepare(url, args.accounts, "bench-none", connected=False)
        await submit_all(base_ctx, base_reps, 40, args.accounts, "warm")  # connections, caches, templates
        baseline = await probe(base_ctx, base_reps, args, "base", until=_after(args.probe_seconds))

        ctx, reps = await prepare(url, args.accounts, "bench-crm", connected=True)
        start = time.perf_counter()
        await submit_all(ctx, reps, args.debriefs, args.accounts, "crm")  # the debriefs to sync
        filed = time.perf_counter() - start
        replicas = [mp_ctx.Process(target=replica_process, args=(url, hubspot_url, stop)) for _ in range(2)]
        for r in replicas:
            r.start()
        start = time.perf_counter()
        synced_at: list[float] = []

        async def sync_done() -> bool:
            if (await crm_rows(ctx)).get(OutboxStatus.SENT, 0) >= args.debriefs:
                synced_at.append(time.perf_counter())
                return True
            return time.perf_counter() - start > args.timeout

        during = await probe(base_ctx, base_reps, args, "during", until=sync_done)
        synced = (synced_at[0] if synced_at else time.perf_counter()) - start
        async with aiohttp.ClientSession() as http, http.get(f"{hubspot_url}/__fake/stats") as resp:
            stats = await resp.json()
        rows = await crm_rows(ctx)
    finally:
        stop.set()
        fake.join(10)
        for r in locals().get("replicas", []):
            r.join(15)
    n = args.debriefs
    print(
        f"{n} debriefs, {args.accounts} accounts, {REPS} reps submitting {CONCURRENCY} at a time; "
        f"2 replicas; fake HubSpot answering {args.ratio:.0%} of calls with 429"
    )
    print(
        f"  filed in {filed:.1f} s; two replicas (started then, imports included) sent every CRM write "
        f"in {synced:.1f} s ({n / synced:.0f} debriefs/s); outbox rows: {rows}"
    )
    print(
        f"  written: {stats['notes']} notes, {stats['tasks']} tasks = {stats['notes'] / n:.2f} + "
        f"{stats['tasks'] / n:.2f} per debrief (target 1 + 1); markers written twice: {stats['duplicates']}; "
        f"HubSpot calls {stats['calls']}, of them 429: {stats['limited']}"
    )
    print(f"  the rep's debrief answer, {args.rate:.0f} submits/s in a workspace without a CRM:")
    print(
        f"    no sync running ({len(baseline)}): p50 {statistics.median(baseline) * 1000:.1f} ms, "
        f"p99 {pct(baseline, 0.99):.1f} ms"
    )
    print(
        f"    while the sync runs ({len(during)}): p50 {statistics.median(during) * 1000:.1f} ms, "
        f"p99 {pct(during, 0.99):.1f} ms"
    )
    ok = stats["notes"] == n and stats["tasks"] == n and stats["duplicates"] == 0
    return 0 if ok else 1


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 debriefs on 40 accounts")
    parser.add_argument("--debriefs", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--ratio", type=float, default=0.2, help="share of HubSpot calls answered 429")
    parser.add_argument("--rate", type=float, default=20.0, help="the probe's debrief submits per second")
    parser.add_argument("--probe-seconds", type=float, default=10.0, help="the baseline probe's length")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="give up waiting for the sync after this"
    )
    args = parser.parse_args()
    if args.quick:
        args.debriefs, args.accounts, args.probe_seconds = 200, 40, 5.0
    name = f"coach_bench_crm_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL unreachable at {ADMIN_URL}: {type(exc).__name__}; skipped")
        return 0
    base, _, _ = ADMIN_URL.rpartition("/")
    try:
        return asyncio.run(main_async(args, f"{base}/{name}"))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    sys.exit(main())
