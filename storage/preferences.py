"""A rep's pause and nudge switch (coachpreference), and the tactic verdicts that steer rotation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.engine import session_insert
from storage.models import utcnow
from storage.planning_models import CoachPreference, SuggestedTactic


async def get_preference(*, session: AsyncSession, person_id: int) -> CoachPreference:
    found = await session.get(CoachPreference, person_id)
    return found if found is not None else CoachPreference(person_id=person_id)


async def set_preference(*, session: AsyncSession, person_id: int, **values: object) -> None:
    """Upsert paused_until and/or nudges_off."""
    allowed = {"paused_until", "nudges_off"}
    if set(values) - allowed:
        raise ValueError(f"cannot set {sorted(set(values) - allowed)}")
    row = {"person_id": person_id, "paused_until": None, "nudges_off": False, "updated_at": utcnow()}
    stmt = session_insert(session, CoachPreference).values(**{**row, **values})
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["person_id"], set_={**values, "updated_at": utcnow()})
    )


def is_paused(pref: CoachPreference, today: date) -> bool:
    """Paused through the day before `paused_until` ("pause until 4 January": back on the 4th)."""
    return pref.paused_until is not None and today < pref.paused_until


async def tactic_history(*, session: AsyncSession, person_id: int) -> list[SuggestedTactic]:
    return list(
        (
            await session.scalars(
                sa.select(SuggestedTactic)
                .where(col(SuggestedTactic.person_id) == person_id)
                .order_by(col(SuggestedTactic.suggested_at).desc(), col(SuggestedTactic.id).desc())
                .limit(200)
            )
        ).all()
    )


async def record_suggestions(
    *,
    session: AsyncSession,
    person_id: int,
    account_id: int,
    meeting_id: int,
    tactics: Sequence[str],
    now: datetime,
) -> None:
    for tactic in tactics:
        stmt = session_insert(session, SuggestedTactic).values(
            person_id=person_id, account_id=account_id, meeting_id=meeting_id, tactic=tactic, suggested_at=now
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["meeting_id", "tactic"]))


async def record_verdict(
    *, session: AsyncSession, person_id: int, suggestion_id: int, verdict: str, now: datetime
) -> SuggestedTactic | None:
    row = await session.get(SuggestedTactic, suggestion_id)
    if row is None or row.person_id != person_id:
        return None
    row.verdict = verdict
    row.answered_at = now
    await session.flush()
    return row


async def awaiting_verdict(
    *, session: AsyncSession, person_id: int, suggestion_ids: Sequence[int]
) -> list[SuggestedTactic]:
    """Those of these suggestions to this person that still await a verdict, in suggestion order."""
    return list(
        (
            await session.scalars(
                sa.select(SuggestedTactic)
                .where(
                    col(SuggestedTactic.id).in_(suggestion_ids),
                    col(SuggestedTactic.person_id) == person_id,
                    col(SuggestedTactic.verdict).is_(None),
                )
                .order_by(col(SuggestedTactic.id))
            )
        ).all()
    )
