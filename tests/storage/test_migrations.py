"""Alembic migrations: empty -> head on both engines, the result matches the models, and the CLI."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (every table on the metadata, as Alembic sees it)
from storage import migrate
from storage.engine import create_engine
from storage.models import UTCDateTime


async def schema_diff(engine: AsyncEngine) -> list[Any]:
    def compare(conn: sa.Connection) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(ctx, SQLModel.metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def wipe(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
        else:
            await conn.run_sync(_drop_everything)


def _drop_everything(conn: sa.Connection) -> None:
    found = sa.MetaData()
    found.reflect(conn)
    found.drop_all(conn)  # in foreign-key order


async def test_upgrade_from_empty_matches_the_models(engine: AsyncEngine, database_url: str) -> None:
    await wipe(engine)
    assert await migrate.current_revision(engine) is None
    assert await table_names(engine) == set()
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    expected = set(SQLModel.metadata.tables) | {"alembic_version"}
    assert await table_names(engine) == expected
    assert await schema_diff(engine) == []
    # upgrading again is a no-op
    await migrate.upgrade(engine)
    assert await schema_diff(engine) == []


async def downgrade(conn: AsyncConnection, revision: str) -> None:
    """Alembic's downgrade to `revision` on this connection (inside the caller's transaction)."""
    cfg = migrate.alembic_config()

    def down(sync: sa.Connection) -> None:
        cfg.attributes["connection"] = sync
        command.downgrade(cfg, revision)

    await conn.run_sync(down)


async def test_downgrade_to_empty_and_up_again(engine: AsyncEngine, database_url: str) -> None:
    async with engine.begin() as conn:
        await downgrade(conn, "base")
    assert await table_names(engine) == {"alembic_version"}
    await migrate.upgrade(engine)
    assert await schema_diff(engine) == []


async def test_the_drift_check_sees_drift(engine: AsyncEngine) -> None:
    """Guard for the test above: a column the migrations lack is reported."""
    async with engine.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE account ADD COLUMN stray INTEGER"))
    diff = await schema_diff(engine)
    assert any(d[0] == "remove_column" and d[3].name == "stray" for d in diff), diff


async def test_sqlite_file_database_migrates_itself_from_nothing(tmp_path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    try:
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        async with engine.connect() as conn:
            mode = (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar_one()
            fks = (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar_one()
        assert (mode, fks) == ("wal", 1)
    finally:
        await engine.dispose()


# -- `coach db upgrade` / `coach db current` ---------------------------------------------------------
@pytest.fixture
async def empty_url(database_url: str, engine: AsyncEngine, tmp_path) -> str:
    """A database URL with nothing in it (SQLite: a new file; PostgreSQL: the run's DB, wiped)."""
    if database_url.startswith("postgresql"):
        await wipe(engine)
        await engine.dispose()
        return database_url
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def test_coach_db_upgrade_and_current_json(run_coach, empty_url: str) -> None:
    head = migrate.head_revision()
    before = run_coach("db", "current", "--json", COACH_DATABASE_URL=empty_url)
    assert before.returncode == 1, before.stderr
    assert json.loads(before.stdout) == {"current": None, "head": head, "up_to_date": False}

    up = run_coach("db", "upgrade", "--json", COACH_DATABASE_URL=empty_url)
    assert up.returncode == 0, up.stderr
    assert json.loads(up.stdout) == {"revision": head}

    after = run_coach("db", "current", "--json", COACH_DATABASE_URL=empty_url)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == {"current": head, "head": head, "up_to_date": True}

    plain = run_coach("db", "current", COACH_DATABASE_URL=empty_url)
    assert plain.returncode == 0 and head in plain.stdout and not plain.stdout.lstrip().startswith("{")


def test_coach_db_on_an_unreachable_database_fails_in_one_line(run_coach) -> None:
    result = run_coach(
        "db",
        "current",
        "--json",
        COACH_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        timeout=60,
    )
    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "127.0.0.1:1" in lines[0] and "does not answer" in lines[0]


# -- ids never reused (0006) ---------------------------------------------------------------------
async def test_sqlite_rebuild_for_autoincrement_keeps_every_row(tmp_path) -> None:
    """0006 rebuilds person, account and debrief on SQLite: rows (and rows pointing at them) stay,
    foreign keys are on again afterwards, and a deleted largest id is not handed out again."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await migrate.upgrade(engine, "0005")
        async with engine.begin() as conn:
            for sql in (
                "INSERT INTO workspace (id, platform, external_id, name, created_at)"
                " VALUES (1, 'web', 'local', '', '2026-01-01')",
                "INSERT INTO person (id, workspace_id, platform_user_id, display_name, role, reachable,"
                " created_at) VALUES (1, 1, 'u1', 'Anna', 'rep', 1, '2026-01-01'),"
                " (2, 1, 'u2', 'Ben', 'rep', 1, '2026-01-01')",
                "INSERT INTO account (id, workspace_id, name, name_key, created_at)"
                " VALUES (1, 1, 'Acme', 'acme', '2026-01-01')",
                "INSERT INTO debrief (id, workspace_id, person_id, account_id, idempotency_key, outcome,"
                " created_at) VALUES (1, 1, 2, 1, 'k1', 'closed', '2026-01-01')",
                "INSERT INTO debriefanswer (debrief_id, point, rating) VALUES (1, 'opening', 'yes')",
            ):
                await conn.execute(sa.text(sql))
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            counts = [
                (await conn.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one()
                for t in ("person", "account", "debrief", "debriefanswer")
            ]
            assert counts == [2, 1, 1, 1]
            assert (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar_one() == 1
            schema = sa.text("SELECT sql FROM sqlite_master WHERE name = 'person'")
            assert "AUTOINCREMENT" in (await conn.execute(schema)).scalar_one()
            await conn.execute(sa.text("DELETE FROM person WHERE id = 2"))  # cascades to the debrief
            assert (await conn.execute(sa.text("SELECT count(*) FROM debrief"))).scalar_one() == 0
            await conn.execute(sa.text(
                "INSERT INTO person (workspace_id, platform_user_id, display_name, role, reachable,"
                " created_at) VALUES (1, 'u3', 'Cleo', 'rep', 1, '2026-01-01')"
            ))
            new_id = (await conn.execute(
                sa.text("SELECT id FROM person WHERE platform_user_id = 'u3'")
            )).scalar_one()
        assert new_id == 3
    finally:
        await engine.dispose()


# -- one open action point per rep, manager and text (0012) -----------------------------------------
POINT_COLUMNS = ("id", "person", "manager", "text", "pattern", "point", "status", "created_at")
POINTS_BEFORE = [
    (1, 3, 1, "Ask for their agenda", None, None, "open", "2026-03-02 09:00:00"),
    (2, 3, 1, "Ask for their agenda", "agenda:customer_formal", "opening", "open", "2026-03-02 09:00:01"),
    (3, 3, 1, "Ask for their agenda", "agenda:rep_informal", "opening", "open", "2026-03-02 09:00:02"),
    (4, 3, 1, "Ask for their agenda", None, None, "done", "2026-02-01 09:00:00"),
    (5, 3, 1, "Put a date on every next step", None, None, "open", "2026-03-02 09:00:00"),
    (6, 3, 2, "Ask for their agenda", None, None, "open", "2026-03-02 09:00:00"),
    (7, 3, None, "Call first", None, None, "open", "2026-03-01 09:00:00"),
    (8, 3, None, "Call first", None, None, "open", "2026-03-01 09:00:00"),
    (9, 4, 1, "Call first", "next_step:no_date", "next_step", "open", "2026-03-01 09:00:00"),
    (10, 4, 1, "Call first", None, None, "open", "2026-02-27 09:00:00"),  # the older one
    (11, 4, 1, "Call first", "agenda:rep_informal", "opening", "open", "2026-03-03 09:00:00"),
]


async def test_open_action_point_twins_are_merged_before_the_index(
    engine: AsyncEngine, database_url: str
) -> None:
    """Open points stored twice before 0012 do not stop it: the oldest of each stays, with the
    pattern of a later twin when it had none; finished points, other managers' points and points
    of forgotten managers stay as they are. Afterwards the database refuses a new open twin."""
    await wipe(engine)
    await migrate.upgrade(engine, "0010")
    async with engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO workspace (id, platform, external_id, name, created_at)"
            " VALUES (1, 'web', 'local', '', '2026-01-01')"))
        await conn.execute(sa.text(
            "INSERT INTO person (id, workspace_id, platform_user_id, display_name, role, reachable,"
            " created_at) VALUES (1, 1, 'm1', 'Maartje', 'manager', true, '2026-01-01'),"
            " (2, 1, 'm2', 'Piet', 'manager', true, '2026-01-01'),"
            " (3, 1, 'r1', 'Sanne', 'rep', true, '2026-01-01'),"
            " (4, 1, 'r2', 'Tom', 'rep', true, '2026-01-01')"))
        await conn.execute(sa.text(
            "INSERT INTO actionpoint (id, workspace_id, person_id, manager_id, text, pattern, point, status,"
            " created_at) VALUES (:id, 1, :person, :manager, :text, :pattern, :point, :status, :created_at)"
        ).bindparams(sa.bindparam("created_at", type_=UTCDateTime)), [
            {**dict(zip(POINT_COLUMNS, p, strict=True)),
             "created_at": datetime.fromisoformat(f"{p[-1]}+00:00")}
            for p in POINTS_BEFORE
        ])
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT id, pattern, point, status FROM actionpoint ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [
        (1, "agenda:customer_formal", "opening", "open"),
        (4, None, None, "done"),
        (5, None, None, "open"),
        (6, None, None, "open"),
        (7, None, None, "open"),
        (8, None, None, "open"),
        (10, "next_step:no_date", "next_step", "open"),
    ]
    assert await schema_diff(engine) == []
    refused = r"uq_actionpoint_open_point|actionpoint\.person_id, actionpoint\.manager_id, actionpoint\.text"
    with pytest.raises(sa.exc.IntegrityError, match=refused):
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO actionpoint (id, workspace_id, person_id, manager_id, text, status, created_at)"
                " VALUES (99, 1, 3, 1, 'Ask for their agenda', 'open', '2026-03-04')"))


# -- the CRM read-back's claim (0011) ------------------------------------------------------------
async def test_crm_connections_get_an_unclaimed_poll_and_keep_their_rows_both_ways(
    engine: AsyncEngine, database_url: str
) -> None:
    """0011 adds crm_connection.polled_at: a connection made before is due for a poll at once (NULL);
    downgrading drops the column and keeps the connection."""
    await wipe(engine)
    await migrate.upgrade(engine, "0010")
    async with engine.begin() as conn:
        for sql in (
            "INSERT INTO workspace (id, platform, external_id, name, created_at)"
            " VALUES (1, 'web', 'local', '', '2026-01-01')",
            "INSERT INTO crm_connection (id, workspace_id, crm, source, status, tokens, created_at,"
            " updated_at) VALUES (1, 1, 'hubspot', 'token', 'connected', '', '2026-01-01', '2026-01-01')",
        ):
            await conn.execute(sa.text(sql))
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT id, crm, polled_at FROM crm_connection"))).all()
    assert [tuple(r) for r in rows] == [(1, "hubspot", None)]
    async with engine.begin() as conn:
        await downgrade(conn, "0010")
        columns = await conn.run_sync(
            lambda c: [column["name"] for column in sa.inspect(c).get_columns("crm_connection")]
        )
        kept = (await conn.execute(sa.text("SELECT id, crm FROM crm_connection"))).all()
    assert "polled_at" not in columns and [tuple(r) for r in kept] == [(1, "hubspot")]
    await migrate.upgrade(engine)
    assert await schema_diff(engine) == []
