"""The coaching side of the digest's data: deals, the team's evidence, patterns and action points.

`load_coaching_data` adds a fixed five statements to storage.digest_queries' batch, whatever the
number of reps: deal counts, the evidence per point, the reps' tracked action points, the patterns
before and since those points, and the open/done counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.action_points import ActionCounts, ActionPoint, action_point_counts
from storage.deals import DealCount, DealPointCount, deal_counts, deal_point_evidence
from storage.debrief_patterns import PatternCount, followed_action_points, tracked_pattern_counts
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
    pattern_window: timedelta,
) -> CoachingData:
    """Deals concluded in the months (and the two periods), the reps' `patterns` (already counted
    over the pattern window), and per rep their latest action point that is open or was finished
    since `period_start`, with the patterns in `pattern_window` before it and since."""
    deals = await deal_counts(
        session=session,
        team_ids=rep_ids,
        period_start=period_start,
        previous_start=previous_start,
        end=end,
        month_starts=month_starts,
    )
    evidence = await deal_point_evidence(session=session, team_ids=rep_ids, since=evidence_start, until=end)
    tracked_rows = await session.scalars(
        sa.select(ActionPoint)
        .where(followed_action_points(rep_ids, period_start))
        .order_by(col(ActionPoint.person_id), col(ActionPoint.created_at))
    )
    latest: dict[int, TrackedAction] = {}
    for row in tracked_rows:  # oldest first: the last one per rep stays
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
    earliest = min((a.created_at for a in latest.values()), default=end) - pattern_window
    tracked_patterns = await tracked_pattern_counts(
        session=session,
        rep_ids=rep_ids,
        finished_since=period_start,
        earliest=earliest,
        before=pattern_window,
        until=end,
    )
    counts = await action_point_counts(session=session, person_ids=rep_ids, since=period_start)
    return CoachingData(deals, evidence, patterns, list(latest.values()), tracked_patterns, counts)
