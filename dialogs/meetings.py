"""Customer meetings and the messages planned around them (nudge, debrief prompt, reminder).

A meeting's outbox rows share the dedup-key prefix `m<id>:` and carry its start time in the key,
so moving a meeting cancels the old rows and plans new ones, and re-importing an unchanged calendar
changes nothing (a nudge the rep skipped stays skipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dialogs.timing import (
    SchedulePolicy,
    follow_through_due,
    nudge_due,
    prompt_due,
    reminder_due,
)
from storage import outbox
from storage.errors import NotFound
from storage.filing import DEBRIEF_HEAD, DEBRIEF_MEETING_UID, MEETING_HEAD, FollowUps, PlannedMessage
from storage.models import Debrief, Meeting, Person, not_null, table_of, utcnow
from storage.repository import _insert
from storage.scheduling import MeetingInvite, SuggestedTactic

NUDGE, PROMPT, REMINDER = "nudge", "debrief_prompt", "debrief_reminder"
FOLLOW_THROUGH, TACTIC_FEEDBACK = "follow_through", "tactic_feedback"
DEFAULT_LENGTH = timedelta(hours=1)
PROMPT_USEFUL_FOR = timedelta(days=2)
PROMPT_PLANNED_AFTER = timedelta(hours=12)
# A meeting from a debrief or typed by hand within this window of one already known (e.g. from
# the calendar) with the same account is the same meeting.
SAME_MEETING = timedelta(hours=2)


def meeting_prefix(meeting_id: int) -> str:
    return f"{MEETING_HEAD}{meeting_id}:"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%MZ")


@dataclass(frozen=True)
class InviteFlags:
    organiser: str | None = None
    organiser_external: bool = False
    formal_agenda: bool = False


async def upsert_meeting(
    *,
    session: AsyncSession,
    person: Person,
    account_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    source: str,
    external_uid: str,
    title: str = "",
    cancelled: bool = False,
    invite: InviteFlags | None = None,
) -> tuple[Meeting, bool]:
    """Insert or update by (person, source, external_uid); returns (meeting, changed)."""
    existing = await session.scalar(
        sa.select(Meeting).where(
            col(Meeting.person_id) == person.id,
            col(Meeting.source) == source,
            col(Meeting.external_uid) == external_uid,
        )
    )
    if existing is None:
        meeting = Meeting(
            workspace_id=person.workspace_id,
            person_id=not_null(person.id),
            account_id=account_id,
            starts_at=starts_at,
            ends_at=ends_at,
            source=source,
            external_uid=external_uid,
            title=title[:500],
            cancelled=cancelled,
            created_at=utcnow(),
        )
        session.add(meeting)
        await session.flush()
        changed = True
    else:
        meeting = existing
        new = {
            "account_id": account_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "title": title[:500],
            "cancelled": cancelled,
        }
        changed = any(getattr(meeting, k) != v for k, v in new.items())
        for k, v in new.items():
            setattr(meeting, k, v)
        await session.flush()
    if invite is not None and meeting.id is not None:
        stmt = _insert(session, MeetingInvite).values(
            meeting_id=meeting.id,
            organiser=invite.organiser,
            organiser_external=invite.organiser_external,
            formal_agenda=invite.formal_agenda,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["meeting_id"],
                set_={
                    "organiser": stmt.excluded.organiser,
                    "organiser_external": stmt.excluded.organiser_external,
                    "formal_agenda": stmt.excluded.formal_agenda,
                },
            )
        )
    return meeting, changed


async def meeting_near(
    *, session: AsyncSession, person_id: int, account_id: int, starts_at: datetime
) -> Meeting | None:
    """A live meeting of this person with this account close to this time, if one is known."""
    return await session.scalar(
        _MEETING_NEAR,
        {
            "person_id": person_id,
            "account_id": account_id,
            "earliest": starts_at - SAME_MEETING,
            "latest": starts_at + SAME_MEETING,
        },
    )


_MEETINGS = table_of(Meeting)
_MEETING_COLUMNS = (
    "workspace_id", "person_id", "account_id", "starts_at", "ends_at", "source", "external_uid",
    "title", "cancelled", "created_at",
)
_NEW_MEETING_UNLESS_NEAR = (
    sa.insert(_MEETINGS)
    .from_select(
        _MEETING_COLUMNS,
        sa.select(*[sa.bindparam(name, type_=_MEETINGS.c[name].type) for name in _MEETING_COLUMNS]).where(
            ~sa.exists().where(
                _MEETINGS.c.person_id == sa.bindparam("person_id"),
                _MEETINGS.c.account_id == sa.bindparam("account_id"),
                _MEETINGS.c.cancelled.is_(False),
                _MEETINGS.c.starts_at.between(sa.bindparam("earliest"), sa.bindparam("latest")),
            )
        ),
    )
    .returning(_MEETINGS.c.id)
)
# Built once (every new debrief with a next meeting asks); values arrive as parameters.
_MEETING_NEAR = (
    sa.select(Meeting)
    .where(
        col(Meeting.person_id) == sa.bindparam("person_id"),
        col(Meeting.account_id) == sa.bindparam("account_id"),
        col(Meeting.cancelled).is_(False),
        col(Meeting.starts_at).between(sa.bindparam("earliest"), sa.bindparam("latest")),
    )
    .order_by(col(Meeting.id))
    .limit(1)
)


async def add_meeting(
    *,
    session: AsyncSession,
    person_id: int,
    account_id: int,
    starts_at: datetime,
    source: str,
    external_uid: str,
    tz: str,
    policy: SchedulePolicy,
    now: datetime,
    title: str = "",
) -> Meeting:
    """A meeting from a debrief's next step or typed by hand; an already known one is reused."""
    known = await meeting_near(
        session=session, person_id=person_id, account_id=account_id, starts_at=starts_at
    )
    if known is not None:
        return known
    person = await session.get(Person, person_id)  # from the identity map when the caller holds it
    if person is None:
        raise NotFound("no such person", person_id=person_id)
    meeting, _ = await upsert_meeting(
        session=session,
        person=person,
        account_id=account_id,
        starts_at=starts_at,
        ends_at=starts_at + DEFAULT_LENGTH,
        source=source,
        external_uid=external_uid,
        title=title,
    )
    await plan_meeting(session=session, meeting=meeting, tz=tz, policy=policy, now=now)
    return meeting


