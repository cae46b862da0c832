"""The digest's figures as indexed aggregates: a fixed handful of GROUP BY queries per batch.

`load_digest_data` answers for one manager or for every manager at once with the same ten
statements (eleven with notes; six for the figures and patterns, four storage.digest_coaching's;
one more on PostgreSQL, which sets how they are planned): the number of queries never grows with
the number of reps or managers. Debriefs are reached through
ix_debrief_person_created (person_id IN the reps' ids, created_at in the window) and their answers
through the (debrief_id, point) unique index, so the cost follows the weeks the digest looks at,
not the whole history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.debrief_patterns import PatternCount, merged, weekly_pattern_counts
from storage.digest_coaching import CoachingData, followed_actions, load_coaching_data
from storage.models import Account, Debrief, DebriefAnswer, Meeting, Person, not_null
from storage.sales_teams import Team


@dataclass(frozen=True)
class Period:
    """The digest period [start, end), `buckets` equally long periods back for the weekly grid,
    `pattern_buckets` of them for the action points' patterns, `months` calendar months (UTC)
    for the win rate per month, and the last `evidence_months` of them for the team's evidence."""

    start: datetime
    end: datetime
    buckets: int = 8
    pattern_buckets: int = 4
    months: int = 6
    evidence_months: int = 3

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def bucket_start(self, index: int) -> datetime:
        """Bucket 0 is the current period, 1 the previous one, and so on back."""
        return self.end - (index + 1) * self.length

    @property
    def pattern_start(self) -> datetime:
        return self.bucket_start(self.pattern_buckets - 1)

    @property
    def pattern_window(self) -> timedelta:
        return self.pattern_buckets * self.length

    def month_starts(self) -> list[datetime]:
        """The first moments (UTC) of the last `months` calendar months, oldest first; the last is
        the month the period ends in (or the one before, when the period ends on its first)."""
        last = (self.end - timedelta(microseconds=1)).astimezone(UTC)
        year, month = last.year, last.month
        starts = []
        for _ in range(self.months):
            starts.append(datetime(year, month, 1, tzinfo=UTC))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return starts[::-1]

    @property
    def evidence_start(self) -> datetime:
        return self.month_starts()[-min(self.evidence_months, self.months)]

    @classmethod
    def ending(cls, end: datetime, *, days: int = 7, buckets: int = 8) -> Period:
        return cls(end - timedelta(days=days), end, buckets)


PLANNING = sa.text(
    "SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)"
)


@dataclass(frozen=True)
class ManagerRow:
    id: int
    workspace_id: int
    name: str
    email: str | None
    locale: str | None
    timezone: str | None
    team_name: str | None
    channel_id: str | None


@dataclass(frozen=True)
class RepRow:
    id: int
    manager_id: int
    name: str
    email: str | None


@dataclass(frozen=True)
class OutcomeCount:
    person_id: int
    bucket: int  # 0 .. period.buckets - 1
    debriefs: int
    closed: int
    closing: int  # meetings ending closed or with a next step agreed
    concessions_given: int
    concessions_got: int


@dataclass(frozen=True)
class MissedMeeting:
    person_id: int
    meeting_id: int
    account: str
    starts_at: datetime


@dataclass(frozen=True)
class MissedStep:
    person_id: int
    debrief_id: int
    account: str
    what: str | None
    due: date


@dataclass(frozen=True)
class NoteRow:
    person_id: int
    point: str
    note: str
    account: str
    created_at: datetime


@dataclass(frozen=True)
class DigestData:
    period: Period
    managers: list[ManagerRow]
    reps: list[RepRow]
    weekly: list[PatternCount]  # per rep and trend bucket: ratings per point, patterns
    outcomes: list[OutcomeCount]
    missed_meetings: list[MissedMeeting]
    missed_steps: list[MissedStep]
    notes: list[NoteRow]
    coaching: CoachingData


def _filled(column: sa.SQLColumnExpression[str | None]) -> sa.ColumnElement[int]:
    return sa.case((sa.and_(column.is_not(None), column != ""), 1), else_=0)


