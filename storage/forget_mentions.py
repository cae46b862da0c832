"""Forgetting a person where they are only mentioned: their name, e-mail and platform ids inside
rows that are not theirs (another rep's outbox payload naming their manager, a Teams channel's
conversation reference, a dialog's remembered data).

Every JSON column and every free-text column (Text, or String of 100 characters and more) of
SQLModel.metadata but the person table is searched, so tables added later are covered. One
statement per column finds candidate rows (a case-insensitive LIKE); the matches are rewritten in
Python: a JSON object holding one of the person's platform ids is that person's account record
and becomes {}, and the name, e-mail and ids are cut out of every other string (whole words only,
so "Ann" leaves "Annual" alone). A table that merges duplicates (MERGES_DUPLICATES: a manager's
open action points, one per text) loses the row a rewrite would make equal to another instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (every table on the metadata)
from storage.models import MERGES_DUPLICATES

FREE_TEXT_LENGTH = 100  # a String this long or longer holds free text, not a code
SHORTEST_NAME = 3  # a shorter name would cut too much out of other people's words
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class Identity:
    """What identifies a forgotten person in other rows."""

    name: str
    email: str | None
    platform_ids: tuple[str, ...]

    def words(self) -> list[str]:
        words = (self.name.strip(), (self.email or "").strip(), *self.platform_ids)
        return sorted({w for w in words if len(w) >= SHORTEST_NAME})


def _columns() -> Iterator[tuple[sa.Table, sa.Column[Any]]]:
    for table in SQLModel.metadata.sorted_tables:
        if table.name == "person":  # other people's own profiles (a namesake keeps their name)
            continue
        for column in table.columns:
            kind = column.type
            if isinstance(kind, sa.JSON) or isinstance(kind, sa.Text) or (
                isinstance(kind, sa.String) and (kind.length or 0) >= FREE_TEXT_LENGTH
            ):
                yield table, column


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _patterns(identity: Identity) -> list[str]:
    words = identity.words()
    # JSON stores non-ASCII letters escaped ("Zo\u00eb"): search for that spelling too.
    spelled = {w for word in words for w in (word, json.dumps(word)[1:-1])}
    return sorted(_like(w) for w in spelled)


def _pattern(identity: Identity) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(identity.words(), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _scrub(value: Any, identity: Identity, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return _SPACES.sub(" ", pattern.sub("", value)).strip() if pattern.search(value) else value
    if isinstance(value, list):
        return [_scrub(v, identity, pattern) for v in value]
    if isinstance(value, dict):
        ids = {i.casefold() for i in identity.platform_ids if len(i) >= SHORTEST_NAME}
        if any(isinstance(v, str) and v.casefold() in ids for v in value.values()):
            return {}  # the person's own account record (Teams' {"id", "name", "aadObjectId"})
        return {k: _scrub(v, identity, pattern) for k, v in value.items()}
    return value


async def forget_mentions(*, session: AsyncSession, identity: Identity) -> int:
    """Cut the person out of every row that mentions them; returns the number of rows changed.
    Call it before the person's own rows are deleted or after: their rows are rewritten too."""
    if not identity.words():
        return 0
    patterns, pattern = _patterns(identity), _pattern(identity)
    changed = 0
    for table, column in _columns():
        text = sa.cast(column, sa.Text)
        keys = list(table.primary_key.columns)
        found = await session.execute(
            sa.select(*keys, column).where(sa.or_(*[text.ilike(p, escape="\\") for p in patterns]))
        )
        for row in found.all():
            before = row[-1]
            after = _scrub(before, identity, pattern)
            if after == before:
                continue
            where = sa.and_(*[key == row[i] for i, key in enumerate(keys)])
            await _rewrite(session, table, where, {column.name: after})
            changed += 1
    return changed


async def _rewrite(session: AsyncSession, table: sa.Table, where: sa.ColumnElement[bool],
                   values: dict[str, Any]) -> None:
    update = sa.update(table).where(where).values(values)
    if not table.info.get(MERGES_DUPLICATES):
        await session.execute(update)
        return
    try:
        async with session.begin_nested():  # a unique index refusing it must not end the forget
            await session.execute(update)
    except IntegrityError:  # now the same as another row: that one stands for both
        await session.execute(sa.delete(table).where(where))
