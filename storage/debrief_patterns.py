"""What keeps happening in a rep's meetings: counts of debrief patterns, for the digest's action points.

A pattern is a condition on one debrief (its point-specific fields and its rating of the point),
named `<what>:<detail>` (stored as ActionPoint.pattern). `weekly_pattern_counts` counts, per rep
and period, the debriefs, their ratings per point and how many match each pattern, with the last
filed matching debrief of the period (the highest id) as the example, split by how each debrief
stands to the rep's followed action point (before it, since it). The digest's checklist profile,
the action points' patterns (the example from the most recent period that has one) and how the
followed point moved all come from this one GROUP BY over storage.rated_debriefs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import col

from storage.action_points import ActionPoint, ActionStatus
from storage.models import Account, Debrief, UTCDateTime, not_null
from storage.rated_debriefs import (
    CHECKLIST_POINTS,
    SCORED_RATINGS,
    Ids,
    Moment,
    moment,
    rated_debriefs,
    rating_is,
    rep_ids,
)

WEAK_RATINGS = ("partly", "no")


class _Earlier(ColumnElement[datetime]):
    """`moment - delta` for a stored UTC moment, on PostgreSQL and SQLite alike."""

    inherit_cache = True
    type = UTCDateTime()
    _traverse_internals = [
        ("moment", InternalTraversal.dp_clauseelement),
        ("seconds", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, moment: sa.ColumnElement[datetime], delta: timedelta) -> None:
        self.moment = moment
        self.seconds = int(delta.total_seconds())


@compiles(_Earlier, "postgresql")
def _earlier_pg(element: _Earlier, compiler: SQLCompiler, **kw: object) -> str:
    return f"({compiler.process(element.moment, **kw)} - interval '{element.seconds} seconds')"


@compiles(_Earlier)
def _earlier_sqlite(element: _Earlier, compiler: SQLCompiler, **kw: object) -> str:
    # SQLite keeps the naive UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]'; datetime() keeps that order
    return f"datetime({compiler.process(element.moment, **kw)}, '-{element.seconds} seconds')"


def _filled(column: sa.ColumnElement[str | None]) -> sa.ColumnElement[bool]:
    return sa.and_(column.is_not(None), column != "")


Condition = Callable[[sa.ColumnCollection[str, Any]], sa.ColumnElement[bool]]


def _weak(point: str) -> Condition:
    return lambda r: rating_is(r.code, point, *WEAK_RATINGS)


# pattern name -> (checklist point, condition on a storage.rated_debriefs row). Concrete patterns
# first: on equal counts the digest proposes the more concrete one.
PATTERNS: dict[str, tuple[str, Condition]] = {
    "agenda:customer_formal": ("opening", lambda r: r.agenda_set_by == "customer_formal"),
    "agenda:nobody": ("opening", lambda r: r.agenda_set_by == "nobody"),
    "situation:supplier_not_asked": ("situation", lambda r: r.supplier_check == "not_asked"),
    "concessions:nothing_back": (
        "concessions",
        lambda r: sa.and_(_filled(r.concessions_given), sa.not_(_filled(r.concessions_got))),
    ),
    "next_step:no_date": (
        "next_step",
        lambda r: sa.and_(
            r.outcome.in_(("next_step", "postponed")), r.next_step_due.is_(None), r.next_meeting_at.is_(None)
        ),
    ),
    **{f"rating:{p}": (p, _weak(p)) for p in CHECKLIST_POINTS},
}

PATTERN_POINTS: dict[str, str] = {name: point for name, (point, _) in PATTERNS.items()}


@dataclass(frozen=True)
class PatternCount:
    person_id: int
    bucket: int  # the period (0 the current one, 1 the one before, ...); -1 summed over periods
    tracked: int  # -1 not followed, 0 before the rep's followed action point, 1 since it was set
    meetings: int
    ratings: dict[str, tuple[int, int, int]]  # point -> (yes, partly, no)
    counts: dict[str, int] = field(default_factory=dict)  # pattern -> matching debriefs
    examples: dict[str, int] = field(default_factory=dict)  # pattern -> last filed matching debrief id

    def plus(self, other: PatternCount) -> PatternCount:
        """Both counts together (two periods of one rep, `self` the more recent): the example of
        each pattern stays the more recent period's, when it has one."""
        ratings: dict[str, tuple[int, int, int]] = {}
        for p in CHECKLIST_POINTS:
            (y1, p1, n1), (y2, p2, n2) = self.ratings.get(p, (0, 0, 0)), other.ratings.get(p, (0, 0, 0))
            ratings[p] = (y1 + y2, p1 + p2, n1 + n2)
        counts = {k: self.counts.get(k, 0) + other.counts.get(k, 0) for k in PATTERNS}
        examples = {**other.examples, **self.examples}
        return PatternCount(
            self.person_id,
            self.bucket,
            self.tracked,
            self.meetings + other.meetings,
            ratings,
            counts,
            examples,
        )


@dataclass(frozen=True)
class ExampleMeeting:
    debrief_id: int
    account: str
    created_at: datetime


def _columns(r: sa.ColumnCollection[str, Any]) -> list[sa.ColumnElement[Any]]:
    out: list[sa.ColumnElement[Any]] = [sa.func.count()]
    for point in CHECKLIST_POINTS:
        for rating in SCORED_RATINGS:
            out.append(sa.func.sum(sa.case((rating_is(r.code, point, rating), 1), else_=0)))
    for _, condition in PATTERNS.values():
        out.append(sa.func.sum(sa.case((condition(r), 1), else_=0)))
        out.append(sa.func.max(sa.case((condition(r), r.id))))
    return out


