"""Outbox benchmarks on PostgreSQL (issue 5).

1. Throughput: N due nudges, claimed + rendered (the real nudge renderer) + sent over HTTP to a
   fast fake chat platform (its own process) by R scheduler replicas (one process each).
   Prints nudges per second and checks that every nudge arrived exactly once.
2. Claim cost against history: one claim batch with 10,000 pending rows vs 1,000,000 (rows built
   with INSERT ... SELECT generate_series), and the EXPLAIN showing the (status, due_at) index.

    .venv/bin/python bench/bench_outbox.py [--url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
                                           [--nudges 5000] [--replicas 2] [--skip-claim]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bot.delivery import DeliveryError, Outgoing
from bot.scheduling.scheduler import Scheduler, SchedulerConfig
from dialogs.context import CoachContext
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Person
from storage.outbox import claim_statement

PIPELINES = 2
DEFAULT_URL = os.environ.get("COACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


# -- the fake chat platform (own process) --------------------------------------------------------------
def sink_process(port_out: mp.connection.Connection) -> None:
    seen: dict[int, int] = {}

    async def send(request: web.Request) -> web.Response:
        body = await request.json()
        seen[body["meeting_id"]] = seen.get(body["meeting_id"], 0) + 1
        return web.json_response({"ok": True})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "delivered": sum(seen.values()),
                "unique": len(seen),
                "duplicates": sum(v - 1 for v in seen.values()),
            }
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/send", send)
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_out.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


class SinkSender:
    platform = "web"

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http = url + "/send", http

    async def send(self, *, person: Person, message: Outgoing) -> None:
        meta = message.replies[0].meta
        async with self.http.post(
            self.url, json={"meeting_id": meta["meeting_id"], "texts": [r.text for r in message.replies]}
        ) as resp:
            if resp.status != 200:
                raise DeliveryError(f"HTTP {resp.status}")


# -- one scheduler replica (own process) -----------------------------------------------------------------
def replica_process(url: str, sink: str, name: str, start_at: float, out: mp.connection.Connection) -> None:
    async def main() -> None:
        engine = create_engine(url, pool_size=20, max_overflow=10)
        ctx = CoachContext(db=session_factory(engine))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
            scheduler = Scheduler(
                ctx=ctx,
                senders={"web": SinkSender(sink, http)},
                worker=name,
                config=SchedulerConfig(batch_size=200, concurrency=64),
            )
            await asyncio.sleep(max(0.0, start_at - time.time()))  # all replicas start together
            claimed = []

            async def pipeline() -> None:
                # run_once until three empty polls; two pipelines per replica overlap one batch's
                # rendering with the other's sends (what Scheduler.run does with pipelines=2)
                empty = 0
                while empty < 3:
                    n = await scheduler.run_once()
                    claimed.append(n)
                    empty = empty + 1 if n == 0 else 0
                    if n == 0:
                        await asyncio.sleep(0.01)

            await asyncio.gather(*(pipeline() for _ in range(PIPELINES)))
            sent = sum(claimed)
            out.send((name, sent, time.time()))
        await engine.dispose()

    asyncio.run(main())


async def fresh_database(admin_url: str, name: str) -> str:
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = admin_url.rpartition("/")[0] + "/" + name
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    return url


SEED = """
WITH ws AS (INSERT INTO workspace (platform, external_id, name, created_at)
            VALUES ('web', 'bench', 'Bench', now()) RETURNING id)
INSERT INTO person (display_name, role, timezone, locale, workspace_id, platform_user_id, reachable,
                    created_at)
SELECT 'Rep ' || g, 'rep', 'Europe/Amsterdam', CASE WHEN g % 2 = 0 THEN 'nl' ELSE 'en' END,
       (SELECT id FROM ws), 'rep' || g, true, now()
