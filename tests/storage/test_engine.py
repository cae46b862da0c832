"""The engine: a SQLite file queues its writers on one connection instead of SQLite's busy sleeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from storage import migrate
from storage.engine import PG_POOL_RECYCLE_S, PG_POOL_SIZE, create_engine, session_factory
from storage.models import Workspace
from storage.people import get_or_create_workspace


async def test_sqlite_file_writers_queue_instead_of_meeting_the_busy_handler(tmp_path: Path) -> None:
    # No busy timeout at all: a second writer on another connection would fail at once with
    # "database is locked". Queued on the one connection, every writer gets its turn.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}", connect_args={"timeout": 0})
    try:
        await migrate.upgrade(engine)
        db = session_factory(engine)
        order: list[int] = []

        async def write(n: int) -> None:
            async with db() as session, session.begin():
                await get_or_create_workspace(session=session, platform="web", external_id=f"w{n}")
                order.append(n)
                await asyncio.sleep(0.01)  # hold the write transaction open while the others arrive
                order.append(n)

        await asyncio.gather(*(write(n) for n in range(12)))
        # one transaction at a time: each writer's two marks are next to each other
        assert [order[i] for i in range(0, 24, 2)] == [order[i] for i in range(1, 24, 2)]
        async with db() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(Workspace)) == 12
        assert engine.pool.size() == 1
    finally:
        await engine.dispose()


async def test_a_reader_waits_for_the_writer_and_sees_its_commit(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    try:
        await migrate.upgrade(engine)
        db = session_factory(engine)
        writing = asyncio.Event()

        async def write() -> None:
            async with db() as session, session.begin():
                await get_or_create_workspace(session=session, platform="web", external_id="w")
                writing.set()
                await asyncio.sleep(0.02)

        async def read() -> int:
            await writing.wait()
            async with db() as session:
                return int(await session.scalar(sa.select(sa.func.count()).select_from(Workspace)) or 0)

        _, seen = await asyncio.gather(write(), read())
        assert seen == 1
    finally:
        await engine.dispose()


def test_in_memory_sqlite_and_the_postgresql_pool() -> None:
    memory = create_engine("sqlite+aiosqlite:///:memory:")
    assert isinstance(memory.pool, StaticPool)
    pg = create_engine("postgresql+asyncpg://u@127.0.0.1:1/none")
    # a fixed set of connections (an overflow one would be opened and closed per request in a
    # burst), no pre-ping (three round trips per checkout), idle connections renewed after 30 min
    assert (pg.pool.size(), pg.pool._max_overflow, pg.pool._pre_ping, pg.pool._recycle) == (  # type: ignore[attr-defined]
        PG_POOL_SIZE, 0, False, PG_POOL_RECYCLE_S
    )


@pytest.mark.postgres
async def test_connections_the_server_dropped_cost_one_failed_statement(postgres_url: str) -> None:
    """Without pre-ping, a restart of the server (here: its backends terminated) fails the one
    statement that meets a dead connection; the pool then renews all the others it holds."""
    import asyncpg

    engine = create_engine(postgres_url)
    try:
        async def backend() -> int:
            async with engine.connect() as conn:
                await asyncio.sleep(0.05)  # hold it, so the three are different connections
                return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())

        pids = set(await asyncio.gather(backend(), backend(), backend()))
        assert len(pids) == 3 and engine.pool.checkedin() == 3  # type: ignore[attr-defined]
        admin = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", list(pids))
        finally:
            await admin.close()
        outcomes = []
        for _ in range(4):
            try:
                async with engine.connect() as conn:
                    outcomes.append((await conn.execute(sa.text("SELECT 1"))).scalar_one())
            except sa.exc.DBAPIError as exc:
                assert exc.connection_invalidated
                outcomes.append("failed")
        assert outcomes == ["failed", 1, 1, 1]
    finally:
        await engine.dispose()
