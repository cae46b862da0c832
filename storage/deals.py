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
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.crm_outcomes import crm_conclusions
from storage.models import Debrief
from storage.rated_debriefs import (
    CHECKLIST_POINTS,
    SCORED_RATINGS,
    Ids,
    Moment,
    moment,
    rating_is,
    ratings_code,
    rep_ids,
    score2,
)

WON, LOST = "won", "lost"
RUN_LOOKBACK = timedelta(days=30)  # a deal's debriefs are read at most this far before the window

TeamIds = Sequence[int]  # the reps' person ids


@dataclass(frozen=True)
class DealSource:
    """Conclusion events of one origin: rows (person_id, account_id, at, outcome won|lost,
    debrief_id or NULL) for reps in `team_ids` with `at` in [since, until). The arguments are
    usually bind parameters (the digest builds its statements once): use them in SQL only, as
    `debrief_conclusions` does (e.g. crm_deal_outcome's person_id, account_id, closed_at, outcome)."""

    name: str
    conclusions: Callable[[Ids, Moment, Moment], sa.Select[*tuple[Any, ...]]]


def _debrief_outcome() -> sa.ColumnElement[str | None]:
    return sa.case(
        (col(Debrief.outcome) == "closed", sa.literal(WON)),
        (col(Debrief.outcome) == "lost", sa.literal(LOST)),
        else_=sa.null(),
    )


def _in(reps: Ids) -> sa.ColumnElement[bool]:
    return col(Debrief.person_id).in_(reps if isinstance(reps, sa.BindParameter) else list(reps))


def _debrief_rows(team_ids: Ids, since: Moment, until: Moment) -> sa.Select[*tuple[Any, ...]]:
    """The team's debriefs in [since, until) as deal rows: who, which account, when, how it ended."""
    return sa.select(
        col(Debrief.person_id).label("person_id"),
        col(Debrief.account_id).label("account_id"),
        col(Debrief.created_at).label("at"),
        _debrief_outcome().label("outcome"),
        col(Debrief.id).label("debrief_id"),
    ).where(
        _in(team_ids),
        col(Debrief.created_at) >= since,
        col(Debrief.created_at) < until,
    )


def debrief_conclusions(team_ids: Ids, since: Moment, until: Moment) -> sa.Select[*tuple[Any, ...]]:
    return _debrief_rows(team_ids, since, until).where(col(Debrief.outcome).in_(("closed", "lost")))


DEBRIEFS = DealSource("debrief", debrief_conclusions)
CRM = DealSource("crm", crm_conclusions)  # won / lost read back from the CRM (storage.crm)
SOURCES: tuple[DealSource, ...] = (DEBRIEFS, CRM)


@dataclass(frozen=True)
class DealCount:
    person_id: int
    bucket: int  # 0 the current period, 1 the previous one, 2 earlier
    month: int  # index into the `month_starts` asked for; -1 before the first
    won: int
    lost: int


@dataclass(frozen=True)
class DealPointCount:
    """Deals of one rep concluded in the evidence window, won or lost, and per point how many of
    them it went well in (its mean score over the deal's debriefs above ½, yes = 1, partly = ½)
    and how many not; a point never rated in a deal counts in neither."""

    person_id: int
    won: bool
    well: dict[str, int]
    weak: dict[str, int]


@lru_cache(maxsize=8)
def _deal_counts_statement(months: int) -> sa.Select[*tuple[Any, ...]]:
    events = sa.union_all(*(s.conclusions(rep_ids(), moment("since"), moment("end")) for s in SOURCES))
    c = events.subquery("conclusion").c
    bucket = sa.case((c.at >= moment("period_start"), 0), (c.at >= moment("previous_start"), 1), else_=2)
    whens = [(c.at >= moment(f"month_{i}"), i) for i in reversed(range(months))]
    month = (sa.case(*whens, else_=-1) if months else sa.literal(-1)).label("month")
    return sa.select(
        c.person_id,
        bucket.label("bucket"),
        month,
        sa.func.sum(sa.case((c.outcome == WON, 1), else_=0)),
        sa.func.sum(sa.case((c.outcome == LOST, 1), else_=0)),
    ).group_by(c.person_id, bucket.label("bucket"), month)


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
    params: dict[str, Any] = {
        "rep_ids": list(team_ids),
        "since": since,
        "end": end,
        "period_start": period_start,
        "previous_start": previous_start,
        **{f"month_{i}": start for i, start in enumerate(month_starts)},
    }
    rows = await session.execute(_deal_counts_statement(len(month_starts)), params)
    return [DealCount(int(r[0]), int(r[1]), int(r[2]), int(r[3] or 0), int(r[4] or 0)) for r in rows]


