"""The won and lost deals read back from a workspace's CRM: stored per deal, claimed for a poll by
one replica per interval, and counted by the digest's per-deal win rate (`crm_conclusions`, a
storage.deals source)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.crm_models import CrmConnection, CrmDealOutcome, CrmStatus
from storage.engine import session_insert
from storage.models import Debrief, not_null, table_of
from storage.rated_debriefs import Ids, Moment

_CONNECTIONS, _DEBRIEFS = table_of(CrmConnection), table_of(Debrief)


# -- won and lost, read back -------------------------------------------------------------------------
@dataclass(frozen=True)
class DealOutcome:
    """One deal closed in the CRM, as the read-back found it (before it is stored)."""

    account_id: int
    person_id: int | None
    outcome: str  # won | lost
    closed_at: datetime
    external_deal_id: str


async def save_outcomes(
    *, session: AsyncSession, workspace_id: int, crm: str, outcomes: Sequence[DealOutcome]
) -> int:
    """Store deals closed in the CRM once each (a deal reopened and closed again is updated)."""
    if not outcomes:
        return 0
    stmt = session_insert(session, CrmDealOutcome)
    stmt = stmt.on_conflict_do_update(
        index_elements=["crm", "external_deal_id"],
        set_={
            "outcome": stmt.excluded.outcome,
            "closed_at": stmt.excluded.closed_at,
            "account_id": stmt.excluded.account_id,
            "person_id": stmt.excluded.person_id,
        },
    )
    await session.execute(
        stmt,
        [
            {
                "workspace_id": workspace_id,
                "crm": crm,
                "account_id": o.account_id,
                "person_id": o.person_id,
                "outcome": o.outcome,
                "closed_at": o.closed_at,
                "external_deal_id": o.external_deal_id,
            }
            for o in outcomes
        ],
    )
    return len(outcomes)


async def clear_outcome(*, session: AsyncSession, crm: str, external_deal_id: str) -> None:
    """A deal reopened in the CRM: it has no outcome any more."""
    await session.execute(
        sa.delete(CrmDealOutcome).where(
            col(CrmDealOutcome.crm) == crm, col(CrmDealOutcome.external_deal_id) == external_deal_id
        )
    )


async def set_outcomes_since(*, session: AsyncSession, connection_id: int, since: datetime) -> None:
    await session.execute(
        sa.update(CrmConnection).where(col(CrmConnection.id) == connection_id).values(outcomes_since=since)
    )


async def claim_due_polls(*, session: AsyncSession, now: datetime, polled_before: datetime) -> list[int]:
    """Connected connections not read back since `polled_before` (or never), stamped polled_at=now
    by one conditional UPDATE ... RETURNING (of replicas asking at once, one gets each): ids taken."""
    result = await session.execute(
        sa.update(CrmConnection)
        .where(
            col(CrmConnection.status) == CrmStatus.CONNECTED,
            sa.or_(col(CrmConnection.polled_at).is_(None), col(CrmConnection.polled_at) <= polled_before),
        )
        .values(polled_at=now)
        .returning(col(CrmConnection.id))
    )
    return sorted(not_null(i) for i in result.scalars().all())


async def mark_polled(*, session: AsyncSession, connection_id: int, now: datetime) -> None:
    """A read-back done outside the claim (`coach crm poll`): the interval starts again from now."""
    await session.execute(
        sa.update(CrmConnection).where(col(CrmConnection.id) == connection_id).values(polled_at=now)
    )


@dataclass(frozen=True)
class OutcomeRow:
    person_id: int | None
    account_id: int
    outcome: str  # won | lost
    closed_at: datetime


async def crm_outcomes_for(
    session: AsyncSession, person_ids: Sequence[int], since: datetime, until: datetime
) -> list[OutcomeRow]:
    """The CRM's won / lost deals of these reps closed in [since, until), oldest first (one
    indexed query: person_id, closed_at)."""
    if not person_ids:
        return []
    rows = await session.execute(
        sa.select(
            col(CrmDealOutcome.person_id),
            col(CrmDealOutcome.account_id),
            col(CrmDealOutcome.outcome),
            col(CrmDealOutcome.closed_at),
        )
        .where(
            col(CrmDealOutcome.person_id).in_(list(person_ids)),
            col(CrmDealOutcome.closed_at) >= since,
            col(CrmDealOutcome.closed_at) < until,
        )
        .order_by(col(CrmDealOutcome.closed_at), col(CrmDealOutcome.id))
    )
    return [OutcomeRow(p, int(a), str(o), c) for p, a, o, c in rows.all()]


async def delete_outcomes_before(*, session: AsyncSession, cutoff: datetime) -> int:
    """Retention: local copies of deals closed before `cutoff`."""
    result = await session.execute(sa.delete(CrmDealOutcome).where(col(CrmDealOutcome.closed_at) < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def crm_conclusions(team_ids: Ids, since: Moment, until: Moment) -> sa.Select[Any]:
    """The CRM's won and lost deals as deal conclusions (a storage.deals.DealSource): rows
    (person_id, account_id, at, outcome, debrief_id NULL) of these reps closed in [since, until),
    leaving out a deal whose account the same rep's own debrief concluded in that window (the
    debrief source counts it already)."""
    outcomes, debriefs = table_of(CrmDealOutcome), _DEBRIEFS
    reps = team_ids if isinstance(team_ids, sa.BindParameter) else list(team_ids)
    concluded = sa.exists().where(
        debriefs.c.person_id == outcomes.c.person_id,
        debriefs.c.account_id == outcomes.c.account_id,
        debriefs.c.outcome.in_(("closed", "lost")),
        debriefs.c.created_at >= since,
        debriefs.c.created_at < until,
    )
    return sa.select(
        outcomes.c.person_id.label("person_id"),
        outcomes.c.account_id.label("account_id"),
        outcomes.c.closed_at.label("at"),
        outcomes.c.outcome.label("outcome"),
        sa.cast(sa.null(), sa.Integer).label("debrief_id"),
    ).where(
        outcomes.c.person_id.in_(reps),
        outcomes.c.closed_at >= since,
        outcomes.c.closed_at < until,
        ~concluded,
    )