FROM generate_series(1, :people) g
"""


async def seed_nudges(url: str, count: int, people: int = 100) -> None:
    starts = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(SEED), {"people": people})
        await conn.execute(
            text(
                "INSERT INTO account (workspace_id, name, name_key, created_at) "
                "SELECT id, 'Acme', 'acme', now() FROM workspace WHERE external_id = 'bench'"
            )
        )
        # one earlier debrief per rep with Acme, so every nudge carries a recap and a weakest point
        await conn.execute(
            text("""
            INSERT INTO debrief (outcome, agenda_set_by, customer_questions, concessions_asked,
                                 concessions_given,
                                 concessions_got, next_step_what, next_step_who, next_step_due, workspace_id,
                                 person_id, account_id, idempotency_key, created_at)
            SELECT 'next_step', 'customer_formal', 'How fast is onboarding?', 'Framework agreement',
                   'Signed their framework', 'Pilot date', 'Pilot proposal', 'I send it', current_date,
                   p.workspace_id, p.id, a.id, 'bench:' || p.id, now() - interval '7 days'
            FROM person p JOIN account a ON a.workspace_id = p.workspace_id""")
        )
        await conn.execute(
            text("""
            INSERT INTO debriefanswer (debrief_id, point, rating)
            SELECT d.id, pt, CASE WHEN pt = 'opening' THEN 'no' ELSE 'yes' END
            FROM debrief d
            CROSS JOIN unnest(ARRAY['opening','interaction','situation','concessions','next_step']) pt""")
        )
        await conn.execute(
            text("""
            INSERT INTO meeting (workspace_id, person_id, account_id, starts_at, ends_at, source,
                                 external_uid,
                                 title, cancelled, created_at)
            SELECT a.workspace_id, (SELECT min(id) FROM person) + (g % :people), a.id,
                   CAST(:starts AS timestamptz),
                   CAST(:starts AS timestamptz) + interval '1 hour', 'manual', 'bench:' || g, 'Acme', false,
                   now()
            FROM generate_series(1, :n) g, account a"""),
            {"people": people, "starts": starts, "n": count},
        )
        await conn.execute(
            text("""
            INSERT INTO outbox (dedup_key, kind, person_id, payload, due_at, expires_at, status, attempts,
                                created_at)
            SELECT 'm' || m.id || ':nudge:bench', 'nudge', m.person_id,
                   json_build_object('meeting_id', m.id, 'starts_at', CAST(:iso AS text)),
                   now() - interval '1 second', m.starts_at, 'pending', 0, now()
            FROM meeting m"""),
            {"iso": starts.isoformat()},
        )
    await engine.dispose()


async def throughput(admin_url: str, nudges: int, replicas: int) -> None:
    url = await fresh_database(admin_url, "coach_bench_outbox")
    await seed_nudges(url, nudges)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    sink = ctx.Process(target=sink_process, args=(child,), daemon=True)
    sink.start()
    sink_url = f"http://127.0.0.1:{parent.recv()}"
    start_at = time.time() + 3.0  # let every replica import and connect first
    pipes, procs = [], []
    for i in range(replicas):
        a, b = ctx.Pipe()
        p = ctx.Process(target=replica_process, args=(url, sink_url, f"replica-{i}", start_at, b))
        p.start()
        pipes.append(a)
        procs.append(p)
    results = [pipe.recv() for pipe in pipes]
    for p in procs:
        p.join()
    async with aiohttp.ClientSession() as http, http.get(sink_url + "/stats") as resp:
        stats = await resp.json()
    sink.kill()
    # the replicas stop after three empty polls; time to the last nudge sent, not to that
    engine = create_engine(url)
    async with engine.connect() as conn:
        last_sent = (
            await conn.execute(text("SELECT max(sent_at), count(*) FROM outbox WHERE status = 'sent'"))
        ).one()
    await engine.dispose()
    elapsed = last_sent[0].timestamp() - start_at
    print(f"throughput: {nudges} nudges, {replicas} replicas on PostgreSQL, HTTP fake platform")
    for name, sent, _ in results:
        print(f"  {name}: claimed {sent}")
    print(
        f"  delivered {stats['delivered']}, unique {stats['unique']}, duplicates {stats['duplicates']}, "
        f"rows sent {last_sent[1]}"
    )
    print(f"  {elapsed:.2f} s  ->  {nudges / elapsed:,.0f} nudges/s (claim + render + send + mark)")


async def claim_cost(admin_url: str) -> None:
    url = await fresh_database(admin_url, "coach_bench_claim")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(SEED), {"people": 1})

    async def grow_to(total: int) -> None:
        async with engine.begin() as conn:
            have = (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
            await conn.execute(
                text("""
                INSERT INTO outbox (dedup_key, kind, person_id, payload, due_at, status, attempts, created_at)
                SELECT 'bench:' || g, 'nudge', (SELECT min(id) FROM person), '{}'::json,
                       now() - (g || ' seconds')::interval, 'pending', 0, now()
                FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) g"""),
                {"start": have + 1, "stop": total},
            )
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE outbox"))

    async def one_claim_ms() -> float:
        samples = []
        for _ in range(25):
            async with engine.connect() as conn:
                tx = await conn.begin()
                stmt = claim_statement(
                    dialect="postgresql",
                    worker="bench",
                    now=datetime.now(UTC),
                    lease=timedelta(seconds=60),
                    limit=200,
                )
                t0 = time.perf_counter()
                rows = (await conn.execute(stmt)).all()
                samples.append((time.perf_counter() - t0) * 1000)
                assert len(rows) == 200
                await tx.rollback()
        return statistics.median(samples)

    await grow_to(10_000)
    small = await one_claim_ms()
    await grow_to(1_000_000)
    large = await one_claim_ms()
    stmt = claim_statement(
        dialect="postgresql", worker="bench", now=datetime.now(UTC), lease=timedelta(seconds=60), limit=200
    )
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        tx = await conn.begin()
        plan = (await conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql))).scalars().all()
        await tx.rollback()
    await engine.dispose()
    print("claim batch of 200 (median of 25, rolled back):")
    print(f"  10,000 pending rows:    {small:.2f} ms")
    print(f"  1,000,000 pending rows: {large:.2f} ms   ratio {large / small:.2f} (limit 2.0)")
    print("  EXPLAIN ANALYZE with 1,000,000 pending rows:")
    for line in plan:
        print("    " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--url", default=DEFAULT_URL, help="PostgreSQL admin URL (bench databases are made beside it)"
    )
    parser.add_argument("--nudges", type=int, default=5000)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--skip-claim", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if not args.skip_throughput:
        asyncio.run(throughput(args.url, args.nudges, args.replicas))
    if not args.skip_claim:
        asyncio.run(claim_cost(args.url))


if __name__ == "__main__":
    main()