def _meetings(team_ids: Ids, lo: Moment, until: Moment) -> sa.Select[*tuple[Any, ...]]:
    return _debrief_rows(team_ids, lo, until)


@lru_cache(maxsize=1)
def _evidence_statement() -> sa.Select[*tuple[Any, ...]]:
    """Per rep and outcome of the deals concluded in [since, until): per point, in how many the
    point went well and in how many not.

    First the runs, from the events alone of the accounts with a conclusion in the window (a
    window function numbers each rep's events per account: the run = the conclusions before it);
    then the ratings, by index, of only the debriefs in runs concluded in the window; summed per
    run, one row per rep and outcome.
    """
    team_ids, since, until, lo = rep_ids(), moment("since"), moment("until"), moment("lo")
    # only the accounts with a deal concluded in the window have runs worth numbering
    concluding = sa.union_all(*(s.conclusions(team_ids, since, until) for s in SOURCES)).subquery(
        "concluding"
    )
    pairs = sa.select(concluding.c.person_id, concluding.c.account_id).distinct().subquery("pair")
    others = [s.conclusions(team_ids, lo, until) for s in SOURCES if s is not DEBRIEFS]
    every = sa.union_all(_meetings(team_ids, lo, until), *others).subquery("every_event")
    events = (
        sa.select(every)
        .join(
            pairs, sa.and_(pairs.c.person_id == every.c.person_id, pairs.c.account_id == every.c.account_id)
        )
        .subquery("event")
    )
    run = sa.func.sum(sa.case((events.c.outcome.is_not(None), 1), else_=0)).over(
        partition_by=(events.c.person_id, events.c.account_id),
        order_by=(events.c.at, events.c.debrief_id),
        rows=(None, -1),
    )
    numbered = sa.select(events, sa.func.coalesce(run, 0).label("run")).cte("numbered")
    n = numbered.c
    keys = (n.person_id, n.account_id, n.run)
    concluded = (
        sa.select(*keys, sa.func.max(n.outcome).label("outcome"))
        .group_by(*keys)
        .having(sa.func.max(sa.case((n.outcome.is_not(None), n.at))) >= since)
        .subquery("concluded")
    )
    k = concluded.c
    rated = (
        sa.select(k.person_id, k.account_id, k.run, k.outcome, ratings_code(n.debrief_id).label("code"))
        .join(numbered, sa.and_(n.person_id == k.person_id, n.account_id == k.account_id, n.run == k.run))
        .where(n.debrief_id.is_not(None))
        .offset(0)  # read each debrief's ratings once (see storage.rated_debriefs)
        .subquery("rated")
    )
    r = rated.c
    sums: list[sa.ColumnElement[Any]] = []
    for p in CHECKLIST_POINTS:
        sums.append(sa.func.sum(score2(r.code, p)).label(f"s_{p}"))
        sums.append(sa.func.sum(sa.case((rating_is(r.code, p, *SCORED_RATINGS), 1), else_=0)).label(f"n_{p}"))
    deals = (
        sa.select(r.person_id, r.outcome, *sums)
        .group_by(r.person_id, r.account_id, r.run, r.outcome)
        .subquery("deal")
    )
    d = deals.c
    counts: list[sa.ColumnElement[Any]] = []
    for p in CHECKLIST_POINTS:
        s_p, n_p = d[f"s_{p}"], d[f"n_{p}"]
        # well: the point's mean score over the deal's debriefs above ½, i.e. score sum > ratings
        counts.append(sa.func.sum(sa.case((sa.and_(n_p > 0, s_p > n_p), 1), else_=0)))
        counts.append(sa.func.sum(sa.case((sa.and_(n_p > 0, s_p <= n_p), 1), else_=0)))
    won = sa.case((d.outcome == WON, 1), else_=0).label("won")
    return sa.select(d.person_id, won, *counts).group_by(d.person_id, won)


async def deal_point_evidence(
    *, session: AsyncSession, team_ids: TeamIds, since: datetime, until: datetime
) -> list[DealPointCount]:
    """Per rep and checklist point: deals concluded in [since, until), won or lost, point well or
    not (their debriefs read as far as RUN_LOOKBACK before `since`)."""
    params = {"rep_ids": list(team_ids), "since": since, "until": until, "lo": since - RUN_LOOKBACK}
    rows = await session.execute(_evidence_statement(), params)
    return [
        DealPointCount(
            int(row[0]),
            bool(row[1]),
            {p: int(row[2 + 2 * i] or 0) for i, p in enumerate(CHECKLIST_POINTS)},
            {p: int(row[3 + 2 * i] or 0) for i, p in enumerate(CHECKLIST_POINTS)},
        )
        for row in rows
    ]
