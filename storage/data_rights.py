"""A person's rows in every table: export them, forget them, and the retention job.

"A person's rows" follows the foreign keys of SQLModel.metadata, so tables added later by any
module are covered without a change here: the person row, every row whose foreign key points at
it (ON DELETE CASCADE or NOT NULL), and so on down (a debrief's answers). A nullable foreign key
with ON DELETE SET NULL (another person's manager_id, a debrief's meeting_id) is a reference,
not ownership: forgetting clears it instead of deleting the other row. The number of statements
is fixed by the schema, never by the number of rows.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

import storage.tables  # noqa: F401  (every table on the metadata)
from storage import teams_store
from storage.forget_mentions import Identity, forget_mentions
from storage.models import Account, Debrief, Person

MAX_DEPTH = 6


def _references(table: sa.Table) -> Iterator[tuple[sa.Table, sa.Column[Any], sa.ForeignKey]]:
    for child in SQLModel.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                yield child, fk.parent, fk


def _is_reference(fk: sa.ForeignKey) -> bool:
    return (fk.ondelete or "").upper() == "SET NULL" and bool(fk.parent.nullable)


def _owned(
    table: sa.Table, where: sa.ColumnElement[bool], depth: int = 0
) -> list[tuple[sa.Table, sa.ColumnElement[bool]]]:
    """(table, condition) for the rows matching `where` and everything they own, parents first."""
    out: list[tuple[sa.Table, sa.ColumnElement[bool]]] = [(table, where)]
    if depth >= MAX_DEPTH:
        return out
    for child, column, fk in _references(table):
        if _is_reference(fk) or child is table:
            continue
        out += _owned(child, column.in_(sa.select(fk.column).where(where)), depth + 1)
    return out


def _person_rows(person_id: int) -> list[tuple[sa.Table, sa.ColumnElement[bool]]]:
    person = SQLModel.metadata.tables["person"]
    return _owned(person, person.c.id == person_id)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


async def export_person(*, session: AsyncSession, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of this person, by table name (plus the accounts their debriefs name)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, where in _person_rows(person_id):
        result = await session.execute(sa.select(table).where(where).order_by(*table.primary_key.columns))
        rows = [{k: _plain(v) for k, v in row.items()} for row in result.mappings()]
        if rows:
            tables.setdefault(table.name, []).extend(rows)
    accounts = await session.execute(
        sa.select(col(Account.id), col(Account.name))
        .where(
            col(Account.id).in_(sa.select(col(Debrief.account_id)).where(col(Debrief.person_id) == person_id))
        )
        .order_by(col(Account.id))
    )
    names = [{"id": i, "name": n} for i, n in accounts.all()]
    if names:
        tables["account (names only)"] = names
    return tables


async def _delete(session: AsyncSession, rows: list[tuple[sa.Table, sa.ColumnElement[bool]]]) -> int:
    # First clear references held by rows that are not deleted (another person's manager_id).
    for table, where in rows:
        for child, column, fk in _references(table):
            if _is_reference(fk):
                await session.execute(
                    sa.update(child)
                    .where(column.in_(sa.select(fk.column).where(where)))
                    .values({column.name: None})
                )
    deleted = 0
    for table, where in reversed(rows):  # children before parents
        result = await session.execute(sa.delete(table).where(where))
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


async def forget_person(*, session: AsyncSession, person_id: int) -> int:
    """Delete the person and every row they own, and cut their name, e-mail and platform ids out
    of rows that only mention them (storage.forget_mentions); returns the number of rows deleted."""
    person = await session.get(Person, person_id)
    identity = None
    if person is not None:
        ids = [person.platform_user_id, *await teams_store.speaker_ids(session=session, person_id=person_id)]
        identity = Identity(name=person.display_name, email=person.email, platform_ids=tuple(ids))
    deleted = await _delete(session, _person_rows(person_id))
    if identity is not None:
        await forget_mentions(session=session, identity=identity)
    return deleted


async def delete_debriefs_before(*, session: AsyncSession, cutoff: datetime) -> int:
    """The retention job: debriefs created before `cutoff`, with their answers and dependants."""
    table = SQLModel.metadata.tables["debrief"]
    count = int(await session.scalar(sa.select(sa.func.count()).where(table.c.created_at < cutoff)) or 0)
    if count:
        await _delete(session, _owned(table, table.c.created_at < cutoff))
    return count