async def plan_meeting(
    *, session: AsyncSession, meeting: Meeting, tz: str, policy: SchedulePolicy, now: datetime
) -> list[str]:
    """(Re)plan the nudge, the debrief prompt and the reminder of one meeting; returns the keys."""
    meeting_id = not_null(meeting.id)
    prefix = meeting_prefix(meeting_id)
    if meeting.cancelled:
        await outbox.cancel_prefix(session=session, prefix=prefix, reason="meeting cancelled")
        return []
    planned = planned_messages(
        meeting_id=meeting_id, person_id=meeting.person_id, starts_at=meeting.starts_at,
        ends_at=meeting.ends_at, tz=tz, policy=policy, now=now,
    )
    keys = [row.dedup_key for row in planned]
    await outbox.cancel_prefix(session=session, prefix=prefix, keep=keys, reason="meeting moved")
    await outbox.enqueue_many(session=session, rows=planned)
    return keys


def planned_messages(
    *,
    meeting_id: int,
    person_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    tz: str,
    policy: SchedulePolicy,
    now: datetime,
) -> list[outbox.Planned]:
    """The nudge before a live meeting, the debrief prompt after it and the prompt's reminder."""
    messages = meeting_messages(starts_at=starts_at, ends_at=ends_at, tz=tz, policy=policy, now=now)
    return _meeting_rows(meeting_id, person_id, starts_at, messages)