def _rows(rows: Iterable[Sequence[Any]]) -> list[PatternCount]:
    out = []
    points = CHECKLIST_POINTS
    for row in rows:
        values: list[Any] = list(row)
        person, bucket, tracked, meetings = int(values[0]), int(values[1]), int(values[2]), int(values[3])
        ratings: dict[str, tuple[int, int, int]] = {
            p: (int(values[4 + 3 * i] or 0), int(values[5 + 3 * i] or 0), int(values[6 + 3 * i] or 0))
            for i, p in enumerate(points)
        }
        rest = values[4 + 3 * len(points) :]
        counts: dict[str, int] = {}
        examples: dict[str, int] = {}
        for i, name in enumerate(PATTERNS):
            counts[name] = int(rest[2 * i] or 0)
            if rest[2 * i + 1] is not None:
                examples[name] = int(rest[2 * i + 1])
        out.append(PatternCount(person, bucket, tracked, meetings, ratings, counts, examples))
    return out


def followed_action_points(reps: Ids, finished_since: Moment) -> sa.ColumnElement[bool]:
    """The action points a digest follows: open, or done or closed since `finished_since`."""
    return sa.and_(
        col(ActionPoint.person_id).in_(reps if isinstance(reps, sa.BindParameter) else list(reps)),
        sa.or_(col(ActionPoint.status) == ActionStatus.OPEN, col(ActionPoint.done_at) >= finished_since),
    )


@lru_cache(maxsize=8)
def _weekly_statement(buckets: int, before: timedelta) -> sa.Select[*tuple[Any, ...]]:
    since_by_rep = (
        sa.select(
            col(ActionPoint.person_id).label("person_id"),
            sa.func.max(col(ActionPoint.created_at)).label("since"),
        )
        .where(followed_action_points(rep_ids(), moment("finished_since")))
        .group_by(col(ActionPoint.person_id))
        .subquery("followed")
    )
    rated = rated_debriefs(rep_ids(), moment("read_from"), moment("until"))
    r, since = rated.c, since_by_rep.c.since
    whens = [(r.created_at >= moment(f"bucket_{i}"), i) for i in range(buckets)]
    bucket = sa.case(*whens, else_=buckets).label("bucket")
    tracked = sa.case(
        (since.is_(None), -1),
        (r.created_at >= since, 1),
        (r.created_at >= _Earlier(since, before), 0),
        else_=-1,
    ).label("tracked")
    return (
        sa.select(r.person_id, bucket, tracked, *_columns(r))
        .select_from(rated.outerjoin(since_by_rep, since_by_rep.c.person_id == r.person_id))
        .group_by(r.person_id, bucket, tracked)
    )


async def weekly_pattern_counts(
    *,
    session: AsyncSession,
    rep_ids: Sequence[int],
    bucket_starts: Sequence[datetime],
    until: datetime,
    finished_since: datetime,
    followed_from: datetime | None,
    before: timedelta,
) -> list[PatternCount]:
    """Per rep, period and how a debrief stands to the rep's followed action point: the debriefs,
    their ratings per point and each pattern's count. Periods are `bucket_starts` (newest first;
    0 = [bucket_starts[0], until)); the action point followed is the rep's latest of
    `followed_action_points(…, finished_since)`, set at `since`: tracked 1 = [since, until), 0 =
    [since - before, since). `followed_from` (the first `since` minus `before`, None without any)
    reaches back further than the periods when it must: those rows have bucket len(bucket_starts)."""
    read_from = min(bucket_starts[-1], followed_from) if followed_from else bucket_starts[-1]
    params: dict[str, Any] = {
        "rep_ids": list(rep_ids),
        "until": until,
        "finished_since": finished_since,
        "read_from": read_from,
    }
    params |= {f"bucket_{i}": start for i, start in enumerate(bucket_starts)}
    return _rows(await session.execute(_weekly_statement(len(bucket_starts), before), params))


def merged(rows: Iterable[PatternCount], *, bucket: bool, tracked: bool) -> list[PatternCount]:
    """The rows summed per rep (and per bucket and/or tracked phase where asked to keep them);
    newest period first, so each pattern's example is the most recent period's."""
    out: dict[tuple[int, int, int], PatternCount] = {}
    for c in sorted(rows, key=lambda c: c.bucket):
        key = (c.person_id, c.bucket if bucket else -1, c.tracked if tracked else -1)
        if key in out:
            out[key] = out[key].plus(c)
        else:
            out[key] = PatternCount(key[0], key[1], key[2], c.meetings, c.ratings, c.counts, c.examples)
    return list(out.values())


async def example_meetings(*, session: AsyncSession, debrief_ids: Sequence[int]) -> dict[int, ExampleMeeting]:
    """The account and time of these debriefs (the action points' example meetings). Asked even
    for none, so the digest's number of statements stays the same."""
    rows = await session.execute(
        sa.select(col(Debrief.id), col(Account.name), col(Debrief.created_at))
        .join(Account, col(Account.id) == col(Debrief.account_id))
        .where(col(Debrief.id).in_(sorted(set(debrief_ids))))
    )
    return {not_null(r[0]): ExampleMeeting(not_null(r[0]), str(r[1]), r[2]) for r in rows}
