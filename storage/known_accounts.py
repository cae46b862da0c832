"""The accounts one person knows: those they debriefed or have a live meeting with, most recently
used first. Accounts are a workspace's, but a person is only ever offered their own (the web chat's
visitors all share one workspace)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.accounts import account_key
from storage.models import Account, Debrief, Meeting


async def rep_accounts(
    *, session: AsyncSession, person_id: int, typed: str = "", limit: int = 6
) -> list[str]:
    """Names of this person's accounts with a word that starts with `typed` (case and spacing
    ignored), those whose name starts with it first, then by their last debrief or meeting."""
    used = sa.union_all(
        sa.select(col(Debrief.account_id).label("account_id"), col(Debrief.created_at).label("at"))
        .where(col(Debrief.person_id) == person_id),
        sa.select(col(Meeting.account_id).label("account_id"), col(Meeting.starts_at).label("at"))
        .where(col(Meeting.person_id) == person_id, col(Meeting.cancelled).is_(False)),
    ).subquery()
    key = account_key(typed)
    stmt = (
        sa.select(col(Account.name))
        .join(used, used.c.account_id == col(Account.id))
        .group_by(col(Account.id), col(Account.name), col(Account.name_key))
    )
    if key:
        stmt = stmt.where(sa.or_(col(Account.name_key).startswith(key, autoescape=True),
                                 col(Account.name_key).contains(f" {key}", autoescape=True)))
        starts = sa.case((col(Account.name_key).startswith(key, autoescape=True), 0), else_=1)
        stmt = stmt.order_by(starts)
    stmt = stmt.order_by(sa.func.max(used.c.at).desc(), col(Account.name)).limit(limit)
    return list((await session.scalars(stmt)).all())
