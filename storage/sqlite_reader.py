"""A read-only aiosqlite connection beside the engine, for the per-activity "who is this" read.

Why: one hop to its thread instead of a pooled session's six (cursor, execute, fetch, close, two
rollbacks). Figure (bench/bench_teams.py --shortcuts-each): debrief turns 1.2-1.4 -> 0.6 ms bot
CPU/turn and ~650 -> ~1,300 turns/s, 13-23% of the shortcuts' CPU speed-up.
Switch: SIDE_CONNECTION = False leaves every read to the session.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url

from storage.teams_store import PERSON_LOOKUP

SIDE_CONNECTION = True

# teams_store.PERSON_LOOKUP as SQLite text, and the order of its parameters.
_COMPILED = PERSON_LOOKUP.compile(dialect=sqlite_dialect.dialect())
_SQL = str(_COMPILED)
_ORDER = tuple(_COMPILED.positiontup or ())
_REFERENCE = 5  # the JSON column, as SQLAlchemy's JSON type would return it

NO_ANSWER = object()


class PersonReadConnection:
    """A dedicated read-only connection to the SQLite file for teams_store.PERSON_LOOKUP.

    It reads the committed state (WAL), exactly as the session would. `open` returns None for
    anything but a plain SQLite file (PostgreSQL, in-memory): those use the session. A failed read
    closes it for good and the session answers from then on; `on_failure` hears why.
    """

    def __init__(self, conn: aiosqlite.Connection,
                 on_failure: Callable[[Exception], None] | None = None) -> None:
        self._conn: aiosqlite.Connection | None = conn
        self._on_failure = on_failure

    @classmethod
    async def open(cls, database_url: str, *, on_failure: Callable[[Exception], None] | None = None
                   ) -> PersonReadConnection | None:
        url = make_url(database_url)
        path = url.database or ""
        if (not SIDE_CONNECTION or url.get_backend_name() != "sqlite" or not path or path == ":memory:"
                or url.query):
            return None
        try:
            conn = await aiosqlite.connect(path, timeout=30)
        except (sqlite3.Error, OSError) as exc:
            if on_failure is not None:
                on_failure(exc)
            return None
        try:
            await conn.execute("PRAGMA query_only=ON")
        except BaseException:
            await conn.close()
            raise
        return cls(conn, on_failure)

    async def row(self, params: dict[str, str]) -> Any:
        """The row (or None when there is none); NO_ANSWER when this connection cannot answer."""
        conn = self._conn
        if conn is None:
            return NO_ANSWER
        try:
            rows = list(await conn.execute_fetchall(_SQL, [params[k] for k in _ORDER]))
        except (sqlite3.Error, ValueError) as exc:
            if self._on_failure is not None:
                self._on_failure(exc)
            await self.close()
            return NO_ANSWER
        if not rows:
            return None
        row = tuple(rows[0])
        reference = row[_REFERENCE]
        return (*row[:_REFERENCE], json.loads(reference) if isinstance(reference, str) else reference,
                *row[_REFERENCE + 1:])

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