def _meeting_rows(
    meeting_id: int, person_id: int, starts_at: datetime, messages: Sequence[PlannedMessage]
) -> list[outbox.Planned]:
    """Messages planned around a meeting, as outbox rows keyed and addressed to that meeting."""
    prefix = meeting_prefix(meeting_id)
    payload: dict[str, Any] = {"meeting_id": meeting_id, "starts_at": starts_at.isoformat()}
    return [
        outbox.Planned(prefix + m.tail, m.kind, person_id, m.due_at, payload, m.expires_at) for m in messages
    ]


def meeting_messages(
    *, starts_at: datetime, ends_at: datetime | None, tz: str, policy: SchedulePolicy, now: datetime
) -> list[PlannedMessage]:
    """`planned_messages` before the meeting has an id: keyed `<kind>:<start>` after its prefix."""
    stamp = _stamp(starts_at)
    ends_at = ends_at or starts_at + DEFAULT_LENGTH
    planned: list[PlannedMessage] = []
    if starts_at > now:
        due = max(nudge_due(starts_at, tz=tz, policy=policy), now)
        planned.append(PlannedMessage(NUDGE, f"{NUDGE}:{stamp}", due, starts_at))
    if ends_at > now - PROMPT_PLANNED_AFTER:  # a calendar's old meetings get no late prompts
        p_due = max(prompt_due(ends_at, tz=tz, policy=policy), now)
        planned.append(PlannedMessage(PROMPT, f"{PROMPT}:{stamp}", p_due, p_due + PROMPT_USEFUL_FOR))
        r_due = reminder_due(p_due, tz=tz, policy=policy)
        planned.append(PlannedMessage(REMINDER, f"{REMINDER}:{stamp}", r_due, r_due + PROMPT_USEFUL_FOR))
    return planned


def plan_follow_ups(fields: dict[str, Any], *, tz: str, policy: SchedulePolicy, now: datetime) -> FollowUps:
    """What a new debrief sets in motion, in the rep's timezone: its next meeting with the nudge
    and prompts around it, the follow-through check on the promised date, and the question whether
    the tactics last suggested on this account worked (asked only if some await a verdict)."""
    next_at = fields.get("next_meeting_at")
    meeting_at = next_at if isinstance(next_at, datetime) and next_at > now else None
    step_due = fields.get("next_step_due")
    promised = bool(fields.get("next_step_what") or fields.get("next_step_who"))
    if not isinstance(step_due, date) or not promised:
        step_due = None
    return FollowUps(
        meeting_at=meeting_at,
        meeting_ends_at=meeting_at + DEFAULT_LENGTH if meeting_at else None,
        near=SAME_MEETING,
        meeting_messages=tuple(
            meeting_messages(starts_at=meeting_at, ends_at=None, tz=tz, policy=policy, now=now)
        ) if meeting_at else (),
        follow_through=PlannedMessage(
            FOLLOW_THROUGH, FOLLOW_THROUGH, follow_through_due(step_due, tz=tz, policy=policy), None
        ) if step_due else None,
        follow_through_on=step_due,
        tactic_feedback=PlannedMessage(TACTIC_FEEDBACK, TACTIC_FEEDBACK, now, now + timedelta(days=7)),
    )


def follow_up_rows(
    plan: FollowUps,
    *,
    person_id: int,
    debrief_id: int,
    account_id: int,
    meeting_id: int | None,
    open_tactics: Sequence[int | None] = (),
) -> list[outbox.Planned]:
    """The outbox rows of a plan once the debrief (and its new meeting, if any) have ids."""
    rows: list[outbox.Planned] = []
    if meeting_id is not None and plan.meeting_at is not None:
        rows += _meeting_rows(meeting_id, person_id, plan.meeting_at, plan.meeting_messages)
    head = f"{DEBRIEF_HEAD}{debrief_id}:"
    if plan.follow_through is not None and plan.follow_through_on is not None:
        ft = plan.follow_through
        rows.append(outbox.Planned(
            head + ft.tail, ft.kind, person_id, ft.due_at,
            {"debrief_id": debrief_id, "account_id": account_id, "due": plan.follow_through_on.isoformat()},
            ft.expires_at,
        ))
    if open_tactics and plan.tactic_feedback is not None:
        fb = plan.tactic_feedback
        rows.append(outbox.Planned(
            head + fb.tail, fb.kind, person_id, fb.due_at,
            {"account_id": account_id, "suggested": list(open_tactics)}, fb.expires_at,
        ))
    return rows


