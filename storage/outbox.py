"""Outbox repository: enqueue scheduled messages once (unique dedup key), claim due rows with a
lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and record what became of each row.

Every state change after a claim is fenced on `claimed_by`, so a replica whose lease ran out and
whose rows another replica re-claimed cannot overwrite the other's outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.engine import dialect_insert
from storage.models import Outbox, OutboxStatus, Person, Workspace, table_of, utcnow

if TYPE_CHECKING:
    from sqlalchemy.sql.dml import ReturningUpdate

OPEN = (OutboxStatus.PENDING, OutboxStatus.CLAIMED)
REPLY = "reply"  # a channel's answer sent after its acknowledgement (dialogs/answers.py)
# Kinds whose payload is the message itself, not a reference to rows that say it: emptied once the
# row is finished (sent, failed, cancelled, expired), so nothing said to a person outlives its
# delivery here, where neither `forget` (beyond names) nor retention would find it.
MESSAGE_KINDS = frozenset({REPLY})
_EMPTIED = sa.case(
    (col(Outbox.kind).in_(sorted(MESSAGE_KINDS)), sa.literal({}, sa.JSON)), else_=col(Outbox.payload)
)


@dataclass(frozen=True)
class Item:
    """A claimed outbox row, detached from the session that claimed it."""

    id: int
    dedup_key: str
    kind: str
    person_id: int
    payload: dict[str, Any]
    due_at: datetime
    expires_at: datetime | None
    attempts: int


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


@dataclass(frozen=True)
class Planned:
    """One message to add to the outbox (see `enqueue`)."""

    dedup_key: str
    kind: str
    person_id: int
    due_at: datetime
    payload: dict[str, Any] | None = None
    expires_at: datetime | None = None


async def enqueue(
    *,
    session: AsyncSession,
    dedup_key: str,
    kind: str,
    person_id: int,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Add a row once. A repeat key moves a still-pending row (reschedule) and touches nothing else:
    a row already sent, cancelled by the rep ("not this meeting") or failed stays as it is."""
    await enqueue_many(
        session=session,
        rows=[Planned(dedup_key, kind, person_id, due_at, payload=payload, expires_at=expires_at)],
    )


async def enqueue_many(*, session: AsyncSession, rows: Sequence[Planned]) -> None:
    """`enqueue` for several rows in one round trip (one executemany)."""
    if not rows:
        return
    conn = await session.connection()
    created_at = utcnow()
    await conn.execute(
        _enqueue_statement(conn.dialect.name),
        [
            {
                "dedup_key": row.dedup_key,
                "kind": row.kind,
                "person_id": row.person_id,
                "payload": row.payload or {},
                "due_at": row.due_at,
                "expires_at": row.expires_at,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "created_at": created_at,
            }
            for row in rows
        ],
    )


_ENQUEUE: dict[str, Any] = {}


def _enqueue_statement(dialect: str) -> Any:
    """The upsert, built once per dialect (building it, `excluded` above all, cost more than
    running it); the row's values arrive as parameters."""
    if dialect not in _ENQUEUE:
        table = table_of(Outbox)
        stmt = dialect_insert(dialect, table)
        _ENQUEUE[dialect] = stmt.on_conflict_do_update(
            index_elements=["dedup_key"],
            set_={
                "due_at": stmt.excluded.due_at,
                "expires_at": stmt.excluded.expires_at,
                "payload": stmt.excluded.payload,
            },
            where=table.c.status == OutboxStatus.PENDING,
        )
    return _ENQUEUE[dialect]


