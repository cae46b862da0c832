"""A manager's action points for a rep: proposed from the digest, sent, shown to the rep, done.

A point belongs to the rep (deleted with them); the manager who set it is a reference that
`forget` clears. `pattern` names what the point targets in the rep's debriefs (e.g.
"agenda:customer_formal" or a checklist point), so the next digests can say how it moved.

A manager sets a rep one open point per text: the database holds that (a partial unique index
over the open points), so a form sent twice at once (a double click, two replicas, a retried
request) stores one point and both senders get it. Points whose manager was forgotten
(manager_id NULL) are outside the rule: NULLs never equal each other in a unique index, on either
engine, so forgetting managers never trips over it (two forgotten managers may have set the rep
the same text), and no one is left to send those points twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import Field, SQLModel, col

from storage.engine import session_insert
from storage.errors import CoachError
from storage.models import MERGES_DUPLICATES, Person, UTCDateTime, utcnow

TEXT_LIMIT = 500


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"  # the rep says it is done
    CLOSED = "closed"  # the manager closed it


# One open point per (rep, manager, text). The predicate is literal SQL, in the index and in the
# insert's ON CONFLICT target alike: PostgreSQL matches a partial index to ON CONFLICT by proving
# one predicate implies the other, which a bound parameter would defeat.
OPEN_POINT_KEY = ("person_id", "manager_id", "text")
OPEN_ONLY = sa.text(f"status = '{ActionStatus.OPEN}'")
OPEN_POINT_INDEX = "uq_actionpoint_open_point"
ASSIGN_ATTEMPTS = 3  # the open point an insert met was finished before it could be read: again


class ActionPoint(SQLModel, table=True):
    __table_args__ = (
        sa.Index(OPEN_POINT_INDEX, *OPEN_POINT_KEY, unique=True,
                 sqlite_where=OPEN_ONLY, postgresql_where=OPEN_ONLY),
        # forget_mentions: a point that cutting a name out makes equal to another open one goes
        {"info": {MERGES_DUPLICATES: True}},
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    manager_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL", nullable=True)
    text: str = Field(sa_type=sa.Text)
    pattern: str | None = Field(default=None, max_length=64)
    point: str | None = Field(default=None, max_length=32)
    example_debrief_id: int | None = Field(
        default=None, foreign_key="debrief.id", ondelete="SET NULL", nullable=True
    )
    status: str = Field(default=ActionStatus.OPEN, max_length=8)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class ActionCounts:
    open: int = 0
    done: int = 0


@dataclass(frozen=True)
class Assigned:
    point: ActionPoint
    created: bool  # False: the manager had already set the rep this open point (a form sent twice)


async def assign_action_point(
    *,
    session: AsyncSession,
    workspace_id: int,
    person_id: int,
    manager_id: int | None,
    text: str,
    pattern: str | None = None,
    point: str | None = None,
    example_debrief_id: int | None = None,
    now: datetime | None = None,
) -> Assigned:
    """Store a new open action point for the rep (inside the caller's transaction), or return the
    open point this manager already set the rep with exactly this text (created=False).

    One INSERT ... ON CONFLICT DO NOTHING on the open-point index: a concurrent twin's insert
    waits for the first to commit (PostgreSQL) or queues behind it (SQLite), then meets its row
    and reads it instead."""
    text = text[:TEXT_LIMIT]
    insert = (
        session_insert(session, ActionPoint)
        .values(
            workspace_id=workspace_id, person_id=person_id, manager_id=manager_id, text=text,
            pattern=pattern, point=point, example_debrief_id=example_debrief_id,
            status=ActionStatus.OPEN, created_at=now or utcnow(), done_at=None,
        )
        .on_conflict_do_nothing(index_elements=list(OPEN_POINT_KEY), index_where=OPEN_ONLY)
        .returning(ActionPoint)
    )
    for _ in range(ASSIGN_ATTEMPTS):
        row = await session.scalar(insert)
        if row is not None:
            return Assigned(row, created=True)
        existing = await _open_point(session, person_id=person_id, manager_id=manager_id, text=text)
        if existing is not None:
            return Assigned(existing, created=False)
    raise CoachError("the open action point keeps changing", person_id=person_id, manager_id=manager_id)


async def _open_point(
    session: AsyncSession, *, person_id: int, manager_id: int | None, text: str
) -> ActionPoint | None:
    return await session.scalar(
        sa.select(ActionPoint).where(
            col(ActionPoint.person_id) == person_id,
            col(ActionPoint.manager_id) == manager_id,
            col(ActionPoint.status) == ActionStatus.OPEN,
            col(ActionPoint.text) == text,
        )
    )


async def open_action_points(*, session: AsyncSession, person_id: int) -> list[ActionPoint]:
    """The rep's open action points, oldest first."""
    rows = await session.scalars(
        sa.select(ActionPoint)
        .where(col(ActionPoint.person_id) == person_id, col(ActionPoint.status) == ActionStatus.OPEN)
        .order_by(col(ActionPoint.created_at), col(ActionPoint.id))
    )
    return list(rows)


async def finish_action_point(
    *, session: AsyncSession, action_id: int, by_person_id: int, now: datetime | None = None
) -> ActionPoint | None:
    """Mark an open point done (by its rep) or closed (by its manager); None if neither may."""
    row = await session.get(ActionPoint, action_id)
    if row is None or row.status != ActionStatus.OPEN:
        return None
    if by_person_id == row.person_id:
        row.status = ActionStatus.DONE
    elif by_person_id == row.manager_id:
        row.status = ActionStatus.CLOSED
    else:
        return None
    row.done_at = now or utcnow()
    await session.flush()
    return row


async def action_point_counts(
    *, session: AsyncSession, person_ids: Sequence[int], since: datetime | None = None
) -> dict[int, ActionCounts]:
    """Per rep: open points, and points done (or closed) since `since` (ever, if None). One query."""
    if not person_ids:
        return {}
    done_filter = col(ActionPoint.status) != ActionStatus.OPEN
    if since is not None:
        done_filter = sa.and_(done_filter, col(ActionPoint.done_at) >= since)
    rows = await session.execute(
        sa.select(
            col(ActionPoint.person_id),
            sa.func.count().filter(col(ActionPoint.status) == ActionStatus.OPEN),
            sa.func.count().filter(done_filter),
        )
        .where(col(ActionPoint.person_id).in_(list(person_ids)))
        .group_by(col(ActionPoint.person_id))
    )
    return {int(pid): ActionCounts(int(o), int(d)) for pid, o, d in rows}


@dataclass(frozen=True)
class ActionView:
    """An action point with the names a message needs: whose it is and who set it."""

    point: ActionPoint
    rep_name: str
    rep_locale: str | None
    manager_name: str  # "" when the manager is gone (forgotten)


def _name(display_name: str | None, email: str | None) -> str:
    return display_name or email or ""


def _views() -> sa.Select[ActionPoint, str, str | None, str | None, str, str | None]:
    rep, manager = aliased(Person), aliased(Person)
    return (
        sa.select(
            ActionPoint,
            col(rep.display_name),
            col(rep.email),
            col(rep.locale),
            col(manager.display_name),
            col(manager.email),
        )
        .join(rep, col(rep.id) == col(ActionPoint.person_id))
        .outerjoin(manager, col(manager.id) == col(ActionPoint.manager_id))
    )


def _as_views(rows: Any) -> list[ActionView]:
    return [ActionView(p, _name(rn, re), loc, _name(mn, me)) for p, rn, re, loc, mn, me in rows]


async def action_view(*, session: AsyncSession, action_id: int) -> ActionView | None:
    rows = _as_views(await session.execute(_views().where(col(ActionPoint.id) == action_id)))
    return rows[0] if rows else None


async def open_points_of(
    *, session: AsyncSession, person_ids: Sequence[int]
) -> dict[int, list[ActionView]]:
    """Per rep, their open action points, oldest first: one query for any number of reps."""
    if not person_ids:
        return {}
    rows = await session.execute(
        _views()
        .where(col(ActionPoint.person_id).in_(list(person_ids)), col(ActionPoint.status) == ActionStatus.OPEN)
        .order_by(col(ActionPoint.created_at), col(ActionPoint.id))
    )
    out: dict[int, list[ActionView]] = {}
    for view in _as_views(rows):
        out.setdefault(view.point.person_id, []).append(view)
    return out


async def open_points_set_by(*, session: AsyncSession, manager_id: int) -> list[ActionView]:
    """The open points this manager set for their reps, oldest first."""
    rows = await session.execute(
        _views()
        .where(col(ActionPoint.manager_id) == manager_id, col(ActionPoint.status) == ActionStatus.OPEN)
        .order_by(col(ActionPoint.created_at), col(ActionPoint.id))
    )
    return _as_views(rows)
