"""The Slack Sender: what the outbox sends to a person's DM (nudges, prompts, digests, tips, and
the answers the Slack listeners leave for after their ack)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import ClientError, web
from slack_sdk.errors import SlackApiError

from bot import log_messages as msg
from bot.delivery import DeliveryError, Outgoing
from bot.keys import COACH, DB
from bot.slack import views
from bot.slack.client import SLACK, SlackRuntime
from dialogs.answers import OPEN_FORM
from dialogs.debrief import EDIT_OF
from dialogs.messages import Reply
from dialogs.text import Texts
from storage import directory
from storage.models import Person, Platform

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


log = logging.getLogger("coach.slack")

# Slack errors after which this person can never be reached: mark them, stop trying.
UNREACHABLE = {"user_not_found", "user_disabled", "account_inactive", "cannot_dm_bot", "user_not_visible"}
# Errors no retry can fix (the app lost access to the workspace, or asks for too much).
PERMANENT = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "channel_not_found",
    "is_archived",
    "team_access_not_granted",
    "no_permission",
    "invalid_blocks",
    "msg_too_long",
}


class SlackSender:
    platform = Platform.SLACK.value

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._team_ids: dict[int, str] = {}  # workspace id -> Slack team id (never changes)

    async def send(self, *, person: Person, message: Outgoing) -> None:
        runtime = self._app.get(SLACK)
        if runtime is None:
            raise DeliveryError("Slack is not running")
        ctx = self._app[COACH]
        locale = person.locale if person.locale in ("en", "nl") else ctx.default_locale
        await send_dm(runtime, self._app[DB], person=person, message=message,
                      extra=buttons(ctx.texts, locale, message.replies), team_ids=self._team_ids)


def buttons(texts: Texts, locale: str, replies: Sequence[Reply]) -> list[views.Json]:
    """The buttons replies offer through their meta: edit a debrief, open the debrief form."""
    blocks: list[views.Json] = []
    for reply in replies:
        if EDIT_OF in reply.meta:
            blocks.append(views.edit_button(texts, locale, int(str(reply.meta[EDIT_OF]))))
        if OPEN_FORM in reply.meta:
            blocks.append(views.open_button(texts, locale, str(reply.meta[OPEN_FORM] or "") or None))
    return blocks


async def send_dm(
    runtime: SlackRuntime,
    db: async_sessionmaker[AsyncSession],
    *,
    person: Person,
    message: Outgoing,
    extra: Sequence[views.Json] = (),
    team_ids: dict[int, str] | None = None,
) -> None:
    """Post the replies to the person's DM and upload its files there (the one Slack send path);
    `extra` blocks (a debrief's edit button) follow the replies. `team_ids` caches each workspace's
    Slack team id across calls (one read fewer per message)."""
    if not person.reachable:
        raise DeliveryError("the person is deactivated or left", permanent=True, unreachable=True)
    known = team_ids if team_ids is not None else {}
    team_id = known.get(person.workspace_id)
    if team_id is None:
        async with db() as session:
            team_id = str(
                await directory.workspace_external_id(session=session, workspace_id=person.workspace_id)
            )
        known[person.workspace_id] = team_id
    token = await runtime.bot_token(str(team_id))
    if token is None:
        raise DeliveryError("the app is not installed in this workspace", permanent=True)
    user = person.platform_user_id
    try:
        if message.replies or extra:
            answer = await runtime.client.chat_postMessage(
                token=token,
                channel=user,
                text=views.fallback_text(message.replies) or "Closing Coach",
                blocks=[*views.reply_blocks(message.replies), *extra],
                mrkdwn=False,  # the notification text may carry user text: escaped, and not formatted
            )
            channel = str(answer.get("channel") or user)
        else:  # files alone (a row of their own, so a retry never posts the text twice)
            opened = await runtime.client.conversations_open(token=token, users=user)
            channel = str((opened.get("channel") or {}).get("id") or user)
        for item in message.attachments:
            await runtime.client.files_upload_v2(
                token=token,
                channel=channel,
                content=item.content,
                filename=item.filename,
                title=item.title or item.filename,
            )
    except SlackApiError as exc:
        raise _delivery_error(exc, user) from exc
    except (ClientError, TimeoutError) as exc:
        log.warning(msg.SLACK_SEND_FAILED.format(user=user, error=type(exc).__name__))
        raise DeliveryError(f"Slack unreachable: {type(exc).__name__}") from exc


def _delivery_error(exc: SlackApiError, user: str) -> DeliveryError:
    response = exc.response
    error = str(response.get("error") or f"HTTP {response.status_code}")
    log.warning(msg.SLACK_SEND_FAILED.format(user=user, error=error))
    if response.status_code == 429:
        raw = (response.headers or {}).get("Retry-After") or (response.headers or {}).get("retry-after")
        try:
            retry_after = float(raw) if raw is not None else 60.0
        except (TypeError, ValueError):
            retry_after = 60.0
        return DeliveryError(f"Slack rate limit: {error}", retry_after=retry_after)
    if error in UNREACHABLE:
        return DeliveryError(f"Slack: {error}", permanent=True, unreachable=True)
    if error in PERMANENT:
        return DeliveryError(f"Slack: {error}", permanent=True)
    return DeliveryError(f"Slack: {error}")
