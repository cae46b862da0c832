"""The outbox renderer of REPLY rows (dialogs/answers.py): a channel's answer sent after its
acknowledgement, its replies as stored and its files made again now."""

from __future__ import annotations

from bot.delivery import Outgoing
from dialogs import answers
from dialogs.context import CoachContext
from storage.outbox import Item


async def render_reply(ctx: CoachContext, item: Item) -> Outgoing | None:
    """The stored replies with the files made now; None (nothing to send) when there is neither,
    as when a manager's team chart has no reps left to show."""
    replies = answers.stored_replies(item)
    files = await answers.remade_files(ctx, item)
    if not replies and not files:
        return None
    return Outgoing(replies=replies, attachments=files)
