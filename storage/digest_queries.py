"""The digest's figures as indexed aggregates: a fixed handful of GROUP BY queries per batch.

`load_digest_data` answers for one manager or for every manager at once with the same six (seven
with notes) statements: the number of queries never grows with the number of reps or managers.
Debriefs are reached through ix_debrief_person_created (person_id IN the team, created_at in the
window) and their answers through the (debrief_id, point) unique index, so the cost follows the
weeks the digest looks at, not the whole history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Account, Debrief, DebriefAnswer, Meeting, Person
from storage.sales_teams import Team


@dataclass(frozen=True)
class Period:
    """The digest period [start, end) and `buckets` equally long periods back for the trend."""

    start: datetime
    end: datetime
    buckets: int = 8

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def bucket_start(self, index: int) -> datetime:
        """Bucket 0 is the current period, 1 the previous one, and so on back."""
        return self.end - (index + 1) * self.length

    @classmethod
    def ending(cls, end: datetime, *, days: int = 7, buckets: int = 8) -> Period:
        return cls(end - timedelta(days=days), end, buckets)


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
class PointCount:
    person_id: int
    bucket: int  # 0 current period, 1 previous
    point: str
    yes: int
    partly: int
    no: int


@dataclass(frozen=True)
class OutcomeCount:
    person_id: int
    bucket: int  # 0 .. period.buckets - 1
    debriefs: int
    closed: int
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
    points: list[PointCount]
    outcomes: list[OutcomeCount]
    missed_meetings: list[MissedMeeting]
    missed_steps: list[MissedStep]
    notes: list[NoteRow]


def _filled(column: sa.ColumnElement[str | None]) -> sa.ColumnElement[int]:
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
    manager = aliased(Person, name="manager")
    rep = aliased(Person, name="rep")
    manager_filter: list[sa.ColumnElement[bool]] = []
    if manager_ids is not None:
        manager_filter.append(manager.id.in_(list(manager_ids)))
    else:
        manager_filter.append(
            manager.id.in_(sa.select(Person.manager_id).where(Person.manager_id.is_not(None)))
        )
    if workspace_id is not None:
        manager_filter.append(manager.workspace_id == workspace_id)

    # 1. managers and their team names
    rows = await session.execute(
        sa.select(
            manager.id,
            manager.workspace_id,
            manager.display_name,
            manager.email,
            manager.locale,
            manager.timezone,
            Team.name,
            Team.channel_id,
        )
        .outerjoin(Team, Team.manager_id == manager.id)
        .where(*manager_filter)
        .order_by(manager.id)
    )
    managers = [ManagerRow(int(r[0]), int(r[1]), r[2] or "", r[3], r[4], r[5], r[6], r[7]) for r in rows]

    # The team: direct reports living in their manager's workspace (never across workspaces).
    team_ids = (
        sa.select(rep.id)
        .join(manager, sa.and_(manager.id == rep.manager_id, manager.workspace_id == rep.workspace_id))
        .where(*manager_filter)
    )

    # 2. reps
    rows = await session.execute(
        sa.select(Person.id, Person.manager_id, Person.display_name, Person.email)
        .where(Person.id.in_(team_ids))
        .order_by(Person.display_name, Person.id)
    )
    reps = [RepRow(int(r[0]), int(r[1]), r[2] or "", r[3]) for r in rows]

    in_team = Debrief.person_id.in_(team_ids)
    window_end = Debrief.created_at < period.end

    # 3. checklist profile per rep and point (yes / partly / no counts), current and previous period
    bucket2 = sa.case((Debrief.created_at >= period.start, 0), else_=1).label("bucket")
    rows = await session.execute(
        sa.select(
            Debrief.person_id,
            bucket2,
            DebriefAnswer.point,
            *(sa.func.sum(sa.case((DebriefAnswer.rating == r, 1), else_=0)) for r in ("yes", "partly", "no")),
        )
        .join(DebriefAnswer, DebriefAnswer.debrief_id == Debrief.id)
        .where(in_team, Debrief.created_at >= period.bucket_start(1), window_end)
        .group_by(Debrief.person_id, bucket2, DebriefAnswer.point)
    )
    points = [
        PointCount(int(r[0]), int(r[1]), str(r[2]), int(r[3] or 0), int(r[4] or 0), int(r[5] or 0))
        for r in rows
    ]

    # 4. debriefs, closed outcomes and concessions per rep and trend bucket
    whens = [(Debrief.created_at >= period.bucket_start(i), i) for i in range(period.buckets - 1)]
    bucket_n = sa.case(*whens, else_=period.buckets - 1).label("bucket")
    rows = await session.execute(
        sa.select(
            Debrief.person_id,
            bucket_n,
            sa.func.count(),
            sa.func.sum(sa.case((Debrief.outcome == "closed", 1), else_=0)),
            sa.func.sum(_filled(Debrief.concessions_given)),
            sa.func.sum(_filled(Debrief.concessions_got)),
        )
        .where(in_team, Debrief.created_at >= period.bucket_start(period.buckets - 1), window_end)
        .group_by(Debrief.person_id, bucket_n)
    )
    outcomes = [
        OutcomeCount(int(r[0]), int(r[1]), int(r[2]), int(r[3] or 0), int(r[4] or 0), int(r[5] or 0))
        for r in rows
    ]

    # 5. customer meetings in the period without a debrief (linked, or a later one for that account)
    # Two NOT EXISTS rather than one with OR: each is an index probe (ix_debrief_meeting_id,
    # ix_debrief_account_created); an OR would make PostgreSQL scan debriefs per meeting.
    later = aliased(Debrief, name="later")
    linked = sa.exists().where(later.meeting_id == Meeting.id)
    after = sa.exists().where(
        later.account_id == Meeting.account_id,
        later.created_at >= Meeting.starts_at,
        later.person_id == Meeting.person_id,
    )
    rows = await session.execute(
        sa.select(Meeting.person_id, Meeting.id, Account.name, Meeting.starts_at)
        .join(Account, Account.id == Meeting.account_id)
        .where(
            Meeting.person_id.in_(team_ids),
            Meeting.starts_at >= period.start,
            Meeting.starts_at < period.end,
            Meeting.cancelled.is_(False),
            ~linked,
            ~after,
        )
        .order_by(Meeting.starts_at)
    )
    missed_meetings = [MissedMeeting(int(r[0]), int(r[1]), str(r[2]), r[3]) for r in rows]

    # 6. promised next steps due in the period with no follow-up (debrief or meeting) since
    due_from = due_from or period.start.date()
    due_to = due_to or period.end.date()
    followed_debrief = sa.exists().where(
        later.person_id == Debrief.person_id,
        later.account_id == Debrief.account_id,
        later.created_at > Debrief.created_at,
    )
    followed_meeting = sa.exists().where(
        Meeting.person_id == Debrief.person_id,
        Meeting.account_id == Debrief.account_id,
        Meeting.starts_at > Debrief.created_at,
        Meeting.starts_at < period.end,
        Meeting.cancelled.is_(False),
    )
    rows = await session.execute(
        sa.select(Debrief.person_id, Debrief.id, Account.name, Debrief.next_step_what, Debrief.next_step_due)
        .join(Account, Account.id == Debrief.account_id)
        .where(
            in_team,
            Debrief.next_step_due >= due_from,
            Debrief.next_step_due < due_to,
            Debrief.outcome != "lost",
            ~followed_debrief,
            ~followed_meeting,
        )
        .order_by(Debrief.next_step_due, Debrief.id)
    )
    missed_steps = [MissedStep(int(r[0]), int(r[1]), str(r[2]), r[3], r[4]) for r in rows]

    # 7. free-text notes of the period: only read at all when the organisation shares them
    notes: list[NoteRow] = []
    if include_notes:
        rows = await session.execute(
            sa.select(
                Debrief.person_id, DebriefAnswer.point, DebriefAnswer.note, Account.name, Debrief.created_at
            )
            .join(DebriefAnswer, DebriefAnswer.debrief_id == Debrief.id)
            .join(Account, Account.id == Debrief.account_id)
            .where(
                in_team,
                Debrief.created_at >= period.start,
                window_end,
                DebriefAnswer.note.is_not(None),
                DebriefAnswer.note != "",
            )
            .order_by(Debrief.created_at.desc(), DebriefAnswer.id)
        )
        notes = [NoteRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4]) for r in rows]

    return DigestData(period, managers, reps, points, outcomes, missed_meetings, missed_steps, notes)