async def load_digest_data(
    *,
    session: AsyncSession,
    period: Period,
    manager_ids: Sequence[int] | None = None,
    workspace_id: int | None = None,
    include_notes: bool = False,
    due_from: date | None = None,
    due_to: date | None = None,
) -> DigestData:
    """Everything the digests of these managers (None: every manager with reps) need.

    Reps are only ever a manager's direct reports in the manager's own workspace. Next steps
    count as missed when due in [due_from, due_to) (default: the period's UTC dates) and neither a
    later debrief nor a later meeting with that account exists.
    """
    if session.get_bind().dialect.name == "postgresql":
        # For this transaction only: no JIT (the aggregates are many small index probes whose
        # estimated cost passes jit_above_cost; compiling took 2.4 s of 2.9 s for the weekly grid
        # of 1,000 reps in bench/bench_digest.py), and a plan per execution (after five runs of a
        # prepared statement PostgreSQL may switch to a generic plan that cannot see how few reps
        # the list of ids holds: the 50-rep digest went from 100 ms to 350 ms by the tenth run).
        await session.execute(PLANNING)
    manager = aliased(Person, name="manager")
    rep = aliased(Person, name="rep")
    manager_filter: list[sa.ColumnElement[bool]] = []
    if manager_ids is not None:
        manager_filter.append(col(manager.id).in_(list(manager_ids)))
    else:
        manager_filter.append(
            col(manager.id).in_(sa.select(col(Person.manager_id)).where(col(Person.manager_id).is_not(None)))
        )
    if workspace_id is not None:
        manager_filter.append(col(manager.workspace_id) == workspace_id)

    # 1. managers and their team names
    manager_rows = await session.execute(
        sa.select(
            col(manager.id),
            col(manager.workspace_id),
            col(manager.display_name),
            col(manager.email),
            col(manager.locale),
            col(manager.timezone),
            col(Team.name),
            col(Team.channel_id),
        )
        .outerjoin(Team, col(Team.manager_id) == col(manager.id))
        .where(*manager_filter)
        .order_by(col(manager.id))
    )
    managers = [
        ManagerRow(not_null(r[0]), int(r[1]), r[2] or "", r[3], r[4], r[5], r[6], r[7]) for r in manager_rows
    ]

    # The team: direct reports living in their manager's workspace (never across workspaces).
    team_ids = (
        sa.select(col(rep.id))
        .join(
            manager,
            sa.and_(
                col(manager.id) == col(rep.manager_id), col(manager.workspace_id) == col(rep.workspace_id)
            ),
        )
        .where(*manager_filter)
    )

    # 2. reps
    rep_rows = await session.execute(
        sa.select(col(Person.id), col(Person.manager_id), col(Person.display_name), col(Person.email))
        .where(col(Person.id).in_(team_ids))
        .order_by(col(Person.display_name), col(Person.id))
    )
    reps = [RepRow(not_null(r[0]), not_null(r[1]), r[2] or "", r[3]) for r in rep_rows]

    # From here on the team is the list of rep ids just read: with the ids as values PostgreSQL
    # reads one manager's reps through ix_debrief_person_created instead of scanning every debrief.
    rep_ids = [r.id for r in reps]
    in_team = col(Debrief.person_id).in_(rep_ids)
    window_end = col(Debrief.created_at) < period.end

    # 3. the reps' followed action points (open, or finished this period), then 4. per rep and
    # trend bucket the checklist ratings per point and the debrief patterns, before and since them
    followed = await followed_actions(session=session, rep_ids=rep_ids, finished_since=period.start)
    firsts = [a.created_at for a in followed.values()]
    counted = await weekly_pattern_counts(
        session=session,
        rep_ids=rep_ids,
        bucket_starts=[period.bucket_start(i) for i in range(period.buckets)],
        until=period.end,
        finished_since=period.start,
        followed_from=min(firsts) - period.pattern_window if firsts else None,
        before=period.pattern_window,
    )
    weekly = merged([c for c in counted if c.bucket < period.buckets], bucket=True, tracked=False)
    whens = [(col(Debrief.created_at) >= period.bucket_start(i), i) for i in range(period.buckets - 1)]
    bucket_n = sa.case(*whens, else_=period.buckets - 1).label("bucket")
    history_start = col(Debrief.created_at) >= period.bucket_start(period.buckets - 1)

    # 4. debriefs, closed and closing outcomes and concessions per rep and trend bucket
    outcome_rows = await session.execute(
        sa.select(
            col(Debrief.person_id),
            bucket_n,
            sa.func.count(),
            sa.func.sum(sa.case((col(Debrief.outcome) == "closed", 1), else_=0)),
            sa.func.sum(sa.case((col(Debrief.outcome).in_(("closed", "next_step")), 1), else_=0)),
            sa.func.sum(_filled(col(Debrief.concessions_given))),
            sa.func.sum(_filled(col(Debrief.concessions_got))),
        )
        .where(in_team, history_start, window_end)
        .group_by(col(Debrief.person_id), bucket_n)
    )
    outcomes = [
        OutcomeCount(
            int(r[0]), int(r[1]), int(r[2]), int(r[3] or 0), int(r[4] or 0), int(r[5] or 0), int(r[6] or 0)
        )
        for r in outcome_rows
    ]

    # 5. customer meetings in the period without a debrief (linked, or a later one for that account)
    # Two NOT EXISTS rather than one with OR: each is an index probe (ix_debrief_meeting_id,
    # ix_debrief_account_created); an OR would make PostgreSQL scan debriefs per meeting.
    later = aliased(Debrief, name="later")
    linked = sa.exists().where(col(later.meeting_id) == col(Meeting.id))
    after = sa.exists().where(
        col(later.account_id) == col(Meeting.account_id),
        col(later.created_at) >= col(Meeting.starts_at),
        col(later.person_id) == col(Meeting.person_id),
    )
    meeting_rows = await session.execute(
        sa.select(col(Meeting.person_id), col(Meeting.id), col(Account.name), col(Meeting.starts_at))
        .join(Account, col(Account.id) == col(Meeting.account_id))
        .where(
            col(Meeting.person_id).in_(rep_ids),
            col(Meeting.starts_at) >= period.start,
            col(Meeting.starts_at) < period.end,
            col(Meeting.cancelled).is_(False),
            ~linked,
            ~after,
        )
        .order_by(col(Meeting.starts_at))
    )
    missed_meetings = [MissedMeeting(int(r[0]), not_null(r[1]), str(r[2]), r[3]) for r in meeting_rows]

    # 6. promised next steps due in the period with no follow-up (debrief or meeting) since
    due_from = due_from or period.start.date()
    due_to = due_to or period.end.date()
    followed_debrief = sa.exists().where(
        col(later.person_id) == col(Debrief.person_id),
        col(later.account_id) == col(Debrief.account_id),
        col(later.created_at) > col(Debrief.created_at),
    )
    followed_meeting = sa.exists().where(
        col(Meeting.person_id) == col(Debrief.person_id),
        col(Meeting.account_id) == col(Debrief.account_id),
        col(Meeting.starts_at) > col(Debrief.created_at),
        col(Meeting.starts_at) < period.end,
        col(Meeting.cancelled).is_(False),
    )
    step_rows = await session.execute(
        sa.select(
            col(Debrief.person_id),
            col(Debrief.id),
            col(Account.name),
            col(Debrief.next_step_what),
            col(Debrief.next_step_due),
        )
        .join(Account, col(Account.id) == col(Debrief.account_id))
        .where(
            in_team,
            col(Debrief.next_step_due) >= due_from,
            col(Debrief.next_step_due) < due_to,
            col(Debrief.outcome) != "lost",
            ~followed_debrief,
            ~followed_meeting,
        )
        .order_by(col(Debrief.next_step_due), col(Debrief.id))
    )
    missed_steps = [MissedStep(int(r[0]), not_null(r[1]), str(r[2]), r[3], not_null(r[4])) for r in step_rows]

    # 7. free-text notes of the period: only read at all when the organisation shares them
    notes: list[NoteRow] = []
    if include_notes:
        note_rows = await session.execute(
            sa.select(
                col(Debrief.person_id),
                col(DebriefAnswer.point),
                col(DebriefAnswer.note),
                col(Account.name),
                col(Debrief.created_at),
            )
            .join(DebriefAnswer, col(DebriefAnswer.debrief_id) == col(Debrief.id))
            .join(Account, col(Account.id) == col(Debrief.account_id))
            .where(
                in_team,
                col(Debrief.created_at) >= period.start,
                window_end,
                col(DebriefAnswer.note).is_not(None),
                col(DebriefAnswer.note) != "",
            )
            .order_by(col(Debrief.created_at).desc(), col(DebriefAnswer.id))
        )
        notes = [NoteRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4]) for r in note_rows]

    # 9-11. deals, the team's evidence and the action points' counts (storage.digest_coaching)
    coaching = await load_coaching_data(
        session=session,
        rep_ids=rep_ids,
        period_start=period.start,
        previous_start=period.bucket_start(1),
        end=period.end,
        month_starts=period.month_starts(),
        evidence_start=period.evidence_start,
        patterns=merged(
            [c for c in weekly if c.bucket < period.pattern_buckets], bucket=False, tracked=False
        ),
        tracked=followed,
        tracked_patterns=merged([c for c in counted if c.tracked >= 0], bucket=False, tracked=True),
    )
    return DigestData(
        period, managers, reps, weekly, outcomes, missed_meetings, missed_steps, notes, coaching
    )
