"""Promised next steps: whether one was followed up, and the ones missed (read by the digest)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.engine import session_insert
from storage.models import Debrief, Meeting
from storage.planning_models import MissedNextStep


async def followed_up(*, session: AsyncSession, debrief: Debrief, until: datetime) -> bool:
    """Whether the rep debriefed this account again after this debrief, or met it before `until`."""
    newer = await session.scalar(
        sa.select(col(Debrief.id))
        .where(
            col(Debrief.person_id) == debrief.person_id,
            col(Debrief.account_id) == debrief.account_id,
            col(Debrief.created_at) > debrief.created_at,
        )
        .limit(1)
    )
    met = await session.scalar(
        sa.select(col(Meeting.id))
        .where(
            col(Meeting.person_id) == debrief.person_id,
            col(Meeting.account_id) == debrief.account_id,
            col(Meeting.cancelled).is_(False),
            col(Meeting.starts_at) > debrief.created_at,
            col(Meeting.starts_at) < until,
        )
        .limit(1)
    )
    return newer is not None or met is not None


async def record_missed(
    *, session: AsyncSession, debrief: Debrief, due: date, recorded_at: datetime
) -> None:
    """Record the debrief's next step as missed; once per debrief, whoever records it first."""
    await session.execute(
        session_insert(session, MissedNextStep)
        .values(
            debrief_id=debrief.id,
            person_id=debrief.person_id,
            account_id=debrief.account_id,
            due=due,
            recorded_at=recorded_at,
        )
        .on_conflict_do_nothing(index_elements=["debrief_id"])
    )
