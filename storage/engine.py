"""The async engine and session factory: SQLite by default, PostgreSQL through COACH_DATABASE_URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

# How long a request waits its turn for the SQLite connection before it fails (seconds).
SQLITE_QUEUE_TIMEOUT = 30.0


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Build the engine; SQLite gets foreign keys and WAL on every connection.

    A SQLite file gets one connection, shared in turn: SQLite lets one writer in at a time and
    makes the others sleep and retry in its busy handler (in steps of up to 100 ms), so concurrent
    writers waited far longer than the writes take. With one connection they queue in the pool
    instead (first come, first served, no sleeping), at the price that nothing may open a second
    session while it holds one (it would wait for itself): sessions are opened one after another.
    """
    if url.startswith("sqlite"):
        in_memory = url.rstrip("/").endswith(":memory:") or url in ("sqlite+aiosqlite://",)
        if in_memory:
            kwargs.setdefault("poolclass", StaticPool)
        else:
            kwargs.setdefault("poolclass", AsyncAdaptedQueuePool)
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", SQLITE_QUEUE_TIMEOUT)
        # Another process (a `coach` command next to `coach serve`) still meets the busy handler.
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database does not answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def dialect_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ON CONFLICT, for the engine named (PostgreSQL, else SQLite)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def session_dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"
