"""Who is who: people by platform identity, e-mail or id for channels and operator commands,
their reachability and profile sync, and the managers whose digests the scheduler plans."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.models import Person, Platform, Workspace, not_null


@dataclass(frozen=True)
class PersonRow:
    """A person's id and the workspace they belong to."""

    id: int
    workspace_id: int


@dataclass(frozen=True)
class Visitor:
    """A web-chat visitor's person id and stored language."""

    id: int
    locale: str | None


@dataclass(frozen=True)
class ManagerZone:
    """A manager with at least one rep, and the timezone their digest moment is read in."""

    id: int
    timezone: str | None


# -- look-ups ------------------------------------------------------------------------------------
async def person_by_id(*, session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def people_by_email_or_user_id(*, session: AsyncSession, who: str) -> list[PersonRow]:
    """Everyone, in any workspace, whose e-mail (case ignored) or platform user id is `who`."""
    rows = await session.execute(
        sa.select(col(Person.id), col(Person.workspace_id)).where(
            sa.or_(sa.func.lower(col(Person.email)) == who.casefold(), col(Person.platform_user_id) == who)
        )
    )
    return [PersonRow(not_null(pid), int(ws)) for pid, ws in rows.all()]


async def first_person_by_email(*, session: AsyncSession, email: str) -> Person | None:
    """The oldest person with this e-mail address (case and surrounding spaces ignored)."""
    return await session.scalar(
        sa.select(Person)
        .where(sa.func.lower(col(Person.email)) == email.strip().lower())
        .order_by(col(Person.id))
        .limit(1)
    )


async def teams_person(*, session: AsyncSession, who: str) -> Person | None:
    """A Teams person by id (all digits), else by e-mail (case ignored) or AAD object id."""
    query = sa.select(Person).join(Workspace, col(Workspace.id) == col(Person.workspace_id)).where(
        col(Workspace.platform) == "teams"
    )
    match = col(Person.id) == int(who) if who.isdigit() else sa.or_(
        sa.func.lower(col(Person.email)) == who.lower(), col(Person.platform_user_id) == who
    )
    return await session.scalar(query.where(match).limit(1))


async def slack_person(*, session: AsyncSession, team_id: str, user_id: str) -> Person | None:
    return await session.scalar(
        sa.select(Person)
        .join(Workspace, col(Workspace.id) == col(Person.workspace_id))
        .where(
            col(Workspace.platform) == Platform.SLACK,
            col(Workspace.external_id) == team_id,
            col(Person.platform_user_id) == user_id,
        )
    )


async def person_id_in_workspace(
    *, session: AsyncSession, workspace_id: int, platform_user_id: str
) -> int | None:
    found = await session.scalar(
        sa.select(col(Person.id)).where(
            col(Person.workspace_id) == workspace_id, col(Person.platform_user_id) == platform_user_id
        )
    )
    return None if found is None else int(found)


_WEB_VISITOR = (
    sa.select(col(Person.id), col(Person.locale))
    .join(Workspace, col(Workspace.id) == col(Person.workspace_id))
    .where(
        col(Workspace.platform) == Platform.WEB.value,
        col(Workspace.external_id) == sa.bindparam("workspace"),
        col(Person.platform_user_id) == sa.bindparam("user_id"),
    )
)


async def web_visitor(*, session: AsyncSession, workspace: str, user_id: str) -> Visitor | None:
    """The web-chat person with this user id in the web workspace `workspace` (one prepared read)."""
    row = (await session.execute(_WEB_VISITOR, {"workspace": workspace, "user_id": user_id})).first()
    return None if row is None else Visitor(not_null(row[0]), row[1])


async def workspace_external_id(*, session: AsyncSession, workspace_id: int) -> str | None:
    """The platform's id of a workspace (a Slack team id, a Teams tenant id)."""
    return await session.scalar(
        sa.select(col(Workspace.external_id)).where(col(Workspace.id) == workspace_id)
    )


async def people_on_platforms(
    *, session: AsyncSession, emails: Collection[str], platform_user_ids: Collection[str]
) -> list[tuple[Person, str]]:
    """(person, workspace platform) for everyone with one of these e-mails (lower-case) or user ids."""
    rows = await session.execute(
        sa.select(Person, col(Workspace.platform))
        .join(Workspace, col(Workspace.id) == col(Person.workspace_id))
        .where(
            sa.or_(
                sa.func.lower(col(Person.email)).in_(emails),
                col(Person.platform_user_id).in_(platform_user_ids),
            )
        )
    )
    return [(person, str(platform)) for person, platform in rows.all()]


async def managers_with_reps(*, session: AsyncSession) -> list[ManagerZone]:
    """Every person someone reports to, with their timezone: one statement."""
    boss = aliased(Person)
    rows = await session.execute(
        sa.select(col(boss.id), col(boss.timezone)).where(
            col(boss.id).in_(sa.select(col(Person.manager_id)).where(col(Person.manager_id).is_not(None)))
        )
    )
    return [ManagerZone(not_null(pid), tz) for pid, tz in rows.all()]


# -- changes -------------------------------------------------------------------------------------
async def mark_unreachable(*, session: AsyncSession, person_id: int) -> None:
    """Never message this person again (the platform said they cannot be reached)."""
    await session.execute(sa.update(Person).where(col(Person.id) == person_id).values(reachable=False))


async def mark_synced(*, session: AsyncSession, person_id: int, when: datetime) -> None:
    """The platform profile of this person was read at `when`."""
    await session.execute(sa.update(Person).where(col(Person.id) == person_id).values(profile_synced_at=when))


async def mark_slack_user_departed(*, session: AsyncSession, team_id: str, user_id: str) -> bool:
    """A deactivated or deleted Slack user becomes unreachable. True if we knew them."""
    ws_id = await session.scalar(
        sa.select(col(Workspace.id)).where(
            col(Workspace.platform) == Platform.SLACK, col(Workspace.external_id) == team_id
        )
    )
    if ws_id is None:
        return False
    result = await session.execute(
        sa.update(Person)
        .where(col(Person.workspace_id) == ws_id, col(Person.platform_user_id) == user_id)
        .values(reachable=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
