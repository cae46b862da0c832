"""The async engine and session factory: SQLite by default, PostgreSQL through COACH_DATABASE_URL."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

# How long a request waits its turn for the SQLite connection before it fails (seconds).
SQLITE_QUEUE_TIMEOUT = 30.0


PG_POOL_SIZE = 20
PG_POOL_RECYCLE_S = 1800


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
    # A fixed set of connections: an overflow connection is closed again when it is returned, so a
    # burst above the pool size opened and closed a server connection per request. Beyond the
    # pool, requests wait their turn (cheaply, in the pool's queue).
    kwargs.setdefault("pool_size", PG_POOL_SIZE)
    kwargs.setdefault("max_overflow", 0)
    # No pre-ping: on asyncpg it costs three round trips (BEGIN, a ping, ROLLBACK) on every
    # checkout, more than the usual debrief's own statements. A connection the server dropped
    # fails the one statement that meets it; SQLAlchemy then renews every pooled connection older
    # than that failure, and the recycle age bounds how long an idle one is kept.
    kwargs.setdefault("pool_recycle", PG_POOL_RECYCLE_S)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def sessions_dialect(sessions: async_sessionmaker[AsyncSession]) -> str:
    """The dialect name ("sqlite", "postgresql") of the engine a session factory is bound to."""
    return str(sessions.kw["bind"].dialect.name)


def sessions_engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a session factory is bound to."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


@contextlib.asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """The driver's own connection (asyncpg), taken from the pool and given back, for one hot
    statement run outside any transaction (it commits by itself). Through SQLAlchemy the same
    statement cost three times the CPU (its result layer and greenlet hops, per execution).

    A failure of the connection itself (the server restarted or ended the session) renews the
    pool, as SQLAlchemy does for its own statements: only the statement that met it fails."""
    import asyncpg  # PostgreSQL only: SQLite never gets here (nor loads the driver)

    lost_connection = (
        OSError,
        asyncpg.InterfaceError,  # "connection is closed"
        asyncpg.InternalClientError,  # the protocol met the server's goodbye mid-operation
        asyncpg.PostgresConnectionError,  # class 08
        asyncpg.AdminShutdownError,  # 57P01: ended by an administrator, or a fast shutdown
        asyncpg.CrashShutdownError,
        asyncpg.CannotConnectNowError,
    )
    async with engine.connect() as conn:
        pooled = await conn.get_raw_connection()
        try:
            yield pooled.driver_connection
        except lost_connection as exc:
            await conn.invalidate(exc)
            await engine.dispose()
            raise


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database does not answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def dialect_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ON CONFLICT, for the engine named (PostgreSQL, else SQLite)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def session_dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def session_insert(session: AsyncSession, table: Any) -> Any:
    """`dialect_insert` for the session's engine."""
    return dialect_insert(session_dialect(session), table)
