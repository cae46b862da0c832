"""Workspaces and the people in them: found or created by their platform ids, read and updated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.engine import session_insert
from storage.errors import NotFound
from storage.models import Person, Workspace, utcnow


async def get_or_create_workspace(
    *, session: AsyncSession, platform: str, external_id: str, name: str = ""
) -> Workspace:
    stmt = (
        session_insert(session, Workspace)
        .values(platform=platform, external_id=external_id, name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
    )
    await session.execute(stmt)
    row = await session.scalar(
        sa.select(Workspace).where(
            col(Workspace.platform) == platform, col(Workspace.external_id) == external_id
        )
    )
    assert row is not None
    return row


async def get_or_create_person(
    *,
    session: AsyncSession,
    workspace_id: int,
    platform_user_id: str,
    display_name: str = "",
    email: str | None = None,
    role: str = "rep",
    timezone: str | None = None,
    locale: str | None = None,
) -> Person:
    stmt = (
        session_insert(session, Person)
        .values(
            workspace_id=workspace_id,
            platform_user_id=platform_user_id,
            display_name=display_name,
            email=email,
            role=role,
            timezone=timezone,
            locale=locale,
            reachable=True,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "platform_user_id"])
    )
    await session.execute(stmt)
    row = await session.scalar(
        sa.select(Person).where(
            col(Person.workspace_id) == workspace_id, col(Person.platform_user_id) == platform_user_id
        )
    )
    assert row is not None
    return row


async def get_person(*, session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("no such person", person_id=person_id)
    return person


async def update_person(*, session: AsyncSession, person_id: int, **fields: Any) -> None:
    allowed = {"display_name", "email", "role", "timezone", "locale", "manager_id", "reachable"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    await session.execute(sa.update(Person).where(col(Person.id) == person_id).values(**fields))



async def people_with_manager_names(
    *, session: AsyncSession, person_ids: Sequence[int]
) -> dict[int, tuple[Person, str | None]]:
    """These people, each with their manager's name (None: no manager), in one query."""
    if not person_ids:
        return {}
    manager = aliased(Person)
    rows = await session.execute(
        sa.select(Person, col(manager.id), col(manager.display_name), col(manager.email))
        .outerjoin(manager, col(manager.id) == col(Person.manager_id))
        .where(col(Person.id).in_(set(person_ids)))
    )
    return {
        p.id: (p, (name or email or "") if manager_id is not None else None)
        for p, manager_id, name, email in rows.all()
        if p.id is not None
    }
