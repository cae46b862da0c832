"""Concluded deals: the win rate per deal and which checklist points went well in won and lost deals.

A deal is an account's run of debriefs by one rep until an outcome concludes it: *won* (a debrief
with outcome closed) or *lost*. Conclusions come from `SOURCES`; today only the debriefs. A second
source (the CRM's won/lost read back) is one more `DealSource` in `SOURCES`: its rows are
conclusion events like a closing debrief's, so they end a run, count in the win rate and, when a
run of debriefs precedes them, in the evidence. A source must not repeat a conclusion another
source already has (the CRM source leaves out outcomes a debrief recorded for the same run).

Both queries are one statement whatever the number of reps: `deal_counts` groups conclusions
per rep, period and month; `deal_point_evidence` numbers each rep's events per account with a
window function (the run number = conclusions before the event) and aggregates the runs' answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Debrief, DebriefAnswer

WON, LOST = "won", "lost"
RUN_LOOKBACK = timedelta(days=90)  # a deal's debriefs are read at most this far before the window

TeamIds = sa.Select[int | None]


@dataclass(frozen=True)
class DealSource:
    """Conclusion events of one origin: rows (person_id, account_id, at, outcome won|lost,
    debrief_id or NULL) for reps in `team_ids` with `at` in [since, until)."""

    name: str
    conclusions: Callable[[TeamIds, datetime, datetime], sa.Select[*tuple[Any, ...]]]


def _debrief_outcome() -> sa.ColumnElement[str | None]:
    return sa.case(
        (col(Debrief.outcome) == "closed", sa.literal(WON)),
        (col(Debrief.outcome) == "lost", sa.literal(LOST)),
        else_=sa.null(),
    )


def debrief_conclusions(team_ids: TeamIds, since: datetime, until: datetime) -> sa.Select[*tuple[Any, ...]]:
    return sa.select(
        col(Debrief.person_id).label("person_id"),
        col(Debrief.account_id).label("account_id"),
        col(Debrief.created_at).label("at"),
        _debrief_outcome().label("outcome"),
        col(Debrief.id).label("debrief_id"),
    ).where(
        col(Debrief.person_id).in_(team_ids),
        col(Debrief.outcome).in_(("closed", "lost")),
        col(Debrief.created_at) >= since,
        col(Debrief.created_at) < until,
    )


DEBRIEFS = DealSource("debrief", debrief_conclusions)
SOURCES: tuple[DealSource, ...] = (DEBRIEFS,)  # the CRM read-back joins here


@dataclass(frozen=True)
class DealCount:
    person_id: int
    bucket: int  # 0 the current period, 1 the previous one, 2 earlier
    month: int  # index into the `month_starts` asked for; -1 before the first
    won: int
    lost: int


@dataclass(frozen=True)
class DealPointCount:
    """Deals of one rep concluded in the evidence window, by point, outcome and how the point went."""

    person_id: int
    point: str
    won: bool
    well: bool  # the point's mean score over the deal's debriefs is above ½ (yes = 1, partly = ½)
    deals: int


async def deal_counts(
    *,
    session: AsyncSession,
    team_ids: TeamIds,
    period_start: datetime,
    previous_start: datetime,
    end: datetime,
    month_starts: Sequence[datetime],
) -> list[DealCount]:
    """Won and lost deals per rep, period bucket and month, concluded in [earliest start, end)."""
    since = min(previous_start, *month_starts) if month_starts else previous_start
    events = sa.union_all(*(s.conclusions(team_ids, since, end) for s in SOURCES)).subquery("conclusion")
    at = events.c.at
    bucket = sa.case((at >= period_start, 0), (at >= previous_start, 1), else_=2).label("bucket")
    month = (
        sa.case(*((at >= start, i) for i, start in reversed(list(enumerate(month_starts)))), else_=-1).label(
            "month"
        )
        if month_starts
        else sa.literal(-1).label("month")
    )
    rows = await session.execute(
        sa.select(
            events.c.person_id,
            bucket,
            month,
            sa.func.sum(sa.case((events.c.outcome == WON, 1), else_=0)),
            sa.func.sum(sa.case((events.c.outcome == LOST, 1), else_=0)),
        ).group_by(events.c.person_id, bucket, month)
    )
    return [DealCount(int(r[0]), int(r[1]), int(r[2]), int(r[3] or 0), int(r[4] or 0)) for r in rows]


async def deal_point_evidence(
    *, session: AsyncSession, team_ids: TeamIds, since: datetime, until: datetime
) -> list[DealPointCount]:
    """Per rep and checklist point: deals concluded in [since, until), won or lost, point well or not."""
    lo = since - RUN_LOOKBACK
    meetings: sa.Select[*tuple[Any, ...]] = sa.select(
        col(Debrief.person_id).label("person_id"),
        col(Debrief.account_id).label("account_id"),
        col(Debrief.created_at).label("at"),
        _debrief_outcome().label("outcome"),
        col(Debrief.id).label("debrief_id"),
    ).where(
        col(Debrief.person_id).in_(team_ids), col(Debrief.created_at) >= lo, col(Debrief.created_at) < until
    )
    others = [s.conclusions(team_ids, lo, until) for s in SOURCES if s is not DEBRIEFS]
    events = sa.union_all(meetings, *others).subquery("event")
    run = sa.func.sum(sa.case((events.c.outcome.is_not(None), 1), else_=0)).over(
        partition_by=(events.c.person_id, events.c.account_id),
        order_by=(events.c.at, events.c.debrief_id),
        rows=(None, -1),
    )
    numbered = sa.select(
        events.c.person_id,
        events.c.account_id,
        events.c.outcome,
        events.c.at,
        events.c.debrief_id,
        sa.func.coalesce(run, 0).label("run"),
    ).cte("numbered")
    deal_keys = (numbered.c.person_id, numbered.c.account_id, numbered.c.run)
    deals = (
        sa.select(*deal_keys, sa.func.max(numbered.c.outcome).label("outcome"))
        .group_by(*deal_keys)
        .having(sa.func.max(sa.case((numbered.c.outcome.is_not(None), numbered.c.at))) >= since)
        .subquery("deal")
    )
    score2 = sa.func.sum(
        sa.case((col(DebriefAnswer.rating) == "yes", 2), (col(DebriefAnswer.rating) == "partly", 1), else_=0)
    )
    points = (
        sa.select(
            *deal_keys,
            col(DebriefAnswer.point).label("point"),
            score2.label("score2"),
            sa.func.count().label("n"),
        )
        .join(DebriefAnswer, col(DebriefAnswer.debrief_id) == numbered.c.debrief_id)
        .where(col(DebriefAnswer.rating).in_(("yes", "partly", "no")))
        .group_by(*deal_keys, col(DebriefAnswer.point))
        .subquery("deal_point")
    )
    well = sa.case((points.c.score2 > points.c.n, 1), else_=0).label("well")
    won = sa.case((deals.c.outcome == WON, 1), else_=0).label("won")
    rows = await session.execute(
        sa.select(deals.c.person_id, points.c.point, won, well, sa.func.count())
        .join(
            points,
            sa.and_(
                points.c.person_id == deals.c.person_id,
                points.c.account_id == deals.c.account_id,
                points.c.run == deals.c.run,
            ),
        )
        .group_by(deals.c.person_id, points.c.point, won, well)
    )
    return [DealPointCount(int(r[0]), str(r[1]), bool(r[2]), bool(r[3]), int(r[4])) for r in rows]
