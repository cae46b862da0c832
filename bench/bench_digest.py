"""Benchmark: the manager digest on PostgreSQL.

    .venv/bin/python bench/bench_digest.py [--admin-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

Builds a throw-away database (dropped at the end) holding one organisation of 1,000 reps with a
year of history each (260 debriefs per rep, five answers each, a customer meeting a week, an
action point 10 days old, open or done): one manager with 50 reps (13,000 debriefs) and 95
managers with 10 reps. Bulk-inserted with INSERT ... SELECT generate_series. Then measures (warm,
median of runs), with every figure of the digest: the weekly grid, the win rate per deal and per
month, the closing rate, the team's evidence, the action points proposed and followed up:
- the digest of the 50-rep manager (queries + figures; the chart separately) — goal < 100 ms;
- every digest of the organisation in one batch — goal < 2 s;
- the number of SQL statements for a 10-rep and a 50-rep manager (must be equal).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy import event, text

from dialogs.digest import compute_digests
from dialogs.digest_chart import chart_png
from dialogs.text import default_texts
from storage import migrate
from storage.digest_queries import Period
from storage.engine import create_engine, session_factory

NOW = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
DEBRIEFS_PER_REP = 260  # five a week for a year
BIG_TEAM = 50
SMALL_TEAMS = 95
SMALL_TEAM = 10

SEED = [
    """INSERT INTO workspace (platform, external_id, name, created_at)
       VALUES ('slack', 'TBENCH', 'bench', now())""",
    """INSERT INTO account (workspace_id, name, name_key, created_at)
       SELECT 1, 'Account ' || g, 'account ' || g, now() FROM generate_series(1, 400) g""",
    # managers: id 1 has the big team, 2..96 the small ones
    """INSERT INTO person (display_name, email, role, timezone, locale, workspace_id, platform_user_id,
                           reachable, created_at)
       SELECT 'Manager ' || g, 'manager' || g || '@example.com', 'manager', 'Europe/Amsterdam', 'en', 1,
              'UM' || g, true, now() FROM generate_series(1, :managers) g""",
    """INSERT INTO person (display_name, email, role, timezone, locale, workspace_id, platform_user_id,
                           manager_id, reachable, created_at)
       SELECT 'Rep ' || g, 'rep' || g || '@example.com', 'rep', 'Europe/Amsterdam', 'en', 1, 'UR' || g,
              CASE WHEN g <= :big THEN 1 ELSE 2 + (g - :big - 1) / :small END, true, now()
       FROM generate_series(1, :reps) g""",
    """INSERT INTO debrief (outcome, agenda_set_by, concessions_given, concessions_got, next_step_what,
                            next_step_due, workspace_id, person_id, account_id, idempotency_key, created_at)
       SELECT (ARRAY['closed','next_step','next_step','postponed','lost'])[1 + floor(random() * 5)::int],
              'rep_informal',
              CASE WHEN random() < 0.4 THEN 'payment terms' END,
              CASE WHEN random() < 0.25 THEN 'pilot scope' END,
              'proposal', (CAST(:now AS timestamptz) - k * interval '33 hours' + interval '7 days')::date,
              1, p.id, 1 + (p.id * 7 + k) % 400, 'b:' || p.id || ':' || k,
              CAST(:now AS timestamptz) - k * interval '33 hours' - (random() * interval '8 hours')
       FROM person p CROSS JOIN generate_series(1, :per_rep) k WHERE p.manager_id IS NOT NULL""",
    """INSERT INTO debriefanswer (debrief_id, point, rating, note)
       SELECT d.id, pt, (ARRAY['yes','yes','partly','no'])[1 + floor(random() * 4)::int], NULL
       FROM debrief d
       CROSS JOIN unnest(ARRAY['opening','interaction','situation','concessions','next_step']) pt""",
    """INSERT INTO meeting (workspace_id, person_id, account_id, starts_at, source, external_uid, title,
                           cancelled, created_at)
       SELECT 1, p.id, 1 + (p.id * 3 + w) % 400,
              CAST(:now AS timestamptz) - w * interval '7 days' + interval '2 days', 'calendar',
              'b:' || p.id || ':' || w, 'meeting', false, now()
       FROM person p CROSS JOIN generate_series(1, 52) w WHERE p.manager_id IS NOT NULL""",
    "ANALYZE",
]
# Added to a database of an earlier run too (--keep), once.
ACTION_POINTS = """
    INSERT INTO actionpoint (workspace_id, person_id, manager_id, text, pattern, point, status,
                             created_at, done_at)
    SELECT 1, p.id, p.manager_id, 'Ask for their agenda before every meeting', 'rating:opening',
           'opening', CASE WHEN p.id % 2 = 0 THEN 'open' ELSE 'done' END,
           CAST(:now AS timestamptz) - interval '10 days',
           CASE WHEN p.id % 2 = 0 THEN NULL ELSE CAST(:now AS timestamptz) - interval '2 days' END
    FROM person p WHERE p.manager_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM actionpoint)"""


async def admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def timed(runs: int, work) -> tuple[float, object]:
    result = await work()  # warm-up (plans, connection)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = await work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


async def main(admin_url: str, keep: str | None = None) -> int:
    name = keep or f"coach_bench_{uuid.uuid4().hex[:10]}"
    try:
        await admin(admin_url, f'CREATE DATABASE "{name}"')
        fresh = True
    except asyncpg.DuplicateDatabaseError:
        fresh = False  # --keep NAME: reuse the seeded database of an earlier run
    url = admin_url.rpartition("/")[0] + "/" + name
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        reps = BIG_TEAM + SMALL_TEAMS * SMALL_TEAM
        params = {
            "managers": 1 + SMALL_TEAMS,
            "big": BIG_TEAM,
            "small": SMALL_TEAM,
            "reps": reps,
            "per_rep": DEBRIEFS_PER_REP,
            "now": NOW,
        }
        start = time.perf_counter()
        async with engine.begin() as conn:
            for sql in SEED[:-1] if fresh else []:
                used = {k: v for k, v in params.items() if f":{k}" in sql}
                await conn.execute(text(sql), used)
            await conn.execute(text(ACTION_POINTS), {"now": NOW})
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
            debriefs = (await conn.execute(text("SELECT count(*) FROM debrief"))).scalar_one()
            big = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM debrief d JOIN person p ON p.id = d.person_id "
                        "WHERE p.manager_id = 1"
                    )
                )
            ).scalar_one()
        print(
            f"seeded {reps} reps, {debriefs} debriefs ({big} in the 50-rep team), "
            f"{debriefs * 5} answers in {time.perf_counter() - start:.1f} s"
        )

        db = session_factory(engine)
        period = Period.ending(NOW)

        async def digest_of(manager_ids):
            async with db() as session:
                return await compute_digests(session=session, period=period, manager_ids=manager_ids)

        ms, digests = await timed(15, lambda: digest_of([1]))
        d = digests[0]
        print(
            f"digest of 1 manager, {len(d.reps)} reps, a year of history: {ms:.1f} ms median "
            f"({d.team.debriefs} debriefs this week, {d.team.deals.concluded} deals concluded, "
            f"win rate {d.team.deals.win_rate or 0:.0%}, {sum(1 for r in d.reps if r.action_point)} "
            f"action points proposed) [goal < 100 ms]"
        )
        start = time.perf_counter()
        png = chart_png(d, default_texts())
        print(f"its chart (PNG, {len(png) // 1024} KiB): {(time.perf_counter() - start) * 1000:.0f} ms")

        ms_all, all_digests = await timed(5, lambda: digest_of(None))
        print(
            f"all digests of the organisation ({len(all_digests)} managers, "
            f"{sum(len(x.reps) for x in all_digests)} reps) in one batch: {ms_all:.0f} ms median "
            "[goal < 2000 ms]"
        )

        for manager_id, label in ((2, "10 reps"), (1, "50 reps")):
            statements: list[str] = []

            def count(*args, _s=statements):
                _s.append(args[2])

            event.listen(engine.sync_engine, "before_cursor_execute", count)
            got = await digest_of([manager_id])
            event.remove(engine.sync_engine, "before_cursor_execute", count)
            print(f"SQL statements for a manager of {label} ({len(got[0].reps)} reps): {len(statements)}")
        statements_all: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements_all.append(a[2]))
        await digest_of(None)
        print(f"SQL statements for all {len(all_digests)} managers at once: {len(statements_all)}")
        ok = ms < 100 and ms_all < 2000
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        await engine.dispose()
        if keep is None:
            await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "COACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--keep", metavar="NAME", help="keep the database under this name (and reuse it)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.admin_url, args.keep)))
