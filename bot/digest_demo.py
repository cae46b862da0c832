"""The demo manager's digest material (called from bot.demo.seed_demo): a team name and customer
meetings nobody debriefed, so Maartje's digest has something to point at. Idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import sales_teams
from storage.accounts import get_or_create_account
from storage.engine import session_insert
from storage.models import Meeting, Person

TEAM_NAME = "Benelux"
# (rep user id, account, days ago): meetings in the last week without a debrief since
UNDEBRIEFED = (("demo:rep:2", "Veldhuis Zorg", 1), ("demo:rep:3", "Kappa Systems", 3))


async def seed_digest_demo(
    *, session: AsyncSession, workspace_id: int, manager_id: int | None, now: datetime
) -> None:
    assert manager_id is not None
    await sales_teams.upsert_team(
        session=session, workspace_id=workspace_id, manager_id=manager_id, name=TEAM_NAME
    )
    for user_id, account, days in UNDEBRIEFED:
        rep_id = await session.scalar(
            sa.select(col(Person.id)).where(
                col(Person.workspace_id) == workspace_id, col(Person.platform_user_id) == user_id
            )
        )
        if rep_id is None:
            continue
        account_id = await get_or_create_account(
            session=session, workspace_id=workspace_id, name=account
        )
        starts = (now - timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
        await session.execute(
            session_insert(session, Meeting)
            .values(
                workspace_id=workspace_id,
                person_id=rep_id,
                account_id=account_id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                source="demo",
                external_uid=f"demo:{user_id}:{account}",
                title=f"Meeting with {account}",
                cancelled=False,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["person_id", "source", "external_uid"])
        )
