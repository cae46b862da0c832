"""Messages the coach starts itself in Teams: `continue_conversation` on the stored reference.

One Outgoing is one Teams message (`outgoing_activities`), as for an answer to the rep: a lone
text-only reply goes with `textFormat: plain` and the raw text (Teams formats nothing, so there is
nothing to escape); anything with a title, a list or buttons, and every answer of several replies
(the tips after a debrief, a nudge, the digest, the history), is one Adaptive Card whose
TextBlocks escape only the user values (bot.escape.teams_text). Images follow inline, one each.

The scheduler calls `send(person=..., message=...)`; a 403/404 (app uninstalled, bot blocked)
marks the person unreachable and raises a permanent DeliveryError instead of retrying forever.
"""

from __future__ import annotations

import base64
import logging

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, TextFormatTypes
from botbuilder.schema import Attachment as CardAttachment

from bot import log_messages as msg
from bot.delivery import DeliveryError, Outgoing
from bot.keys import COACH, SETTINGS
from bot.teams.cards import replies_activity, with_edit_buttons
from bot.teams.connector import ConnectorError
from dialogs.text import Texts
from storage import teams_store
from storage.models import Person
from storage.people import update_person

log = logging.getLogger("coach.teams")
INLINE_IMAGE_LIMIT = 1024 * 1024  # Teams shows inline (data URI) images up to about this size


def outgoing_activities(message: Outgoing, locale: str, texts: Texts) -> list[Activity]:
    """The activities for a message: its replies as one (the tips with their *Edit answers*),
    then each image inline (Teams takes no other files)."""
    replies = with_edit_buttons(texts, locale, message.replies)
    out = [replies_activity(replies, locale=locale)] if replies else []
    for item in message.attachments:
        if item.mime_type.startswith("image/") and len(item.content) <= INLINE_IMAGE_LIMIT:
            data = base64.b64encode(item.content).decode("ascii")
            card = CardAttachment(content_type=item.mime_type, name=item.filename,
                                  content_url=f"data:{item.mime_type};base64,{data}")
            out.append(Activity(type=ActivityTypes.message, attachments=[card], locale=locale,
                                text_format=TextFormatTypes.plain, text=item.title or None))
    return out


class TeamsSender:
    platform = "teams"

    def __init__(self, app: web.Application, adapter: CloudAdapter) -> None:
        self.app = app
        self.adapter = adapter

    async def send(self, *, person: Person, message: Outgoing) -> None:
        ctx = self.app[COACH]
        assert person.id is not None
        async with ctx.db() as session:
            conv = await teams_store.personal_conversation(session=session, person_id=person.id)
        if conv is None or not conv.installed:
            raise DeliveryError("no Teams conversation with this person (app not installed)",
                                permanent=True, unreachable=True)
        reference = ConversationReference().deserialize(conv.reference)
        locale = person.locale if person.locale in ("en", "nl") else ctx.default_locale
        failures: list[Exception] = []

        async def logic(turn_context: TurnContext) -> None:
            # The adapter's turn-error handler would swallow a failure; keep it for the caller.
            try:
                await turn_context.send_activities(outgoing_activities(message, locale, ctx.texts))
            except Exception as exc:
                failures.append(exc)

        await self.adapter.continue_conversation(
            reference, logic, bot_app_id=self.app[SETTINGS].microsoft_app_id or None)
        if not failures:
            return
        error = failures[0]
        if isinstance(error, ConnectorError):
            if error.unreachable:
                await self.mark_unreachable(person.id, conv.conversation_id)
                log.warning(msg.TEAMS_UNREACHABLE.format(person_id=person.id, status=error.status))
                raise DeliveryError(str(error), permanent=True, unreachable=True) from error
            raise DeliveryError(str(error), retry_after=error.retry_after,
                                permanent=error.status < 500 and error.status != 429) from error
        raise DeliveryError(f"{type(error).__name__}: {error}") from error

    async def mark_unreachable(self, person_id: int, conversation_id: str) -> None:
        async with self.app[COACH].db() as session, session.begin():
            await update_person(session=session, person_id=person_id, reachable=False)
            await teams_store.set_installed(session=session, conversation_id=conversation_id,
                                            installed=False)
