"""Shared fixtures: settings, databases (in-memory SQLite per test, real PostgreSQL), a live app."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from bot.app import COACH, create_app
from bot.config import OrgConfig, Settings
from bot.scheduling.scheduler import SCHEDULER_CONFIG, SchedulerConfig, wake_scheduler
from dialogs.context import CoachContext
from dialogs.text import default_texts
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Outbox, OutboxStatus
from tests.factories import FakeClock, make_settings
from tests.serving import serve

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PG_ADMIN_URL = os.environ.get(
    "COACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# In CI the PostgreSQL tests must run: an unreachable server fails them instead of skipping.
REQUIRE_POSTGRES = os.environ.get("CI") == "true" or os.environ.get("COACH_REQUIRE_POSTGRES") == "1"


SHARED_ABSENT = (
    "needs ../shared/oracles (public reference files: Slack payloads and signature vector, Teams "
    "and Adaptive Card schemas, iCalendar exports; CI lays shared/ beside the checkout)"
)


def shared_path(*parts: str) -> Path:
    """A file in ../shared (the public reference files, see ../shared/oracles/README.md).

    Skips only where ../shared is absent, always with the same one-line reason raised from here,
    so `-ra` folds every such skip into one line; a file missing from a present ../shared fails.
    """
    path = SHARED.joinpath(*parts)
    if not SHARED.exists():
        pytest.skip(SHARED_ABSENT)
    assert path.exists(), f"missing oracle file {path}"
    return path


# -- PostgreSQL: one fresh database per test run, dropped afterwards ---------------------------
def _pg_admin(sql: str) -> None:
    """Run one statement on the admin database, in a thread: a test's event loop may be running."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _pg_admin_async(sql)).result()


async def _pg_admin_async(sql: str) -> None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"coach_test_{uuid.uuid4().hex[:12]}"
    try:
        _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required here but unreachable: {exc!r}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {type(exc).__name__}")
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    yield f"{base}/{name}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _reset_postgres(url: str) -> AsyncEngine:
    """An engine on the run's database with an empty schema, migrated to head."""
    from sqlalchemy import text

    engine = create_engine(url, pool_size=5, max_overflow=10)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(engine)
    return engine


# -- databases -----------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both engines: in-memory SQLite and the real PostgreSQL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return "sqlite+aiosqlite:///:memory:"


@pytest.fixture
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    url = (
        request.getfixturevalue("database_url")
        if "database_url" in request.fixturenames
        else "sqlite+aiosqlite:///:memory:"
    )
    if url.startswith("postgresql"):
        eng = await _reset_postgres(url)
    else:
        eng = create_engine(url)
        await migrate.upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def db(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))


@pytest.fixture
def coach(db: async_sessionmaker[AsyncSession], clock: FakeClock) -> CoachContext:
    return CoachContext(db=db, texts=default_texts(), clock=clock)


# -- the app over real HTTP ------------------------------------------------------------------
@pytest.fixture
def org() -> OrgConfig:
    return OrgConfig()


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig) -> Settings:
    return make_settings(tmp_path, org=org)


class LiveApp:
    def __init__(self, app: web.Application, url: str) -> None:
        self.app = app
        self.url = url

    @property
    def coach(self) -> CoachContext:
        return self.app[COACH]

    async def outbox_due(self) -> int:
        """How many outbox rows are due by now and not finished yet (claimed ones included)."""
        due = sa.or_(
            col(Outbox.status) == OutboxStatus.CLAIMED,
            sa.and_(col(Outbox.status) == OutboxStatus.PENDING, col(Outbox.due_at) <= self.coach.clock()),
        )
        async with self.coach.db() as session:
            return int(await session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(due)) or 0)

    async def send_due(self, kind: str) -> None:
        """Make every pending row of `kind` due now, have the app's scheduler look, and wait until
        it went out."""
        async with self.coach.db() as session, session.begin():
            await session.execute(
                sa.update(Outbox)
                .where(col(Outbox.kind) == kind, col(Outbox.status) == OutboxStatus.PENDING)
                .values(due_at=self.coach.clock() - timedelta(seconds=1))
            )
        wake_scheduler(self.app)
        await self.outbox_settled()

    async def outbox_settled(self, within: float = 10.0) -> None:
        """Wait until every outbox row due by now was sent, put off (a retry) or finished."""
        async with asyncio.timeout(within):
            while True:  # rows in the database: no event to wait on
                if not await self.outbox_due():
                    return
                await asyncio.sleep(0.02)


@pytest.fixture
def scheduler_config() -> SchedulerConfig | None:
    """The live app's outbox scheduler settings (None: the defaults). A test that drives the
    scheduler itself parametrizes this with a long poll_interval and calls its run_once()."""
    return None


@pytest.fixture
async def live_app(settings: Settings, scheduler_config: SchedulerConfig | None) -> AsyncIterator[LiveApp]:
    """create_app(settings) served on 127.0.0.1 at a free port."""
    app = create_app(settings)
    if scheduler_config is not None:
        app[SCHEDULER_CONFIG] = scheduler_config
    runner, url = await serve(app)
    yield LiveApp(app, url)
    await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


@pytest.fixture
async def concurrent_db(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Like `db`, for tests where two sessions really run side by side (asyncio.gather).

    In-memory SQLite shares one connection between sessions, so on SQLite this is a database
    file (WAL, busy timeout: what the embedded default runs on); on PostgreSQL it is `db`.
    """
    if database_url.startswith("postgresql"):
        yield session_factory(engine)
        return
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'concurrent.db'}")
    await migrate.upgrade(eng)
    yield session_factory(eng)
    await eng.dispose()


# -- the `coach` command as an operator runs it ---------------------------------------------------
class CoachRun:
    """Runs `coach ARGS` in a subprocess (cwd: a temp dir), this checkout first on the path."""

    root = Path(__file__).resolve().parents[1]

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("COACH_", "SLACK_", "Microsoft"))}
        env["PYTHONPATH"] = str(self.root)
        env.update(extra)
        return env

    @staticmethod
    def command() -> list[str]:
        import sys

        script = Path(sys.executable).with_name("coach")
        return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]

    def __call__(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.command(), *args], cwd=self.cwd, env=self.env(**env),
                              capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def run_coach(tmp_path: Path) -> CoachRun:
    """run_coach("db", "current", "--json", COACH_DATABASE_URL=...) -> CompletedProcess."""
    return CoachRun(tmp_path)
