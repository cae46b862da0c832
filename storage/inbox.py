"""The web-chat inbox: messages the coach started for a web-chat person, kept until the page polls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.planning_models import WebChatInbox


async def add_messages(
    *, session: AsyncSession, person_id: int, messages: Sequence[dict[str, Any]], now: datetime
) -> None:
    session.add(WebChatInbox(person_id=person_id, created_at=now, messages=list(messages)))


async def take_unseen(
    *, session: AsyncSession, person_id: int, limit: int, now: datetime
) -> list[dict[str, Any]]:
    """The oldest `limit` unseen rows' messages, marked seen: each is handed out once."""
    rows = (
        await session.scalars(
            sa.select(WebChatInbox)
            .where(col(WebChatInbox.person_id) == person_id, col(WebChatInbox.seen_at).is_(None))
            .order_by(col(WebChatInbox.id))
            .limit(limit)
        )
    ).all()
    if rows:
        await session.execute(
            sa.update(WebChatInbox)
            .where(col(WebChatInbox.id).in_([r.id for r in rows]), col(WebChatInbox.seen_at).is_(None))
            .values(seen_at=now)
        )
    return [m for r in rows for m in r.messages]