async def on_debrief_stored(
    *,
    session: AsyncSession,
    person_id: int,
    workspace_id: int,
    debrief_id: int,
    account_id: int,
    plan: FollowUps,
    now: datetime,
    tactics_open: bool | None = None,
) -> int | None:
    """Carry out a new debrief's plan (`plan_follow_ups`) statement by statement; returns the id
    of the meeting it added, if it added one. (PostgreSQL's usual case does all of it in the insert
    itself: storage.filing.)

    `tactics_open` is whether suggested tactics on this account still await a verdict, when the
    caller already knows (storage.repository.file_debrief returns it with the insert); None asks
    the database. A debrief with a next meeting costs two statements: the meeting (unless one is
    already known near that time), then every message planned, in one executemany.
    """
    meeting_id: int | None = None
    if plan.meeting_at is not None:
        meeting_id = await _new_meeting_unless_near(
            session=session, workspace_id=workspace_id, person_id=person_id, account_id=account_id,
            starts_at=plan.meeting_at, external_uid=f"{DEBRIEF_MEETING_UID}{debrief_id}",
        )
    open_ids: Sequence[int | None] = ()
    if tactics_open is not False:
        open_ids = (
            await session.scalars(
                sa.select(col(SuggestedTactic.id))
                .where(
                    col(SuggestedTactic.person_id) == person_id,
                    col(SuggestedTactic.account_id) == account_id,
                    col(SuggestedTactic.verdict).is_(None),
                    col(SuggestedTactic.suggested_at) < now,
                )
                .order_by(col(SuggestedTactic.id))
            )
        ).all()
    await outbox.enqueue_many(session=session, rows=follow_up_rows(
        plan, person_id=person_id, debrief_id=debrief_id, account_id=account_id, meeting_id=meeting_id,
        open_tactics=open_ids,
    ))
    return meeting_id


async def _new_meeting_unless_near(
    *,
    session: AsyncSession,
    workspace_id: int,
    person_id: int,
    account_id: int,
    starts_at: datetime,
    external_uid: str,
) -> int | None:
    """Insert a debrief's next meeting in one statement, unless a live meeting of this person with
    this account is already known near that time (`meeting_near`); its id, or None."""
    conn = await session.connection()
    row = (await conn.execute(_NEW_MEETING_UNLESS_NEAR, {
        "workspace_id": workspace_id, "person_id": person_id, "account_id": account_id,
        "starts_at": starts_at, "ends_at": starts_at + DEFAULT_LENGTH, "source": "debrief",
        "external_uid": external_uid, "title": "", "cancelled": False, "created_at": utcnow(),
        "earliest": starts_at - SAME_MEETING, "latest": starts_at + SAME_MEETING,
    })).first()
    return None if row is None else int(row[0])


async def debriefed_since(*, session: AsyncSession, person_id: int, account_id: int, since: datetime) -> bool:
    found = await session.scalar(
        sa.select(col(Debrief.id))
        .where(
            col(Debrief.person_id) == person_id,
            col(Debrief.account_id) == account_id,
            col(Debrief.created_at) >= since,
        )
        .limit(1)
    )
    return found is not None


async def upcoming(*, session: AsyncSession, person_id: int, now: datetime, limit: int = 5) -> list[Meeting]:
    return list(
        (
            await session.scalars(
                sa.select(Meeting)
                .where(
                    col(Meeting.person_id) == person_id,
                    col(Meeting.cancelled).is_(False),
                    col(Meeting.starts_at) > now,
                )
                .order_by(col(Meeting.starts_at))
                .limit(limit)
            )
        ).all()
    )
