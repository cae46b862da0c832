"""The counter-tactics a rep chose for a coming meeting in its preparation message (a tactic from
the library or their own words), and the meetings their preparations were sent for."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.models import Outbox, OutboxStatus, UTCDateTime, utcnow

CHOSEN_PER_MEETING = 2  # the method: the rep prepares two


class ChosenTactic(SQLModel, table=True):
    """One of the (at most two) counter-tactics a rep chose for a meeting: `tactic` is a library
    key (prompts/<locale>/tactics.yaml), or None with the rep's own words in `own_text`."""

    __table_args__ = (sa.Index("ix_chosentactic_meeting", "meeting_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    tactic: str | None = Field(default=None, max_length=64)
    own_text: str | None = Field(default=None, sa_type=sa.Text)
    chosen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


async def choose(
    *,
    session: AsyncSession,
    person_id: int,
    meeting_id: int,
    now: datetime,
    tactic: str | None = None,
    own_text: str | None = None,
) -> tuple[list[ChosenTactic], bool]:
    """Add a choice for the meeting, keeping the newest two (a third replaces the oldest); the
    same library tactic twice is one choice. Returns (the choices, oldest first; whether added)."""
    chosen = await chosen_for(session=session, meeting_ids=[meeting_id])
    mine = chosen.get(meeting_id, [])
    if tactic is not None and any(c.tactic == tactic for c in mine):
        return mine, False
    session.add(
        ChosenTactic(person_id=person_id, meeting_id=meeting_id, tactic=tactic, own_text=own_text,
                     chosen_at=now)
    )
    await session.flush()
    mine = (await chosen_for(session=session, meeting_ids=[meeting_id])).get(meeting_id, [])
    if len(mine) > CHOSEN_PER_MEETING:
        old = [c.id for c in mine[:-CHOSEN_PER_MEETING]]
        await session.execute(sa.delete(ChosenTactic).where(col(ChosenTactic.id).in_(old)))
        mine = mine[-CHOSEN_PER_MEETING:]
    return mine, True


async def chosen_for(
    *, session: AsyncSession, meeting_ids: Collection[int]
) -> dict[int, list[ChosenTactic]]:
    """The choices made for these meetings, by meeting, oldest first, in one query."""
    out: dict[int, list[ChosenTactic]] = {}
    if not meeting_ids:
        return out
    rows = await session.scalars(
        sa.select(ChosenTactic)
        .where(col(ChosenTactic.meeting_id).in_(meeting_ids))
        .order_by(col(ChosenTactic.meeting_id), col(ChosenTactic.id))
    )
    for row in rows.all():
        out.setdefault(row.meeting_id, []).append(row)
    return out


async def prepared_meetings(*, session: AsyncSession, person_id: int, kind: str, limit: int = 5) -> list[int]:
    """The meetings of this person's last `limit` sent preparations (outbox rows of `kind`),
    the most recently sent first."""
    payloads = await session.scalars(
        sa.select(col(Outbox.payload))
        .where(
            col(Outbox.person_id) == person_id,
            col(Outbox.kind) == kind,
            col(Outbox.status) == OutboxStatus.SENT,
        )
        .order_by(col(Outbox.sent_at).desc(), col(Outbox.id).desc())
        .limit(limit)
    )
    ids: list[int] = []
    for payload in payloads.all():
        meeting_id = payload.get("meeting_id") if isinstance(payload, dict) else None
        if isinstance(meeting_id, int) and meeting_id not in ids:
            ids.append(meeting_id)
    return ids
