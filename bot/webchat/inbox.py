"""The web chat's send path: the web chat is pull-based, so the coach's own messages (nudges,
prompts) wait in the webchatinbox table until the page polls GET /webchat/inbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlmodel import col

from bot.delivery import Outgoing
from bot.keys import DB
from dialogs.context import CoachContext
from storage.models import Person, Platform
from storage.planning_models import WebChatInbox

POLL_LIMIT = 20


class WebChatSender:
    """Sender for platform "web": stores the rendered replies for the person's page to fetch."""

    platform = Platform.WEB.value

    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def send(self, *, person: Person, message: Outgoing) -> None:
        async with self.app[DB]() as session, session.begin():
            session.add(
                WebChatInbox(
                    person_id=person.id or 0,
                    created_at=datetime.now(UTC),
                    messages=[r.as_dict() for r in message.replies],
                )
            )


async def unseen_messages(ctx: CoachContext, person_id: int) -> list[dict[str, Any]]:
    """The messages the coach sent this person since the last poll (each handed out once)."""
    async with ctx.db() as session, session.begin():
        rows = (
            await session.scalars(
                sa.select(WebChatInbox)
                .where(col(WebChatInbox.person_id) == person_id, col(WebChatInbox.seen_at).is_(None))
                .order_by(col(WebChatInbox.id))
                .limit(POLL_LIMIT)
            )
        ).all()
        if rows:
            await session.execute(
                sa.update(WebChatInbox)
                .where(col(WebChatInbox.id).in_([r.id for r in rows]), col(WebChatInbox.seen_at).is_(None))
                .values(seen_at=datetime.now(UTC))
            )
    return [m for r in rows for m in r.messages]
