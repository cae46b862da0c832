"""What a new debrief plans (its next meeting and the outbox rows around it), described once for
both writers: statement by statement here, in one statement in storage.filing_at_once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import outbox
from storage.meetings import new_meeting_unless_near
from storage.planning_models import SuggestedTactic

MEETING_HEAD, DEBRIEF_HEAD = "m", "d"  # outbox keys: m<meeting id>:<tail>, d<debrief id>:<tail>
DEBRIEF_MEETING_UID = "debrief:"  # a debrief's next meeting: external_uid debrief:<debrief id>


@dataclass(frozen=True)
class PlannedMessage:
    """An outbox row a new debrief plans; its key is `<head><id>:<tail>` (see RowShape)."""

    kind: str
    tail: str
    due_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class FollowUps:
    """What a new debrief sets in motion, planned before the database has given anything an id.

    `meeting_at` is the next meeting (added unless a live one with the same account is known within
    `near` of it); `meeting_messages` are planned around it. `follow_through` checks the promised
    next step of `follow_through_on`; `tactic_feedback` is added only when tactics suggested on this
    account still await the rep's verdict. `tips` is the debrief's own coaching, when the channel
    sends it after its answer (delivered once, and retried, through the outbox).
    """

    meeting_at: datetime | None = None
    meeting_ends_at: datetime | None = None
    near: timedelta = timedelta(0)
    meeting_messages: tuple[PlannedMessage, ...] = ()
    follow_through: PlannedMessage | None = None
    follow_through_on: date | None = None
    tactic_feedback: PlannedMessage | None = None
    tips: PlannedMessage | None = None  # the coaching sent after the channel's answer (Slack, Teams)


@dataclass(frozen=True)
class RowShape:
    """One kind of planned row: the id heading its key (`head` + that id), and its payload as
    (payload key, value name) pairs; each writer supplies the named values its own way."""

    head: str
    owner: str  # the value name of the id in the key
    payload: tuple[tuple[str, str], ...]

    def key(self, values: Mapping[str, Any], tail: str) -> str:
        return f"{self.head}{values[self.owner]}:{tail}"

    def payload_of(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {key: values[name] for key, name in self.payload}


# Value names: meeting_id, meeting_iso (its start, ISO 8601), debrief_id, account_id,
# step_due (the promised date, ISO 8601), open_tactics (ids of suggestions awaiting a verdict).
AROUND_MEETING = RowShape(
    MEETING_HEAD, "meeting_id", (("meeting_id", "meeting_id"), ("starts_at", "meeting_iso"))
)
FOLLOW_THROUGH = RowShape(
    DEBRIEF_HEAD,
    "debrief_id",
    (("debrief_id", "debrief_id"), ("account_id", "account_id"), ("due", "step_due")),
)
TACTIC_FEEDBACK = RowShape(
    DEBRIEF_HEAD, "debrief_id", (("account_id", "account_id"), ("suggested", "open_tactics"))
)
TIPS = RowShape(DEBRIEF_HEAD, "debrief_id", (("debrief_id", "debrief_id"),))  # rendered at send time


def _row(
    shape: RowShape, message: PlannedMessage, person_id: int, values: Mapping[str, Any]
) -> outbox.Planned:
    return outbox.Planned(
        shape.key(values, message.tail), message.kind, person_id, message.due_at, shape.payload_of(values),
        message.expires_at,
    )


def meeting_rows(
    meeting_id: int, person_id: int, starts_at: datetime, messages: Sequence[PlannedMessage]
) -> list[outbox.Planned]:
    """Messages planned around a meeting, as outbox rows keyed and addressed to that meeting."""
    values = {"meeting_id": meeting_id, "meeting_iso": starts_at.isoformat()}
    return [_row(AROUND_MEETING, m, person_id, values) for m in messages]


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
        rows += meeting_rows(meeting_id, person_id, plan.meeting_at, plan.meeting_messages)
    values: dict[str, Any] = {"debrief_id": debrief_id, "account_id": account_id}
    if plan.follow_through is not None and plan.follow_through_on is not None:
        step = {**values, "step_due": plan.follow_through_on.isoformat()}
        rows.append(_row(FOLLOW_THROUGH, plan.follow_through, person_id, step))
    if open_tactics and plan.tactic_feedback is not None:
        asked = {**values, "open_tactics": list(open_tactics)}
        rows.append(_row(TACTIC_FEEDBACK, plan.tactic_feedback, person_id, asked))
    if plan.tips is not None:
        rows.append(_row(TIPS, plan.tips, person_id, values))
    return rows


async def write_follow_ups(
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
    """Carry out a new debrief's plan statement by statement; returns the id of the meeting it
    added, if it added one.

    `tactics_open` is whether suggested tactics on this account still await a verdict, when the
    caller already knows (storage.debrief_insert.insert_debrief returns it with the insert); None
    asks the database. A debrief with a next meeting costs two statements: the meeting (unless one
    is already known near that time), then every message planned, in one executemany.
    """
    meeting_id: int | None = None
    if plan.meeting_at is not None:
        meeting_id = await new_meeting_unless_near(
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

