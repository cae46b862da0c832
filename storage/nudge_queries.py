"""What a batch of pre-meeting nudges or preparations reads, in a fixed handful of queries whatever
the batch size, and the tactics they suggest."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.chosen_tactics import ChosenTactic, chosen_for
from storage.engine import session_insert
from storage.meetings import MeetingView, load_meetings
from storage.models import Debrief, DebriefAnswer, Person
from storage.planning_models import CoachPreference, SuggestedTactic


@dataclass(frozen=True)
class TacticHistory:
    """One earlier suggestion to a rep, newest first in `NudgeBatch.history`."""

    tactic: str
    meeting_id: int
    verdict: str | None


@dataclass(frozen=True)
class TacticSuggestion:
    person_id: int
    account_id: int
    meeting_id: int
    tactic: str
    suggested_at: datetime


@dataclass
class NudgeBatch:
    """Everything the nudges of these people and meetings need, keyed for lookups."""

    people: dict[int, Person] = field(default_factory=dict)
    meetings: dict[int, MeetingView] = field(default_factory=dict)
    preferences: dict[int, CoachPreference] = field(default_factory=dict)
    history: dict[int, list[TacticHistory]] = field(default_factory=dict)  # per person, newest first
    last_debrief: dict[tuple[int, int], Debrief] = field(default_factory=dict)  # (person, account)
    # last debrief's id: point: (rating, note), for those last debriefs
    last_answers: dict[int, dict[str, tuple[str, str | None]]] = field(default_factory=dict)
    # person: debrief: point: rating, for each rep's last few debriefs
    recent_ratings: dict[int, dict[int, dict[str, str]]] = field(default_factory=dict)
    # meeting: the tactics already suggested for it, in suggestion order
    chosen_before: dict[int, list[str]] = field(default_factory=dict)
    # meeting: the counter-tactics the rep chose for it in its preparation, oldest first
    chosen: dict[int, list[ChosenTactic]] = field(default_factory=dict)


def _newest_first(partition: Any, created: Any, row_id: Any) -> sa.Label[int]:
    order = (created.desc(), row_id.desc())
    return sa.func.row_number().over(partition_by=partition, order_by=order).label("rank")


async def load_nudge_batch(
    *,
    session: AsyncSession,
    person_ids: Collection[int],
    meeting_ids: Collection[int],
    tactic_history: int,
    recent_debriefs: int,
) -> NudgeBatch:
    """Nine queries: the people, the meetings (account and invite), their preferences, each rep's
    last `tactic_history` suggestions, the last debrief per rep and meeting account and its answers,
    the ratings of each rep's last `recent_debriefs` debriefs, the tactics already suggested for
    these meetings, and those the rep chose for them."""
    batch = NudgeBatch()
    batch.people = {
        p.id: p
        for p in (await session.scalars(sa.select(Person).where(col(Person.id).in_(person_ids)))).all()
        if p.id is not None
    }
    batch.meetings = await load_meetings(session=session, meeting_ids=meeting_ids)
    batch.preferences = {
        p.person_id: p
        for p in (
            await session.scalars(
                sa.select(CoachPreference).where(col(CoachPreference.person_id).in_(person_ids))
            )
        ).all()
    }
    suggestion = SuggestedTactic
    rank = _newest_first(col(suggestion.person_id), col(suggestion.suggested_at), col(suggestion.id))
    inner = (
        sa.select(
            col(SuggestedTactic.person_id),
            col(SuggestedTactic.tactic),
            col(SuggestedTactic.meeting_id),
            col(SuggestedTactic.verdict),
            rank,
        )
        .where(col(SuggestedTactic.person_id).in_(person_ids))
        .subquery()
    )
    for h in (
        await session.execute(
            sa.select(inner).where(inner.c.rank <= tactic_history).order_by(inner.c.person_id, inner.c.rank)
        )
    ).all():
        batch.history.setdefault(h.person_id, []).append(TacticHistory(h.tactic, h.meeting_id, h.verdict))
    accounts = {v.meeting.account_id for v in batch.meetings.values()}
    per_account = (col(Debrief.person_id), col(Debrief.account_id))
    rank = _newest_first(per_account, col(Debrief.created_at), col(Debrief.id))
    inner = (
        sa.select(col(Debrief.id), rank)
        .where(col(Debrief.person_id).in_(person_ids), col(Debrief.account_id).in_(accounts))
        .subquery()
    )
    batch.last_debrief = {
        (d.person_id, d.account_id): d
        for d in (
            await session.scalars(
                sa.select(Debrief).join(inner, inner.c.id == col(Debrief.id)).where(inner.c.rank == 1)
            )
        ).all()
    }
    last_ids = [d.id for d in batch.last_debrief.values() if d.id is not None]
    if last_ids:
        for debrief_id, point, rating, note in (
            await session.execute(
                sa.select(
                    col(DebriefAnswer.debrief_id),
                    col(DebriefAnswer.point),
                    col(DebriefAnswer.rating),
                    col(DebriefAnswer.note),
                ).where(col(DebriefAnswer.debrief_id).in_(last_ids))
            )
        ).all():
            batch.last_answers.setdefault(debrief_id, {})[point] = (rating, note)
    rank = _newest_first(col(Debrief.person_id), col(Debrief.created_at), col(Debrief.id))
    inner = (
        sa.select(col(Debrief.id), col(Debrief.person_id), rank)
        .where(col(Debrief.person_id).in_(person_ids))
        .subquery()
    )
    for person_id, debrief_id, point, rating in (
        await session.execute(
            sa.select(
                inner.c.person_id,
                col(DebriefAnswer.debrief_id),
                col(DebriefAnswer.point),
                col(DebriefAnswer.rating),
            )
            .join(inner, inner.c.id == col(DebriefAnswer.debrief_id))
            .where(inner.c.rank <= recent_debriefs)
        )
    ).all():
        batch.recent_ratings.setdefault(person_id, {}).setdefault(debrief_id, {})[point] = rating
    for mid, tactic in (
        await session.execute(
            sa.select(col(SuggestedTactic.meeting_id), col(SuggestedTactic.tactic))
            .where(col(SuggestedTactic.meeting_id).in_(meeting_ids))
            .order_by(col(SuggestedTactic.id))
        )
    ).all():
        batch.chosen_before.setdefault(mid, []).append(tactic)
    batch.chosen = await chosen_for(session=session, meeting_ids=meeting_ids)
    return batch


async def record_suggestions(*, session: AsyncSession, suggestions: Sequence[TacticSuggestion]) -> None:
    """Store the tactics nudges suggested, in one statement; a meeting's tactic is stored once."""
    if not suggestions:
        return
    stmt = session_insert(session, SuggestedTactic).on_conflict_do_nothing(
        index_elements=["meeting_id", "tactic"]
    )
    await session.execute(
        stmt,
        [
            {"person_id": s.person_id, "account_id": s.account_id, "meeting_id": s.meeting_id,
             "tactic": s.tactic, "suggested_at": s.suggested_at}
            for s in suggestions
        ],
    )
