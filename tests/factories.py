"""Test data builders: settings, people, complete debrief forms, a controllable clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from storage.models import Person
from storage.people import get_or_create_person, get_or_create_workspace, update_person


class FakeClock:
    """A clock the test moves by hand; dialogs read time only through CoachContext.clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_settings(tmp_path: Path | None = None, **overrides: Any) -> Settings:
    """The app's settings for a test, by field name (`slack_bot_token="xoxb-test"`).

    With tmp_path: a SQLite file and an (absent) app.yaml there; without: in-memory SQLite and
    the defaults. The environment is never read (that is Settings.load's job).
    """
    values: dict[str, Any] = {}
    if tmp_path is not None:
        values = {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}",
            "config_path": str(tmp_path / "app.yaml"),
        }
    return Settings(**{**values, **overrides})


async def make_person(
    db: async_sessionmaker[AsyncSession],
    *,
    user_id: str = "U1",
    name: str = "Sanne de Vries",
    locale: str | None = "en",
    timezone: str | None = "Europe/Amsterdam",
    platform: str = "web",
    workspace: str = "local",
    role: str = "rep",
    manager_id: int | None = None,
    email: str | None = None,
) -> Person:
    async with db() as session, session.begin():
        ws = await get_or_create_workspace(session=session, platform=platform, external_id=workspace)
        assert ws.id is not None
        person = await get_or_create_person(
            session=session, workspace_id=ws.id, platform_user_id=user_id, display_name=name,
            locale=locale, timezone=timezone, role=role, email=email,
        )
        if manager_id is not None:
            assert person.id is not None
            await update_person(session=session, person_id=person.id, manager_id=manager_id)
            person.manager_id = manager_id
    return person


def full_form(**overrides: Any) -> dict[str, Any]:
    """A complete debrief form as a channel would post it (raw, unvalidated values)."""
    form: dict[str, Any] = {
        "account": "Acme",
        "rating:opening": "no",
        "agenda_set_by": "customer_formal",
        "note:opening": "They sent a formal agenda by mail.",
        "rating:interaction": "yes",
        "customer_questions": "How fast is onboarding?",
        "answers_given": "Six weeks.",
        "note:interaction": None,
        "rating:situation": "partly",
        "customer_tried": "An internal spreadsheet.",
        "supplier_check": "not_asked",
        "note:situation": None,
        "rating:concessions": "yes",
        "concessions_asked": "Framework agreement",
        "concessions_given": "Signed their framework",
        "concessions_got": "Pilot start date agreed",
        "note:concessions": None,
        "rating:next_step": "yes",
        "next_step_what": "Pilot proposal",
        "next_step_who": "I send it, they book IT review",
        "next_step_due": "2026-12-07",
        "next_meeting_at": "next Tuesday 2pm",
        "note:next_step": None,
        "outcome": "next_step",
    }
    form.update(overrides)
    return form


async def store_debrief(coach: Any, person: Person, **form: Any) -> int:
    """A validated debrief stored through dialogs.debrief.submit_debrief."""
    from dialogs.debrief import submit_debrief
    from dialogs.validation import Locality, validate_form

    assert person.id is not None
    loc = Locality(locale=person.locale or "en", timezone=person.timezone or "Europe/Amsterdam",
                   now=coach.clock())
    debrief, errors = validate_form(full_form(**form), texts=coach.texts, loc=loc)
    assert not errors and debrief is not None, errors
    result = await submit_debrief(ctx=coach, person_id=person.id, debrief=debrief,
                                  idempotency_key=f"test:{person.id}:{coach.clock().isoformat()}:{form}")
    return result.debrief_id


@contextlib.asynccontextmanager
async def statements_sent(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The first word of every statement the bot sends to the database meanwhile. On PostgreSQL
    asyncpg's query logger sees them all, BEGIN and COMMIT included, and those sent on the driver's
    own connection (storage.filing_at_once); on SQLite, SQLAlchemy's cursor events."""
    import sqlalchemy as sa

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0].upper())

    def log_queries(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.driver_connection.add_query_logger(
            lambda q: _driver_own(q.query) or seen.append(q.query.split()[0].rstrip(";").upper())
        )

    postgres = engine.dialect.name == "postgresql"
    if postgres:
        await engine.dispose()  # new connections from here on, each with the logger
        sa.event.listen(engine.sync_engine, "connect", log_queries)
        async with engine.connect() as conn:  # connect (and set up the driver) before recording
            await conn.execute(sa.text("SELECT 1"))
        seen.clear()
    else:
        sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        if postgres:
            sa.event.remove(engine.sync_engine, "connect", log_queries)
            await engine.dispose()
        else:
            sa.event.remove(engine.sync_engine, "before_cursor_execute", record)


def _driver_own(sql: str) -> bool:
    """asyncpg's own lookup of a statement's types, once per connection (with JIT off around it)."""
    return "typeinfo_tree" in sql or "set_config('jit'" in sql


def rep_database_for_cli(tmp_path: Path, monkeypatch: Any, *, config: str) -> str:
    """A migrated SQLite file with the rep Sanne (sanne@ourco.nl), and the environment that points
    `coach` commands at it and at an app.yaml holding `config`; the database URL."""
    from storage import migrate
    from storage.engine import create_engine, session_factory

    url = f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}"
    app_yaml = tmp_path / "app.yaml"
    app_yaml.write_text(config)
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    monkeypatch.setenv("COACH_CONFIG", str(app_yaml))

    async def prepare() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await make_person(session_factory(engine), email="sanne@ourco.nl")
        await engine.dispose()

    asyncio.run(prepare())
    return url
