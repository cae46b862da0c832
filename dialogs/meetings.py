"""Customer meetings and the messages planned around them (nudge, debrief prompt, reminder).

A meeting's outbox rows share the dedup-key prefix `m<id>:` and carry its start time in the key,
so moving a meeting cancels the old rows and plans new ones, and re-importing an unchanged calendar
changes nothing (a nudge the rep skipped stays skipped).
"""

from __future__ import annotations

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
from storage.models import Debrief, Meeting, Person, not_null, utcnow
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
    return f"m{meeting_id}:"


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
    assert meeting.id is not None
    prefix = meeting_prefix(meeting.id)
    if meeting.cancelled:
        await outbox.cancel_prefix(session=session, prefix=prefix, reason="meeting cancelled")
        return []
    stamp = _stamp(meeting.starts_at)
    ends_at = meeting.ends_at or meeting.starts_at + DEFAULT_LENGTH
    payload: dict[str, Any] = {"meeting_id": meeting.id, "starts_at": meeting.starts_at.isoformat()}
    planned: list[tuple[str, str, datetime, datetime]] = []
    if meeting.starts_at > now:
        due = max(nudge_due(meeting.starts_at, tz=tz, policy=policy), now)
        planned.append((f"{prefix}{NUDGE}:{stamp}", NUDGE, due, meeting.starts_at))
    if ends_at > now - PROMPT_PLANNED_AFTER:  # a calendar's old meetings get no late prompts
        p_due = max(prompt_due(ends_at, tz=tz, policy=policy), now)
        planned.append((f"{prefix}{PROMPT}:{stamp}", PROMPT, p_due, p_due + PROMPT_USEFUL_FOR))
        r_due = reminder_due(p_due, tz=tz, policy=policy)
        planned.append((f"{prefix}{REMINDER}:{stamp}", REMINDER, r_due, r_due + PROMPT_USEFUL_FOR))
    keys = [key for key, *_ in planned]
    await outbox.cancel_prefix(session=session, prefix=prefix, keep=keys, reason="meeting moved")
    for key, kind, due, expires in planned:
        await outbox.enqueue(
            session=session,
            dedup_key=key,
            kind=kind,
            person_id=meeting.person_id,
            due_at=due,
            expires_at=expires,
            payload=payload,
        )
    return keys


async def on_debrief_stored(
    *,
    session: AsyncSession,
    person_id: int,
    tz: str,
    debrief_id: int,
    account_id: int,
    fields: dict[str, Any],
    policy: SchedulePolicy,
    now: datetime,
    tactics_open: bool | None = None,
) -> Meeting | None:
    """What a new debrief sets in motion: the next meeting (and its nudge), the follow-through
    check on the promised date, and the question whether the last suggested tactics worked.

    `tactics_open` is whether suggested tactics on this account still await a verdict, when the
    caller already knows (storage.repository.file_debrief returns it with the insert); None asks
    the database. With no next meeting, no due date and no open tactics this reads nothing.
    """
    meeting: Meeting | None = None
    next_at = fields.get("next_meeting_at")
    if isinstance(next_at, datetime) and next_at > now:
        meeting = await add_meeting(
            session=session,
            person_id=person_id,
            account_id=account_id,
            starts_at=next_at,
            source="debrief",
            external_uid=f"debrief:{debrief_id}",
            tz=tz,
            policy=policy,
            now=now,
        )
    step_due = fields.get("next_step_due")
    if isinstance(step_due, date) and (fields.get("next_step_what") or fields.get("next_step_who")):
        await outbox.enqueue(
            session=session,
            dedup_key=f"d{debrief_id}:{FOLLOW_THROUGH}",
            kind=FOLLOW_THROUGH,
            person_id=person_id,
            due_at=follow_through_due(step_due, tz=tz, policy=policy),
            expires_at=None,
            payload={"debrief_id": debrief_id, "account_id": account_id, "due": step_due.isoformat()},
        )
    if tactics_open is False:
        return meeting
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
    if open_ids:
        await outbox.enqueue(
            session=session,
            dedup_key=f"d{debrief_id}:{TACTIC_FEEDBACK}",
            kind=TACTIC_FEEDBACK,
            person_id=person_id,
            due_at=now,
            expires_at=now + timedelta(days=7),
            payload={"account_id": account_id, "suggested": list(open_ids)},
        )
    return meeting


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
