"""A manager's action points for a rep: proposed from the digest, sent, shown to the rep, done.

A point belongs to the rep (deleted with them); the manager who set it is a reference that
`forget` clears. `pattern` names what the point targets in the rep's debriefs (e.g.
"agenda:customer_formal" or a checklist point), so the next digests can say how it moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.models import UTCDateTime, utcnow

TEXT_LIMIT = 500


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"  # the rep says it is done
    CLOSED = "closed"  # the manager closed it


class ActionPoint(SQLModel, table=True):
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
) -> ActionPoint:
    """Store a new open action point for the rep (inside the caller's transaction)."""
    row = ActionPoint(
        workspace_id=workspace_id, person_id=person_id, manager_id=manager_id,
        text=text[:TEXT_LIMIT], pattern=pattern, point=point, example_debrief_id=example_debrief_id,
        created_at=now or utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


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
