"""Searching the whole database for strings: every table it has (by reflection, so tables added
later are covered) and every column, JSON included."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa


async def hits(db: Any, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every value in the database that contains a needle."""
    async with db() as session:
        conn = await session.connection()
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        found = []
        for name in tables:
            rows = (await conn.execute(sa.text(f'SELECT * FROM "{name}"'))).mappings().all()
            for row in rows:
                for column, value in row.items():
                    if value is None:
                        continue
                    as_text = value if isinstance(value, str) else json.dumps(
                        value, default=str, ensure_ascii=False
                    )
                    spelled = as_text + " " + json.dumps(as_text)
                    found += [(name, column, n) for n in needles if n.casefold() in spelled.casefold()]
    return found
