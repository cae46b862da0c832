"""Customer accounts of a workspace, known by their name with case and spacing ignored."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.engine import session_insert
from storage.models import Account, Debrief, Meeting, not_null, table_of, utcnow


def account_key(name: str) -> str:
    return " ".join(name.split()).casefold()


async def get_or_create_account(*, session: AsyncSession, workspace_id: int, name: str) -> int:
    """The id of the workspace's account with this name (case and spacing ignored).

    A read first: almost every debrief names a known account, and an upsert would write (and on
    PostgreSQL lock) that account row in every submission. The upsert settles the race when two
    requests create the same new account at once.
    """
    name = " ".join(name.split())
    key = account_key(name)
    conn = await session.connection()
    found = (await conn.execute(_ACCOUNT_ID, {"workspace_id": workspace_id, "name_key": key})).scalar()
    if found is not None:
        return int(found)
    stmt = (
        session_insert(session, Account)
        .values(workspace_id=workspace_id, name=name, name_key=key, created_at=utcnow())
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace_id", "name_key"], set_={"name_key": stmt.excluded.name_key}
    ).returning(col(Account.id))
    return int((await session.execute(stmt)).scalar_one())


_ACCOUNTS = table_of(Account)
_ACCOUNT_ID = sa.select(_ACCOUNTS.c.id).where(
    _ACCOUNTS.c.workspace_id == sa.bindparam("workspace_id"),
    _ACCOUNTS.c.name_key == sa.bindparam("name_key"),
)


async def account_names(*, session: AsyncSession, account_ids: Sequence[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    rows = await session.execute(
        sa.select(col(Account.id), col(Account.name)).where(col(Account.id).in_(set(account_ids)))
    )
    return {not_null(i): n for i, n in rows.all()}


async def account_name(*, session: AsyncSession, account_id: int) -> str | None:
    return await session.scalar(sa.select(col(Account.name)).where(col(Account.id) == account_id))


async def recent_account_names(*, session: AsyncSession, person_id: int, limit: int = 100) -> list[str]:
    """The names of the accounts this person debriefed or has meetings with, most recent first.

    Two index reads (ix_debrief_person_created, ix_meeting_person_starts) grouped by account; the
    limit keeps the answer to the accounts a rep is working on, however long their history.
    """
    used = sa.union_all(
        sa.select(col(Debrief.account_id).label("account_id"), col(Debrief.created_at).label("at"))
        .where(col(Debrief.person_id) == person_id),
        sa.select(col(Meeting.account_id).label("account_id"), col(Meeting.starts_at).label("at"))
        .where(col(Meeting.person_id) == person_id, sa.not_(col(Meeting.cancelled))),
    ).subquery()
    latest = sa.func.max(used.c.at)
    rows = await session.execute(
        sa.select(col(Account.name))
        .join(used, used.c.account_id == col(Account.id))
        .group_by(col(Account.id), col(Account.name))
        .order_by(latest.desc(), col(Account.id))
        .limit(limit)
    )
    return [str(name) for name in rows.scalars().all()]
