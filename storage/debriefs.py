"""Stored debriefs and their checklist answers: written, corrected, read back and counted."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.engine import dialect_insert
from storage.errors import NotFound
from storage.models import Account, Debrief, DebriefAnswer, table_of, utcnow


@dataclass(frozen=True)
class AnswerRow:
    point: str
    rating: str
    note: str | None = None


@dataclass(frozen=True)
class StoredDebrief:
    debrief: Debrief
    answers: dict[str, DebriefAnswer]
    account_name: str


async def create_debrief(
    *,
    session: AsyncSession,
    workspace_id: int,
    person_id: int,
    account_id: int,
    idempotency_key: str,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    meeting_id: int | None = None,
    created_at: datetime | None = None,
) -> tuple[int, bool]:
    """Insert a debrief and its answers; (id, True) if new, (existing id, False) on a repeat key.

    Two statements on the session's connection (Core: no ORM unit-of-work for rows nobody holds
    as objects), each built once per dialect and given its values as parameters.
    """
    conn = await session.connection()
    insert_debrief, insert_answers = _debrief_statements(conn.dialect.name)
    params = dict.fromkeys(DEBRIEF_FIELDS)
    params.update(fields)
    params.update(workspace_id=workspace_id, person_id=person_id, account_id=account_id,
                  meeting_id=meeting_id, idempotency_key=idempotency_key,
                  created_at=created_at or utcnow(), updated_at=None)
    new_id = (await conn.execute(insert_debrief, params)).scalar_one_or_none()
    if new_id is None:
        existing = await session.scalar(
            sa.select(col(Debrief.id)).where(
                col(Debrief.workspace_id) == workspace_id, col(Debrief.idempotency_key) == idempotency_key
            )
        )
        assert existing is not None
        return int(existing), False
    await conn.execute(
        insert_answers,
        [{"debrief_id": new_id, "point": a.point, "rating": a.rating, "note": a.note} for a in answers],
    )
    return int(new_id), True


_DEBRIEFS = table_of(Debrief)
_ANSWERS = table_of(DebriefAnswer)
DEBRIEF_FIELDS = tuple(c.name for c in _DEBRIEFS.columns if c.name != "id")
_STATEMENTS: dict[str, tuple[Any, Any]] = {}


def _debrief_statements(dialect: str) -> tuple[Any, Any]:
    if dialect not in _STATEMENTS:
        insert = dialect_insert(dialect, _DEBRIEFS)
        _STATEMENTS[dialect] = (
            insert.on_conflict_do_nothing(index_elements=["workspace_id", "idempotency_key"])
            .returning(_DEBRIEFS.c.id),
            sa.insert(_ANSWERS),
        )
    return _STATEMENTS[dialect]


async def update_debrief(
    *,
    session: AsyncSession,
    debrief_id: int,
    person_id: int,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    updated_at: datetime | None = None,
) -> None:
    """Replace a debrief's answers and fields; its created_at is kept, updated_at is set."""
    result = await session.execute(
        sa.update(Debrief)
        .where(col(Debrief.id) == debrief_id, col(Debrief.person_id) == person_id)
        .values(updated_at=updated_at or utcnow(), **fields)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("no such debrief for this person", debrief_id=debrief_id)
    await session.execute(sa.delete(DebriefAnswer).where(col(DebriefAnswer.debrief_id) == debrief_id))
    await session.execute(
        sa.insert(DebriefAnswer),
        [{"debrief_id": debrief_id, "point": a.point, "rating": a.rating, "note": a.note} for a in answers],
    )


async def get_debrief(*, session: AsyncSession, debrief_id: int, person_id: int) -> StoredDebrief:
    """One of this person's debriefs with its answers; NotFound for anyone else's."""
    row = (
        await session.execute(
            sa.select(Debrief, col(Account.name))
            .join(Account, col(Account.id) == col(Debrief.account_id))
            .where(col(Debrief.id) == debrief_id, col(Debrief.person_id) == person_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such debrief for this person", debrief_id=debrief_id)
    answers = (
        await session.scalars(sa.select(DebriefAnswer).where(col(DebriefAnswer.debrief_id) == debrief_id))
    ).all()
    return StoredDebrief(row[0], {a.point: a for a in answers}, row[1])


async def latest_debriefs(
    *, session: AsyncSession, person_id: int, limit: int = 5
) -> list[StoredDebrief]:
    """The person's newest debriefs, newest first, each with its answers (two queries in all)."""
    rows = (
        await session.execute(
            sa.select(Debrief, col(Account.name))
            .join(Account, col(Account.id) == col(Debrief.account_id))
            .where(col(Debrief.person_id) == person_id)
            .order_by(col(Debrief.created_at).desc(), col(Debrief.id).desc())
            .limit(limit)
        )
    ).all()
    ids = [d.id for d, _ in rows]
    by_debrief: dict[int, dict[str, DebriefAnswer]] = {i: {} for i in ids if i is not None}
    if ids:
        for a in await session.scalars(
            sa.select(DebriefAnswer).where(col(DebriefAnswer.debrief_id).in_(ids))
        ):
            by_debrief[a.debrief_id][a.point] = a
    return [StoredDebrief(d, by_debrief[d.id], name) for d, name in rows if d.id is not None]


async def count_debriefs(*, session: AsyncSession, person_id: int | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(Debrief)
    if person_id is not None:
        stmt = stmt.where(col(Debrief.person_id) == person_id)
    return int(await session.scalar(stmt) or 0)


async def debriefs_by_id(*, session: AsyncSession, debrief_ids: Sequence[int]) -> dict[int, StoredDebrief]:
    """These debriefs with their answers, by id (two queries for any number); absent ids are gone."""
    if not debrief_ids:
        return {}
    rows = (
        await session.execute(
            sa.select(Debrief, col(Account.name))
            .join(Account, col(Account.id) == col(Debrief.account_id))
            .where(col(Debrief.id).in_(set(debrief_ids)))
        )
    ).all()
    by_debrief: dict[int, dict[str, DebriefAnswer]] = {d.id: {} for d, _ in rows if d.id is not None}
    if by_debrief:
        for a in await session.scalars(
            sa.select(DebriefAnswer).where(col(DebriefAnswer.debrief_id).in_(list(by_debrief)))
        ):
            by_debrief[a.debrief_id][a.point] = a
    return {d.id: StoredDebrief(d, by_debrief[d.id], name) for d, name in rows if d.id is not None}


@dataclass(frozen=True)
class DebriefMoment:
    """A debrief, by whom and when: where "the rep's debriefs before it" starts."""

    debrief_id: int
    person_id: int
    created_at: datetime


@dataclass(frozen=True)
class PastDebrief:
    """An earlier debrief as plain values: its columns by name, and per point the rating and note."""

    debrief_id: int
    fields: dict[str, Any]
    ratings: dict[str, str]
    notes: dict[str, str | None]


def _earlier_ids(person: Any, debrief: Any, before: Any, limit: Any) -> Any:
    """The ids of a person's `limit` debriefs before one, labelled with that one's id (for_id)."""
    d = _DEBRIEFS.c
    pick = (
        sa.select(debrief.label("for_id"), d.id.label("past_id"))
        .where(d.person_id == person, d.id != debrief,
               sa.or_(d.created_at < before, sa.and_(d.created_at == before, d.id < debrief)))
        .order_by(d.created_at.desc(), d.id.desc())
        .limit(limit)
        .subquery()
    )
    return sa.select(pick.c.for_id, pick.c.past_id)


def _past_rows(picks: Sequence[Any], columns: tuple[str, ...], notes: bool) -> Any:
    picked: Any = sa.union_all(*picks).subquery() if len(picks) > 1 else picks[0].subquery()
    d, a = _DEBRIEFS.c, _ANSWERS.c
    return (
        sa.select(picked.c.for_id, d.id, d.created_at, *(d[c] for c in columns), a.point, a.rating,
                  a.note if notes else sa.null())
        .join(_DEBRIEFS, d.id == picked.c.past_id)
        .outerjoin(_ANSWERS, a.debrief_id == d.id)
    )


@functools.cache
def _statement(count: int, columns: tuple[str, ...], notes: bool) -> Any:
    """The earlier debriefs of `count` debriefs at once: built once per count, its values bound per
    call (a batch's statement built afresh each time cost more CPU than running it)."""
    return _past_rows([_earlier_ids(
        sa.bindparam(f"person_{n}"), sa.bindparam(f"debrief_{n}", type_=sa.Integer),
        sa.bindparam(f"before_{n}", type_=_DEBRIEFS.c.created_at.type),
        sa.bindparam("limit", type_=sa.Integer),
    ) for n in range(count)], columns, notes)


_MOST_AT_ONCE = 128  # picks per statement: SQLite takes at most 500 in one compound SELECT


def _padded(count: int) -> int:
    """A batch's count rounded up to a power of two, so a handful of statements serve any batch."""
    return 1 << (count - 1).bit_length()


async def earlier_debriefs(
    *,
    session: AsyncSession,
    moments: Sequence[DebriefMoment],
    limit: int,
    columns: Sequence[str] = DEBRIEF_FIELDS,
    notes: bool = True,
) -> dict[int, list[PastDebrief]]:
    """For each debrief, the same person's `limit` debriefs before it (newest first) with their
    ratings, in one query for any number: each pick walks ix_debrief_person_created backwards and
    stops after `limit`, so the cost does not grow with the rep's history. Only the debrief
    `columns` asked for are read (and the notes when `notes`): the rest stays out of `fields`."""
    if not moments or limit <= 0:
        return {}
    wanted = tuple(c for c in columns if c in DEBRIEF_FIELDS and c not in ("id", "created_at"))
    rows: list[Any] = []
    padding = DebriefMoment(0, 0, datetime(2000, 1, 1, tzinfo=UTC))  # no person 0: picks nothing
    for start in range(0, len(moments), _MOST_AT_ONCE):
        chunk = moments[start:start + _MOST_AT_ONCE]
        count = _padded(len(chunk))
        bound: dict[str, Any] = {"limit": limit}
        for n, m in enumerate([*chunk, *[padding] * (count - len(chunk))]):
            bound |= {f"person_{n}": m.person_id, f"debrief_{n}": m.debrief_id, f"before_{n}": m.created_at}
        rows += (await session.execute(_statement(count, wanted, notes), bound)).all()
    found: dict[int, dict[int, tuple[tuple[datetime, int], PastDebrief]]] = {
        m.debrief_id: {} for m in moments}
    width = len(wanted)
    for for_id, past_id, created_at, *values in rows:
        entry = found[for_id].get(past_id)
        if entry is None:
            past = PastDebrief(past_id, dict(zip(wanted, values[:width], strict=True)), {}, {})
            entry = found[for_id][past_id] = ((created_at, past_id), past)
        point, rating, note = values[width:]
        if point is not None:
            entry[1].ratings[point] = rating
            entry[1].notes[point] = note
    return {for_id: [past for _, past in sorted(by_id.values(), key=lambda e: e[0], reverse=True)]
            for for_id, by_id in found.items()}
