"""Customer meetings and the messages planned around them (preparation, nudge, debrief prompt,
reminder).

A meeting's outbox rows share the dedup-key prefix `m<id>:` and carry its start time in the key,
so moving a meeting cancels the old rows and plans new ones, and re-importing an unchanged calendar
changes nothing (a nudge the rep skipped stays skipped).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.timing import (
    SchedulePolicy,
    follow_through_due,
    nudge_due,
    prepare_due,
    prompt_due,
    reminder_due,
)
from storage import outbox
from storage.errors import NotFound
from storage.follow_ups import MEETING_HEAD, FollowUps, PlannedMessage, meeting_rows
from storage.meetings import DEFAULT_LENGTH, SAME_MEETING, meeting_near, upsert_meeting
from storage.models import Meeting, Person, not_null

NUDGE, PROMPT, REMINDER = "nudge", "debrief_prompt", "debrief_reminder"
PREPARE = "prepare"  # a working day or two before: the preparation and the rep's two tactics
FOLLOW_THROUGH, TACTIC_FEEDBACK = "follow_through", "tactic_feedback"
PROMPT_USEFUL_FOR = timedelta(days=2)
PROMPT_PLANNED_AFTER = timedelta(hours=12)


def meeting_prefix(meeting_id: int) -> str:
    return f"{MEETING_HEAD}{meeting_id}:"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%MZ")


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
    """(Re)plan the preparation, the nudge, the debrief prompt and the reminder of one meeting;
    returns the keys."""
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
    """The preparation and the nudge before a live meeting, the debrief prompt after it and the
    prompt's reminder."""
    messages = meeting_messages(starts_at=starts_at, ends_at=ends_at, tz=tz, policy=policy, now=now)
    return meeting_rows(meeting_id, person_id, starts_at, messages)


def meeting_messages(
    *, starts_at: datetime, ends_at: datetime | None, tz: str, policy: SchedulePolicy, now: datetime
) -> list[PlannedMessage]:
    """`planned_messages` before the meeting has an id: keyed `<kind>:<start>` after its prefix."""
    stamp = _stamp(starts_at)
    ends_at = ends_at or starts_at + DEFAULT_LENGTH
    planned: list[PlannedMessage] = []
    if starts_at > now:
        prepare_at = prepare_due(starts_at, tz=tz, policy=policy, now=now)
        if prepare_at is not None:
            planned.append(PlannedMessage(PREPARE, f"{PREPARE}:{stamp}", prepare_at, starts_at))
        due = max(nudge_due(starts_at, tz=tz, policy=policy), now)
        planned.append(PlannedMessage(NUDGE, f"{NUDGE}:{stamp}", due, starts_at))
    if ends_at > now - PROMPT_PLANNED_AFTER:  # a calendar's old meetings get no late prompts
        p_due = max(prompt_due(ends_at, tz=tz, policy=policy), now)
        planned.append(PlannedMessage(PROMPT, f"{PROMPT}:{stamp}", p_due, p_due + PROMPT_USEFUL_FOR))
        r_due = reminder_due(p_due, tz=tz, policy=policy)
        planned.append(PlannedMessage(REMINDER, f"{REMINDER}:{stamp}", r_due, r_due + PROMPT_USEFUL_FOR))
    return planned


def plan_follow_ups(fields: dict[str, Any], *, tz: str, policy: SchedulePolicy, now: datetime) -> FollowUps:
    """What a new debrief sets in motion, in the rep's timezone: its next meeting with the
    preparation, nudge and prompts around it, the follow-through check on the promised date, and
    the question whether the tactics last suggested on this account worked (asked only if some
    await a verdict)."""
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