async def cancel_prefix(
    *, session: AsyncSession, prefix: str, keep: Sequence[str] = (), reason: str = ""
) -> int:
    """Cancel the pending rows whose dedup key starts with `prefix` (one meeting's messages),
    except rows whose key starts with one of `keep` (a planned row and its snoozes)."""
    stmt = sa.update(Outbox).where(
        col(Outbox.status) == OutboxStatus.PENDING, col(Outbox.dedup_key).startswith(prefix, autoescape=True)
    )
    for kept in keep:
        stmt = stmt.where(sa.not_(col(Outbox.dedup_key).startswith(kept, autoescape=True)))
    result = await session.execute(stmt.values(status=OutboxStatus.CANCELLED, last_error=reason or None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release_expired_leases(*, session: AsyncSession, now: datetime, limit: int = 1000) -> int:
    """Put rows whose claim lease ran out (their replica died) back to pending."""
    inner = (
        sa.select(col(Outbox.id))
        .where(col(Outbox.status) == OutboxStatus.CLAIMED, col(Outbox.lease_until) < now)
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        inner = inner.with_for_update(skip_locked=True)
    result = await session.execute(
        sa.update(Outbox)
        .where(col(Outbox.id).in_(inner.scalar_subquery()))
        .values(status=OutboxStatus.PENDING, lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_statement(
    *, dialect: str, worker: str, now: datetime, lease: timedelta, limit: int
) -> ReturningUpdate[int | None, str, str, int, dict[str, Any], datetime, datetime | None, int]:
    """The one-statement claim: the oldest due pending rows, skipping rows another replica holds."""
    inner = (
        sa.select(col(Outbox.id))
        .where(col(Outbox.status) == OutboxStatus.PENDING, col(Outbox.due_at) <= now)
        .order_by(col(Outbox.due_at))
        .limit(limit)
    )
    if dialect == "postgresql":
        inner = inner.with_for_update(skip_locked=True)
    return (
        sa.update(Outbox)
        .where(col(Outbox.id).in_(inner.scalar_subquery()))
        .values(
            status=OutboxStatus.CLAIMED,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=col(Outbox.attempts) + 1,
        )
        .returning(
            col(Outbox.id),
            col(Outbox.dedup_key),
            col(Outbox.kind),
            col(Outbox.person_id),
            col(Outbox.payload),
            col(Outbox.due_at),
            col(Outbox.expires_at),
            col(Outbox.attempts),
        )
        .execution_options(synchronize_session=False)
    )


async def claim(
    *, session: AsyncSession, worker: str, now: datetime, lease: timedelta, limit: int = 100
) -> list[Item]:
    """Claim up to `limit` due rows for `worker` until now + lease. Commit right after."""
    stmt = claim_statement(dialect=_dialect(session), worker=worker, now=now, lease=lease, limit=limit)
    rows = (await session.execute(stmt)).all()
    items = [
        Item(
            r.id, r.dedup_key, r.kind, r.person_id, dict(r.payload or {}), r.due_at, r.expires_at, r.attempts
        )
        for r in rows
    ]
    items.sort(key=lambda i: (i.due_at, i.id))
    return items


async def _finish(session: AsyncSession, ids: Sequence[int], worker: str, **values: Any) -> int:
    if not ids:
        return 0
    result = await session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.id).in_(list(ids)),
            col(Outbox.claimed_by) == worker,
            col(Outbox.status) == OutboxStatus.CLAIMED,
        )
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _finish_for_good(session: AsyncSession, ids: Sequence[int], worker: str, **values: Any) -> int:
    return await _finish(session, ids, worker, payload=_EMPTIED, **values)


async def mark_sent(*, session: AsyncSession, ids: Sequence[int], worker: str, now: datetime) -> int:
    return await _finish_for_good(
        session, ids, worker, status=OutboxStatus.SENT, sent_at=now, last_error=None
    )


async def mark_retry(
    *, session: AsyncSession, item_id: int, worker: str, due_at: datetime, error: str
) -> int:
    return await _finish(
        session,
        [item_id],
        worker,
        status=OutboxStatus.PENDING,
        due_at=due_at,
        claimed_by=None,
        last_error=error[:2000],
    )


async def mark_final(
    *, session: AsyncSession, item_id: int, worker: str, status: str, error: str | None = None
) -> int:
    """failed / expired / cancelled, with the reason kept for operators."""
    return await _finish_for_good(
        session, [item_id], worker, status=status, last_error=error[:2000] if error else None
    )


@dataclass(frozen=True)
class Recipient:
    person: Person
    platform: str


async def recipients(*, session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Recipient]:
    """The people of a batch with their platform, in one query."""
    if not person_ids:
        return {}
    rows = await session.execute(
        sa.select(Person, col(Workspace.platform))
        .join(Workspace, col(Workspace.id) == col(Person.workspace_id))
        .where(col(Person.id).in_(set(person_ids)))
    )
    return {p.id: Recipient(p, str(platform)) for p, platform in rows.all() if p.id is not None}


async def existing_keys(*, session: AsyncSession, dedup_keys: Sequence[str]) -> set[str]:
    """Those of these dedup keys that already have a row (in any state), in one query."""
    if not dedup_keys:
        return set()
    return set(
        await session.scalars(sa.select(col(Outbox.dedup_key)).where(col(Outbox.dedup_key).in_(dedup_keys)))
    )


async def rows_by_key(*, session: AsyncSession, dedup_keys: Sequence[str]) -> dict[str, Outbox]:
    """The rows with these dedup keys (in any state), by key, in one query."""
    if not dedup_keys:
        return {}
    rows = await session.scalars(sa.select(Outbox).where(col(Outbox.dedup_key).in_(dedup_keys)))
    return {row.dedup_key: row for row in rows.all()}


async def list_rows(*, session: AsyncSession, limit: int = 200) -> list[Outbox]:
    """Pending and claimed rows (soonest first), then the most recent finished ones."""
    open_rows = (
        await session.scalars(
            sa.select(Outbox).where(col(Outbox.status).in_(OPEN)).order_by(col(Outbox.due_at)).limit(limit)
        )
    ).all()
    recent = (
        await session.scalars(
            sa.select(Outbox)
            .where(col(Outbox.status).not_in(OPEN))
            .order_by(col(Outbox.created_at).desc(), col(Outbox.id).desc())
            .limit(limit)
        )
    ).all()
    return [*open_rows, *recent]


def row_json(row: Outbox) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat().replace("+00:00", "Z") if moment else None

    return {
        "id": row.id,
        "kind": row.kind,
        "person_id": row.person_id,
        "dedup_key": row.dedup_key,
        "due_at": iso(row.due_at),
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "sent_at": iso(row.sent_at),
    }
