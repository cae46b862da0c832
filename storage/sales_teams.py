"""Teams of people: a manager's team name and where its optional channel digest goes.

Who reports to whom lives in Person.manager_id; this table only names the team (from app.yaml or
chat) and records the optional channel for the aggregate-only channel digest.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.engine import session_insert
from storage.models import Debrief, Person, UTCDateTime, table_of, utcnow

# The digest's look-ups on debrief (migration 0005): customer meetings without a debrief find
# debriefs by meeting; next steps due in the period are a range per rep.
_debrief = table_of(Debrief)
ix_debrief_meeting_id = sa.Index("ix_debrief_meeting_id", _debrief.c.meeting_id)
ix_debrief_person_due = sa.Index("ix_debrief_person_due", _debrief.c.person_id, _debrief.c.next_step_due)


class Team(SQLModel, table=True):
    """One manager's team in one workspace."""

    __table_args__ = (sa.UniqueConstraint("manager_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    manager_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    name: str = Field(default="", max_length=200)
    channel_id: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


# -- queries (keyword-only, on the caller's AsyncSession) ------------------------------------------
MAX_CHAIN = 6  # how far up the manager line "a rep's own managers" reaches


async def find_people(*, session: AsyncSession, workspace_id: int, who: str) -> list[Person]:
    """People in this workspace (and only this one) named by e-mail, platform user id or name.

    An exact e-mail, user id or full name wins; otherwise everyone whose first name matches.
    """
    key = who.strip().casefold()
    if not key:
        return []
    first = key.split()[0]
    rows = list(
        await session.scalars(
            sa.select(Person)
            .where(
                col(Person.workspace_id) == workspace_id,
                sa.or_(
                    sa.func.lower(col(Person.email)) == key,
                    col(Person.platform_user_id) == who.strip(),
                    sa.func.lower(col(Person.display_name)).like(
                        f"{first.replace('%', '').replace('_', '')}%"
                    ),
                ),
            )
            .order_by(col(Person.id))
        )
    )
    exact = [
        p
        for p in rows
        if (p.email or "").casefold() == key
        or p.platform_user_id == who.strip()
        or (p.display_name or "").casefold() == key
    ]
    if exact:
        return exact
    return [p for p in rows if (p.display_name or "").casefold().split()[:1] == [first]]


async def manager_chain(*, session: AsyncSession, person: Person) -> list[int]:
    """The ids of this person's managers, direct manager first, within the person's workspace."""
    chain: list[int] = []
    current = person
    while current.manager_id is not None and len(chain) < MAX_CHAIN:
        boss = await session.get(Person, current.manager_id)
        if boss is None or boss.workspace_id != person.workspace_id or boss.id in chain:
            break
        assert boss.id is not None
        chain.append(boss.id)
        current = boss
    return chain


async def count_reps(*, session: AsyncSession, manager_id: int) -> int:
    return int(
        await session.scalar(
            sa.select(sa.func.count()).select_from(Person).where(col(Person.manager_id) == manager_id)
        )
        or 0
    )


async def set_manager(*, session: AsyncSession, person_id: int, manager_id: int | None) -> None:
    await session.execute(sa.update(Person).where(col(Person.id) == person_id).values(manager_id=manager_id))


async def upsert_team(
    *, session: AsyncSession, workspace_id: int, manager_id: int, name: str, channel_id: str | None = None
) -> None:
    stmt = session_insert(session, Team).values(
        workspace_id=workspace_id,
        manager_id=manager_id,
        name=name,
        channel_id=channel_id,
        created_at=utcnow(),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["manager_id"],
        set_={"name": stmt.excluded.name, "channel_id": stmt.excluded.channel_id},
    )
    await session.execute(stmt)
