"""Debrief submissions through dialogs + storage against a bare SQLAlchemy Core insert of the same rows.

    .venv/bin/python bench/bench_submit.py [--quick] [--n N] [--concurrency C] [--engines sqlite,postgresql]

Both paths write one debrief and its five answers atomically per submission:

- full path: dialogs.debrief.submit_debrief(ctx, person_id, CleanDebrief, idempotency_key) — finds
  the rep and the account, inserts with ON CONFLICT on the idempotency key (on PostgreSQL the
  debrief, its answers and what it plans in one statement, storage.filing_at_once), reads the
  rep's last four debriefs when a habit rule could fire (the form's formal agenda can: one more
  statement, in the filing's transaction on SQLite), and renders the coaching reply and the
  customer recap (Jinja2 + Babel), as submit_debrief answers at once;
- bare insert: INSERT debrief ... RETURNING id and one executemany INSERT of the five answers,
  SQLAlchemy Core on the same engine.

Measured in the same run, alternating rounds, on SQLite (a file in a temp dir) and on PostgreSQL
(a fresh database on 127.0.0.1:5432, created and dropped here; COACH_BENCH_POSTGRES_URL or
COACH_TEST_POSTGRES_URL names the admin database). Target: full path >= 0.8 x bare throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.context import CoachContext
from dialogs.debrief import submit_debrief
from dialogs.text import default_texts
from dialogs.validation import CleanDebrief, Locality, validate_form
from storage import migrate
from storage.accounts import get_or_create_account
from storage.engine import create_engine, session_factory
from storage.models import Debrief, DebriefAnswer
from storage.people import get_or_create_person, get_or_create_workspace
from tests.factories import full_form

TARGET = 0.8
PG_ADMIN = os.environ.get("COACH_BENCH_POSTGRES_URL") or os.environ.get(
    "COACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

# The tests' complete debrief, without a next meeting or due date: the same rows as the baseline.
FORM = full_form(next_meeting_at=None, next_step_due=None)
# With a due date (--follow-up) the debrief also schedules its follow-through check (an outbox
# row): more rows than the baseline writes, so it is off by default and the table says rows/op.
FOLLOW_UP = {"next_step_due": "2026-12-07"}


@dataclass
class Result:
    engine: str
    mode: str
    concurrency: int
    n: int
    seconds: float
    latencies: list[float]
    rows_per_op: float

    @property
    def rate(self) -> float:
        return self.n / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(op: Callable[[int], Awaitable[None]], n: int, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            start = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies


async def row_count(engine: AsyncEngine) -> int:
    from sqlmodel import SQLModel

    import storage.tables  # noqa: F401  (every table)

    async with engine.connect() as conn:
        total = 0
        for table in SQLModel.metadata.sorted_tables:
            total += int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())
        return total


async def bench_engine(
    name: str, url: str, n: int, levels: list[int], rounds: int, follow_up: bool
) -> list[Result]:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        db = session_factory(engine)
        ctx = CoachContext(db=db, texts=default_texts(), clock=lambda: NOW)
        async with db() as session, session.begin():
            ws = await get_or_create_workspace(session=session, platform="web", external_id="bench")
            assert ws.id is not None
            person = await get_or_create_person(
                session=session,
                workspace_id=ws.id,
                platform_user_id="U1",
                display_name="Bench Rep",
                locale="en",
                timezone="Europe/Amsterdam",
            )
            account_id = await get_or_create_account(session=session, workspace_id=ws.id, name="Acme")
        assert person.id is not None
        loc = Locality(locale="en", timezone="Europe/Amsterdam", now=NOW)
        debrief, errors = validate_form(FORM | (FOLLOW_UP if follow_up else {}), texts=ctx.texts, loc=loc)
        assert debrief is not None, errors
        rows = _rows(debrief)
        workspace_id, person_id = ws.id, person.id
        tag = uuid.uuid4().hex[:8]

        async def full(i: int, prefix: str) -> None:
            result = await submit_debrief(
                ctx=ctx, person_id=person_id, debrief=debrief, idempotency_key=f"{prefix}:{tag}:{i}"
            )
            assert result.created

        async def bare(i: int, prefix: str) -> None:
            async with engine.begin() as conn:
                debrief_id = (
                    await conn.execute(
                        sa.insert(Debrief).returning(Debrief.id),
                        {
                            "workspace_id": workspace_id,
                            "person_id": person_id,
                            "account_id": account_id,
                            "idempotency_key": f"{prefix}:{tag}:{i}",
                            "created_at": NOW,
                            **rows["fields"],
                        },
                    )
                ).scalar_one()
                await conn.execute(
                    sa.insert(DebriefAnswer), [{"debrief_id": debrief_id, **a} for a in rows["answers"]]
                )

        # warm both paths up (connections, statement caches, templates)
        for i in range(20):
            await full(i, "warm-full")
            await bare(i, "warm-bare")

        results: list[Result] = []
        for conc in levels:
            per_mode: dict[str, list[tuple[float, list[float]]]] = {"bare insert": [], "full path": []}
            written: dict[str, int] = {"bare insert": 0, "full path": 0}
            for r in range(rounds):  # alternate, so drift in machine load hits both alike
                for mode, op in (("bare insert", bare), ("full path", full)):
                    prefix = f"{mode}-{conc}-{r}"
                    before = await row_count(engine)
                    per_mode[mode].append(await run(lambda i, op=op, p=prefix: op(i, p), n, conc))
                    written[mode] += await row_count(engine) - before
            for mode, runs in per_mode.items():
                seconds = statistics.median(s for s, _ in runs)
                latencies = [x for _, lat in runs for x in lat]
                results.append(Result(name, mode, conc, n, seconds, latencies, written[mode] / (n * rounds)))
        return results
    finally:
        await engine.dispose()


def _rows(debrief: CleanDebrief) -> dict[str, object]:
    """The same column values the full path stores."""
    from dialogs.checklist import POINTS

    return {
        "fields": dict(debrief.fields),
        "answers": [{"point": p, "rating": debrief.ratings[p], "note": debrief.notes.get(p)} for p in POINTS],
    }


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main_async(args: argparse.Namespace) -> list[Result]:
    levels = sorted({1, args.concurrency})
    results: list[Result] = []
    engines = args.engines.split(",")
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            results += await bench_engine("sqlite", url, args.n, levels, args.rounds, args.follow_up)
    if "postgresql" in engines:
        name = f"coach_bench_{uuid.uuid4().hex[:10]}"
        try:
            await _pg_admin(f'CREATE DATABASE "{name}"')
        except Exception as exc:  # no server: say so, measure the rest
            print(f"postgresql: skipped, {PG_ADMIN} unreachable ({type(exc).__name__})")
        else:
            try:
                base = PG_ADMIN.rpartition("/")[0]
                results += await bench_engine(
                    "postgresql", f"{base}/{name}", args.n, levels, args.rounds, args.follow_up
                )
            finally:
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


def report(results: list[Result]) -> list[float]:
    print(
        f"{'engine':<11} {'path':<12} {'conc':>4} {'n':>5} {'rows/op':>7} {'ops/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'ratio':>6}"
    )
    ratios = []
    by_key = {(r.engine, r.concurrency, r.mode): r for r in results}
    for r in results:
        ratio = ""
        if r.mode == "full path":
            value = r.rate / by_key[(r.engine, r.concurrency, "bare insert")].rate
            ratios.append(value)
            ratio = f"{value:.2f}"
        print(
            f"{r.engine:<11} {r.mode:<12} {r.concurrency:>4} {r.n:>5} {r.rows_per_op:>7.1f} {r.rate:>8.0f} "
            f"{r.pct(0.50):>7.2f} {r.pct(0.99):>7.2f} {ratio:>6}"
        )
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short run (n=150, one round)")
    parser.add_argument("--n", type=int, default=1000, help="submissions per round and path (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per path (default 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="the concurrent level (default 8)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--follow-up",
        action="store_true",
        help="debriefs with a next-step due date (the full path also schedules a check)",
    )
    args = parser.parse_args()
    if args.quick:
        args.n, args.rounds = 150, 1
    ratios = report(asyncio.run(main_async(args)))
    if ratios:
        worst = min(ratios)
        verdict = "meets" if worst >= TARGET else "BELOW"
        print(f"lowest full/bare ratio {worst:.2f}: {verdict} the {TARGET} target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
