"""What keeps happening in a rep's meetings: counts of debrief patterns, for the digest's action points.

A pattern is a condition on one debrief (its point-specific fields and its rating of the point),
named `<what>:<detail>` (stored as ActionPoint.pattern). `pattern_counts` counts, per rep, the
debriefs in a window and how many match each pattern, with the latest matching debrief as the
example; `tracked_pattern_counts` the same before and since each rep's tracked action point. One
GROUP BY each, over ix_debrief_person_created and the answers' (debrief_id, point) index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import col

from storage.deals import TeamIds
from storage.models import Account, Debrief, DebriefAnswer, UTCDateTime, not_null

WEAK_RATINGS = ("partly", "no")


class _Earlier(ColumnElement[datetime]):
    """`moment - delta` for a stored UTC moment, on PostgreSQL and SQLite alike."""

    inherit_cache = False
    type = UTCDateTime()

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


def _filled(column: sa.SQLColumnExpression[str | None]) -> sa.ColumnElement[bool]:
    return sa.and_(column.is_not(None), column != "")


def _answer(point: str, *condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """True on the row of this debrief's answer to `point` (each debrief has one per point)."""
    return sa.and_(col(DebriefAnswer.point) == point, *condition)


# pattern name -> (checklist point, condition on a joined Debrief/DebriefAnswer row). Specific
# patterns first: on equal counts the digest proposes the more concrete one.
PATTERNS: dict[str, tuple[str, sa.ColumnElement[bool]]] = {
    "agenda:customer_formal": (
        "opening",
        _answer("opening", col(Debrief.agenda_set_by) == "customer_formal"),
    ),
    "agenda:nobody": ("opening", _answer("opening", col(Debrief.agenda_set_by) == "nobody")),
    "situation:supplier_not_asked": (
        "situation",
        _answer("situation", col(Debrief.supplier_check) == "not_asked"),
    ),
    "concessions:nothing_back": (
        "concessions",
        _answer(
            "concessions",
            _filled(col(Debrief.concessions_given)),
            sa.not_(_filled(col(Debrief.concessions_got))),
        ),
    ),
    "next_step:no_date": (
        "next_step",
        _answer(
            "next_step",
            col(Debrief.outcome).in_(("next_step", "postponed")),
            col(Debrief.next_step_due).is_(None),
            col(Debrief.next_meeting_at).is_(None),
        ),
    ),
    **{
        f"rating:{p}": (p, _answer(p, col(DebriefAnswer.rating).in_(WEAK_RATINGS)))
        for p in ("opening", "interaction", "situation", "concessions", "next_step")
    },
}

PATTERN_POINTS: dict[str, str] = {name: point for name, (point, _) in PATTERNS.items()}


@dataclass(frozen=True)
class PatternCount:
    person_id: int
    phase: int  # pattern_counts: 0; tracked_pattern_counts: 0 before the action point, 1 since
    meetings: int
    ratings: dict[str, tuple[int, int, int]]  # point -> (yes, partly, no)
    counts: dict[str, int] = field(default_factory=dict)  # pattern -> matching debriefs
    examples: dict[str, int] = field(default_factory=dict)  # pattern -> latest matching debrief id


@dataclass(frozen=True)
class ExampleMeeting:
    debrief_id: int
    account: str
    created_at: datetime


def _columns() -> list[sa.ColumnElement[Any]]:
    out: list[sa.ColumnElement[Any]] = [sa.func.count(sa.distinct(col(Debrief.id)))]
    for point in ("opening", "interaction", "situation", "concessions", "next_step"):
        for rating in ("yes", "partly", "no"):
            out.append(
                sa.func.sum(sa.case((_answer(point, col(DebriefAnswer.rating) == rating), 1), else_=0))
            )
    for _, condition in PATTERNS.values():
        out.append(sa.func.sum(sa.case((condition, 1), else_=0)))
        out.append(sa.func.max(sa.case((condition, col(Debrief.id)))))
    return out


def _rows(rows: Iterable[Sequence[Any]]) -> list[PatternCount]:
    out = []
    points = ("opening", "interaction", "situation", "concessions", "next_step")
    for r in rows:
        values: list[Any] = list(r)
        person, phase, meetings = int(values[0]), int(values[1]), int(values[2])
        ratings: dict[str, tuple[int, int, int]] = {
            p: (int(values[3 + 3 * i] or 0), int(values[4 + 3 * i] or 0), int(values[5 + 3 * i] or 0))
            for i, p in enumerate(points)
        }
        rest = values[3 + 3 * len(points) :]
        counts: dict[str, int] = {}
        examples: dict[str, int] = {}
        for i, name in enumerate(PATTERNS):
            counts[name] = int(rest[2 * i] or 0)
            if rest[2 * i + 1] is not None:
                examples[name] = int(rest[2 * i + 1])
        out.append(PatternCount(person, phase, meetings, ratings, counts, examples))
    return out


async def pattern_counts(
    *, session: AsyncSession, team_ids: TeamIds, since: datetime, until: datetime
) -> list[PatternCount]:
    """Per rep: debriefs in [since, until), ratings per point and each pattern's count (phase 0)."""
    rows = await session.execute(
        sa.select(col(Debrief.person_id), sa.literal(0), *_columns())
        .join(DebriefAnswer, col(DebriefAnswer.debrief_id) == col(Debrief.id))
        .where(
            col(Debrief.person_id).in_(team_ids),
            col(Debrief.created_at) >= since,
            col(Debrief.created_at) < until,
        )
        .group_by(col(Debrief.person_id))
    )
    return _rows(rows)


async def tracked_pattern_counts(
    *,
    session: AsyncSession,
    since_by_rep: sa.Subquery,
    before: timedelta,
    until: datetime,
) -> list[PatternCount]:
    """Per rep in `since_by_rep` (person_id, since): phase 0 = [since - before, since), 1 = [since, until)."""
    since = since_by_rep.c.since
    phase = sa.case((col(Debrief.created_at) >= since, 1), else_=0).label("phase")
    rows = await session.execute(
        sa.select(col(Debrief.person_id), phase, *_columns())
        .join(since_by_rep, since_by_rep.c.person_id == col(Debrief.person_id))
        .join(DebriefAnswer, col(DebriefAnswer.debrief_id) == col(Debrief.id))
        .where(col(Debrief.created_at) >= _Earlier(since, before), col(Debrief.created_at) < until)
        .group_by(col(Debrief.person_id), phase)
    )
    return _rows(rows)


async def example_meetings(*, session: AsyncSession, debrief_ids: Sequence[int]) -> dict[int, ExampleMeeting]:
    """The account and time of these debriefs (the action points' example meetings). Asked even
    for none, so the digest's number of statements stays the same."""
    rows = await session.execute(
        sa.select(col(Debrief.id), col(Account.name), col(Debrief.created_at))
        .join(Account, col(Account.id) == col(Debrief.account_id))
        .where(col(Debrief.id).in_(sorted(set(debrief_ids))))
    )
    return {not_null(r[0]): ExampleMeeting(not_null(r[0]), str(r[1]), r[2]) for r in rows}
