"""The web chat's send path: the web chat is pull-based, so the coach's own messages (nudges,
prompts) wait in the webchatinbox table until the page polls GET /webchat/inbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.delivery import Outgoing
from bot.keys import DB
from dialogs.context import CoachContext
from storage import inbox
from storage.models import Person, Platform

POLL_LIMIT = 20


class WebChatSender:
    """Sender for platform "web": stores the rendered replies for the person's page to fetch."""

    platform = Platform.WEB.value

    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def send(self, *, person: Person, message: Outgoing) -> None:
        async with self.app[DB]() as session, session.begin():
            await inbox.add_messages(
                session=session,
                person_id=person.id or 0,
                messages=[r.as_dict() for r in message.replies],
                now=datetime.now(UTC),
            )


async def unseen_messages(ctx: CoachContext, person_id: int) -> list[dict[str, Any]]:
    """The messages the coach sent this person since the last poll (each handed out once)."""
    async with ctx.db() as session, session.begin():
        return await inbox.take_unseen(
            session=session, person_id=person_id, limit=POLL_LIMIT, now=datetime.now(UTC)
        )
