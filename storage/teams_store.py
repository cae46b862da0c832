"""Teams conversation references: where the coach can reach a person (or a team channel) later.

One row per Bot Framework conversation, refreshed on install and on every message, so the
scheduler can `continue_conversation` into a rep's personal chat from any replica.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.engine import dialect_insert, session_dialect
from storage.models import Person, UTCDateTime, Workspace, utcnow

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


class TeamsConversation(SQLModel, table=True):
    """A Teams conversation the bot is in: a personal chat (person_id set), a group chat or a channel."""

    __tablename__ = "teamsconversation"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id"),
        sa.Index("ix_teamsconversation_person", "person_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    conversation_id: str = Field(max_length=512)
    kind: str = Field(default="personal", max_length=16)
    service_url: str = Field(max_length=500)
    reference: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    client_locale: str | None = Field(default=None, max_length=16)
    client_timezone: str | None = Field(default=None, max_length=64)
    installed: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _insert(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    return dialect_insert(session_dialect(session), TeamsConversation)


async def save_conversation(
    *,
    session: AsyncSession,
    workspace_id: int,
    person_id: int | None,
    conversation_id: str,
    kind: str,
    service_url: str,
    reference: dict[str, Any],
    client_locale: str | None = None,
    client_timezone: str | None = None,
) -> tuple[str | None, str | None] | None:
    """Insert or refresh a conversation reference; returns the client locale and timezone it had
    before (None when new), so the caller can see whether the person changed them in Teams."""
    before = (
        await session.execute(
            sa.select(col(TeamsConversation.client_locale), col(TeamsConversation.client_timezone)).where(
                col(TeamsConversation.conversation_id) == conversation_id
            )
        )
    ).first()
    if kind != "personal":  # a group chat or channel is reached without anyone's name or ids
        reference = {key: value for key, value in reference.items() if key != "user"}
    values = {
        "workspace_id": workspace_id,
        "person_id": person_id,
        "kind": kind,
        "service_url": service_url,
        "reference": reference,
        "client_locale": client_locale,
        "client_timezone": client_timezone,
        "installed": True,
        "updated_at": utcnow(),
    }
    if before is not None:
        if person_id is None:
            values.pop("person_id")
        values["client_locale"] = client_locale or before[0]
        values["client_timezone"] = client_timezone or before[1]
        await session.execute(
            sa.update(TeamsConversation)
            .where(col(TeamsConversation.conversation_id) == conversation_id)
            .values(**values)
        )
        return before[0], before[1]
    stmt = _insert(session).values(conversation_id=conversation_id, **values)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["conversation_id"]))
    return None


async def personal_conversation(*, session: AsyncSession, person_id: int) -> TeamsConversation | None:
    """The person's personal chat with the bot (the newest, if Teams gave more than one)."""
    return await session.scalar(
        sa.select(TeamsConversation)
        .where(col(TeamsConversation.person_id) == person_id, col(TeamsConversation.kind) == "personal")
        .order_by(col(TeamsConversation.updated_at).desc(), col(TeamsConversation.id).desc())
        .limit(1)
    )


async def set_installed(*, session: AsyncSession, conversation_id: str, installed: bool) -> int | None:
    """Mark the bot as (un)installed in a conversation; returns the personal chat's person, if any."""
    await session.execute(
        sa.update(TeamsConversation)
        .where(col(TeamsConversation.conversation_id) == conversation_id)
        .values(installed=installed, updated_at=utcnow())
    )
    return await session.scalar(
        sa.select(col(TeamsConversation.person_id)).where(
            col(TeamsConversation.conversation_id) == conversation_id,
            col(TeamsConversation.kind) == "personal",
        )
    )


def _person_lookup() -> sa.Select[Any]:
    person, workspace = sa.inspect(Person).local_table, sa.inspect(Workspace).local_table
    conv = sa.inspect(TeamsConversation).local_table
    return (
        sa.select(person.c.id, person.c.locale, person.c.timezone, person.c.reachable,
                  conv.c.person_id, conv.c.reference, conv.c.installed,
                  conv.c.client_locale, conv.c.client_timezone)
        .join(workspace, workspace.c.id == person.c.workspace_id)
        .outerjoin(conv, conv.c.conversation_id == sa.bindparam("conversation_id"))
        .where(workspace.c.platform == sa.bindparam("platform"),
               workspace.c.external_id == sa.bindparam("tenant"),
               person.c.platform_user_id == sa.bindparam("user"))
    )


# The per-activity read, built once. Parameters: conversation_id, platform, tenant, user.
# Columns: person id, locale, timezone, reachable; the conversation's person id, reference,
# installed, client locale, client timezone (the conversation's are None when it is new).
PERSON_LOOKUP = _person_lookup()


async def lookup_person(*, session: AsyncSession, params: dict[str, str]) -> sa.Row[Any] | None:
    """The person and this conversation as stored (PERSON_LOOKUP), or None for someone new."""
    return (await session.execute(PERSON_LOOKUP, params)).first()


async def speaker_ids(*, session: AsyncSession, person_id: int) -> list[str]:
    """The Teams ids the person's own chats know them by (reference "user": id and aadObjectId)."""
    rows = await session.scalars(
        sa.select(col(TeamsConversation.reference)).where(col(TeamsConversation.person_id) == person_id)
    )
    ids: set[str] = set()
    for reference in rows:
        user = (reference or {}).get("user") or {}
        ids.update(str(user[key]) for key in ("id", "aadObjectId") if user.get(key))
    return sorted(ids)
