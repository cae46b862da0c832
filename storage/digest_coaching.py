"""The coaching side of the digest's data: deals, the team's evidence, patterns and action points.

`followed_actions` and `load_coaching_data` add a fixed four statements to storage.digest_queries'
batch, whatever the number of reps: the reps' followed action points, deal counts, the evidence
per point, and the action points' open/done counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.action_points import ActionCounts, ActionPoint, action_point_counts
from storage.deals import DealCount, DealPointCount, deal_counts, deal_point_evidence
from storage.debrief_patterns import PatternCount, followed_action_points
from storage.models import not_null


@dataclass(frozen=True)
class TrackedAction:
    """A rep's action point the digest follows: open, or finished since the period began."""

    id: int
    person_id: int
    manager_id: int | None
    text: str
    pattern: str | None
    point: str | None
    status: str
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class CoachingData:
    deals: list[DealCount]
    evidence: list[DealPointCount]
    patterns: list[PatternCount]
    tracked: list[TrackedAction]
    tracked_patterns: list[PatternCount]
    action_counts: dict[int, ActionCounts]


async def followed_actions(
    *, session: AsyncSession, rep_ids: Sequence[int], finished_since: datetime
) -> dict[int, TrackedAction]:
    """Per rep their latest action point that is open or was finished since `finished_since`."""
    rows = await session.scalars(
        sa.select(ActionPoint)
        .where(followed_action_points(rep_ids, finished_since))
        .order_by(col(ActionPoint.person_id), col(ActionPoint.created_at), col(ActionPoint.id))
    )
    latest: dict[int, TrackedAction] = {}
    for row in rows:  # oldest first: the last one per rep stays
        latest[row.person_id] = TrackedAction(
            not_null(row.id),
            row.person_id,
            row.manager_id,
            row.text,
            row.pattern,
            row.point,
            row.status,
            row.created_at,
            row.done_at,
        )
    return latest


async def load_coaching_data(
    *,
    session: AsyncSession,
    rep_ids: Sequence[int],
    period_start: datetime,
    previous_start: datetime,
    end: datetime,
    month_starts: Sequence[datetime],
    evidence_start: datetime,
    patterns: list[PatternCount],
    tracked: dict[int, TrackedAction],
    tracked_patterns: list[PatternCount],
) -> CoachingData:
    """Deals concluded in the months (and the two periods), the team's evidence, and the open and
    done counts of the action points; `patterns`, `tracked` and `tracked_patterns` come counted."""
    deals = await deal_counts(
        session=session,
        team_ids=rep_ids,
        period_start=period_start,
        previous_start=previous_start,
        end=end,
        month_starts=month_starts,
    )
    evidence = await deal_point_evidence(session=session, team_ids=rep_ids, since=evidence_start, until=end)
    counts = await action_point_counts(session=session, person_ids=rep_ids, since=period_start)
    return CoachingData(deals, evidence, patterns, list(tracked.values()), tracked_patterns, counts)
