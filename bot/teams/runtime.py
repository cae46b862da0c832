"""Microsoft Teams (Bot Framework) on the shared app: `POST /api/messages` through botbuilder's
CloudAdapter and a TeamsActivityHandler that translates activities into neutral dialog calls.

With MicrosoftAppId set, every request is JWT-validated by botbuilder (401 otherwise). Without it
Teams is off (no route, 404) unless an operator turns the local Emulator on (server.teams_emulator
or `coach serve --teams-emulator`), which serves this machine only (bot/teams/emulator.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ChannelAccount
from botbuilder.schema.teams import (
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
    TaskModuleMessageResponse,
    TeamInfo,
)

from bot import log_messages as msg
from bot.delivery import register_sender, to_outgoing
from bot.keys import COACH, METRICS, SETTINGS
from bot.request_guard import MalformedBody, refused
from bot.scheduling.scheduler import wake_scheduler
from bot.teams import correction, people
from bot.teams.auth import CoachBotAuthentication
from bot.teams.cards import (
    ANSWER_ACTION,
    FORM_ACTION,
    FORM_INPUT,
    KEEPABLE,
    MEETING_DATE,
    MEETING_TIME,
    RATINGS_STEP,
    SUBMIT_ACTION,
    EditOf,
    attachment,
    debrief_card,
    new_debrief_card,
    reply_activity,
    summary_card,
)
from bot.teams.connector import ConnectorError, ConnectorPool
from bot.teams.emulator import check_emulator_request
from bot.teams.inbound import read_activity
from bot.teams.mentions import plain_mentions
from bot.teams.mode import teams_mode
from bot.teams.people import TeamsPerson
from bot.teams.sender import TeamsSender, outgoing_activities
from dialogs import conversation
from dialogs.checklist import FIELDS, FIELDS_BY_KEY, NOTE_LIMIT
from dialogs.checklist_path import form_fields, settle
from dialogs.commands import parse_command
from dialogs.context import CoachContext
from dialogs.debrief import submit_debrief
from dialogs.debrief_edit import names_whole_debrief
from dialogs.messages import Reply
from dialogs.validation import CleanDebrief, Locality, combine_date_time, validate_form
from storage.debrief_insert import SignedOwner
from storage.errors import NotFound

log = logging.getLogger("coach.teams")

CHANNEL = "teams"
TEAMS_ADAPTER = web.AppKey("teams_adapter", CloudAdapter)
TEAMS_POOL = web.AppKey("teams_pool", ConnectorPool)
TEAMS_LOOKUP = web.AppKey("teams_lookup", people.PersonReadConnection)
class CoachTeamsBot(TeamsActivityHandler):
    """Thin translator: Teams activities in, dialogs/ calls, Adaptive Cards and messages out."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    @property
    def ctx(self) -> CoachContext:
        return self.app[COACH]

    # -- who is this, and where can we reach them later ------------------------------------------
    async def remember(self, turn_context: TurnContext, account: ChannelAccount | None = None) -> TeamsPerson:
        """Find or add the person, and store the conversation reference (on every activity)."""
        return await people.remember(self.ctx, turn_context.activity, account,
                                     lookup=self.app.get(TEAMS_LOOKUP))

    # -- messages ----------------------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        who = await self.remember(turn_context)
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        if people.conversation_kind(activity) != "personal":
            # Debriefs and history are private: in a team or group chat, point to the 1:1 chat.
            text = self.ctx.texts.render(who.locale, "teams", "personal_only")
            await turn_context.send_activity(reply_activity(Reply(text=text), locale=who.locale))
            return
        if value.get("coach") == SUBMIT_ACTION:
            await self.submit(turn_context, who, value)
            return
        text = TurnContext.remove_recipient_mention(activity) if activity.entities else activity.text
        text = plain_mentions(text or "").strip()
        expect = None
        if value.get("coach") == FORM_ACTION:  # a TextForm sent (the digest's action point)
            text = _form_words(value)
        elif value.get("coach") == ANSWER_ACTION:
            text = text or str(value.get("text") or "")
            expect = value.get("expect") if isinstance(value.get("expect"), str) else None
        command = parse_command(text)
        if command.name == "debrief" and expect is None:  # the card
            await self.send_form(turn_context, who, command.arg)
            return
        if command.name == "edit" and expect is None and names_whole_debrief(command.arg):
            await self.send_edit(turn_context, who, command.arg)  # the cards, as `debrief` does
            return
        replies = await conversation.reply_to(
            ctx=self.ctx, person_id=who.person_id, channel=CHANNEL, text=text, expect=expect)
        await self.send_replies(turn_context, replies, who.locale)

    async def send_form(self, turn_context: TurnContext, who: TeamsPerson, account: str) -> None:
        card = new_debrief_card(self.ctx.texts, who.locale, key=uuid.uuid4().hex, account=account[:200])
        await turn_context.send_activity(MessageFactory.attachment(attachment(card)))

    async def send_edit(self, turn_context: TurnContext, who: TeamsPerson, arg: str) -> None:
        card = await correction.edit_card(self.ctx, who, arg)
        if isinstance(card, list):  # not found, someone else's, past the edit window
            await self.send_replies(turn_context, card, who.locale)
            return
        await turn_context.send_activity(MessageFactory.attachment(attachment(card)))

    async def send_replies(self, turn_context: TurnContext, replies: list[Reply], locale: str) -> None:
        # The replies of one answer go as one message (one card, or one plain text); a reply's
        # file (the `team` chart) goes inline after it, as the scheduled digest's does.
        if replies:
            message = to_outgoing(replies)
            await turn_context.send_activities(outgoing_activities(message, locale, self.ctx.texts))

    async def submit(self, turn_context: TurnContext, who: TeamsPerson, value: dict[str, Any]) -> None:
        """Validate the card; refill it with errors, or show the details the answers call for
        (the second card), or store the settled answers once (a correction: over the stored
        debrief the card names, if it is the sender's), show the summary, coach."""
        ctx, texts = self.ctx, self.ctx.texts
        card_id = turn_context.activity.reply_to_id
        edit = await correction.checked_edit(ctx, who, value)
        if isinstance(edit, list):  # gone, someone else's, past the edit window: nothing changes
            await self.send_replies(turn_context, edit, who.locale)
            return
        key = str(value.get("key") or card_id or "")
        drawn = _shown(value.get("shown"))
        raw: dict[str, Any] = {f.key: _scalar(value.get(f.key)) for f in FIELDS}
        raw = settle(raw)  # a detail that does not apply is never stored
        raw["account"] = edit.account if edit is not None else _scalar(value.get("account"))
        errors: dict[str, str] = {}
        needed = tuple(form_fields(raw))
        day, clock = _scalar(value.get(MEETING_DATE)), _scalar(value.get(MEETING_TIME))
        if "next_meeting_at" not in needed:
            day = clock = None
        try:
            raw["next_meeting_at"] = combine_date_time(day, clock, tz=who.timezone)
        except ValueError:
            errors["next_meeting_at"] = texts.render(who.locale, "teams", "bad_picker")
        if bool(day) != bool(clock):
            errors["next_meeting_at"] = texts.render(who.locale, "teams", "meeting_needs_both")
        loc = Locality(locale=who.locale, timezone=who.timezone, now=ctx.clock())
        debrief, form_errors = validate_form(raw, texts=texts, loc=loc)
        errors = {**form_errors, **errors}
        # A card from before the two steps showed every field: what it sent is what the rep saw.
        shown = drawn if drawn is not None else needed
        more = not set(needed) <= set(shown)
        if errors or debrief is None or not key or more:
            entered = {**_kept(value.get("kept")),
                       **{k: _scalar(v) for k, v in value.items() if k not in ("kept", "shown")}}
            # With errors the same card again (and a required rating it lacked, to show the error
            # on); else the card with the details these answers call for.
            draw = (tuple(k for k in needed if k in shown or FIELDS_BY_KEY[k].required) if errors
                    else needed)
            card = debrief_card(texts, who.locale, key=key or uuid.uuid4().hex, values=entered,
                                errors=errors, shown=draw, changed=not errors and shown != RATINGS_STEP,
                                edit=edit)
            await self.show(turn_context, card_id, card)
            return
        if edit is not None:
            await self.correct(turn_context, who, edit, debrief, key)
            return
        # Filed for the authenticated sender (from.aadObjectId in its tenant), checked in the insert.
        activity = turn_context.activity
        sender = activity.from_property or ChannelAccount(id="unknown")
        signed = SignedOwner(people.PLATFORM, people.tenant_of(activity), people.user_key(sender))
        try:
            result = await submit_debrief(ctx=ctx, person_id=who.person_id, debrief=debrief,
                                          idempotency_key=f"{CHANNEL}:{key}", tz=who.timezone, owner=signed,
                                          tips_later=True)
        except NotFound:
            await self.send_replies(turn_context, [Reply(kind="error", text=texts.render(
                who.locale, "teams", "form_not_yours"))], who.locale)
            return
        self.app[METRICS].debrief(CHANNEL, created=result.created)
        summary = summary_card(texts, who.locale, debrief=debrief, saved_at=ctx.clock(),
                               timezone=who.timezone)
        await self.show(turn_context, card_id, summary)
        if result.created:  # the tips are an outbox row stored with the debrief: sent once, retried
            wake_scheduler(self.app)
        else:
            await self.send_replies(turn_context, result.replies[:1], who.locale)

    async def correct(self, turn_context: TurnContext, who: TeamsPerson, edit: EditOf,
                      debrief: CleanDebrief, key: str) -> None:
        """Store a correction; the summary in the card's place, the tips after it (an outbox row)."""
        refused = await correction.store(self.ctx, who, edit, debrief, key)
        if refused:
            await self.send_replies(turn_context, refused, who.locale)
            return
        summary = summary_card(self.ctx.texts, who.locale, debrief=debrief, saved_at=edit.created_at,
                               timezone=who.timezone, corrected=True)
        await self.show(turn_context, turn_context.activity.reply_to_id, summary)
        wake_scheduler(self.app)

    async def show(self, turn_context: TurnContext, card_id: str | None, card: dict[str, Any]) -> None:
        """Replace the submitted card in place (so it cannot be sent twice); else send it anew."""
        activity = MessageFactory.attachment(attachment(card))
        if card_id:
            activity.id = card_id
            try:
                await turn_context.update_activity(activity)
                return
            except ConnectorError as exc:
                if exc.status not in (400, 404):  # only a card Teams will not update is sent anew
                    raise
            activity = MessageFactory.attachment(attachment(card))
        await turn_context.send_activity(activity)

    # -- install, roster -----------------------------------------------------------------------------
    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        # Teams also sends conversationUpdate (bot added) for an install: that one says hello.
        await self.remember(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self.uninstalled(turn_context)

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        # Overridden so no roster lookup goes to the connector: the activity carries what we keep.
        await self.members_added(members_added, turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await self.members_added(members_added, turn_context)

    async def members_added(self, members: list[ChannelAccount], turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        personal = (activity.conversation.conversation_type or "personal") == "personal"
        for member in members:
            if member.id == bot_id:  # the app was installed here
                who = await self.remember(turn_context)
                key = "install_welcome" if personal else "channel_hello"
                await self.welcome(turn_context, who, key)
            elif personal:
                await self.welcome(turn_context, await self.remember(turn_context, member))
            else:
                await self.remember(turn_context, member)

    async def on_teams_members_removed_dispatch(
        self, members_removed: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        await self.members_removed(members_removed, turn_context)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await self.members_removed(members_removed, turn_context)

    async def members_removed(self, members: list[ChannelAccount], turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        for member in members:
            if member.id == bot_id:
                await self.uninstalled(turn_context)
                continue
            await people.leave(self.ctx, activity, member)

    async def uninstalled(self, turn_context: TurnContext) -> None:
        await people.uninstalled(self.ctx, turn_context.activity.conversation.id)

    async def welcome(
        self, turn_context: TurnContext, who: TeamsPerson, key: str = "install_welcome"
    ) -> None:
        text = self.ctx.texts.render(who.locale, "teams", key)
        await turn_context.send_activity(reply_activity(Reply(text=text), locale=who.locale))

    # -- a message extension invoke (the app declares none; answer instead of failing) ----------
    @staticmethod
    def _create_invoke_response(body: object = None) -> InvokeResponse:
        # botbuilder serializes the body here and CloudAdapter.process serializes it again, which
        # fails on the dict; leave it to CloudAdapter (the one that writes the HTTP response).
        return InvokeResponse(status=200, body=body)

    async def on_teams_messaging_extension_fetch_task(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        who = await self.remember(turn_context)
        text = self.ctx.texts.render(who.locale, "teams", "extension_unsupported")
        return MessagingExtensionActionResponse(task=TaskModuleMessageResponse(value=text))


def _form_words(value: dict[str, Any]) -> str:
    """What a TextForm's submit stands for: its command and the text in its input; "" when the
    card did not send one of our forms (only `assign` is sent by a form)."""
    command, input_id = value.get("command"), value.get("input")
    typed = value.get(input_id) if isinstance(input_id, str) and input_id.startswith(FORM_INPUT) else None
    if not isinstance(command, str) or not isinstance(typed, str) or parse_command(command).name != "assign":
        return ""
    return f"{command} {typed.strip()}"


def _shown(value: Any) -> tuple[str, ...] | None:
    """The fields the submitted card showed (its button's data); None for a card without them."""
    if not isinstance(value, list) or not value or not all(k in FIELDS_BY_KEY for k in value):
        return None
    return tuple(str(k) for k in value)


def _kept(value: Any) -> dict[str, str]:
    """Answers a redrawn card carried for inputs it did not show (to show them again, not to store)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v[:NOTE_LIMIT] for k, v in value.items() if k in KEEPABLE and isinstance(v, str)}


def _scalar(value: Any) -> Any:
    """Card inputs arrive as strings; anything else (a crafted payload) is refused as text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)[:200]


async def _on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    log.error(msg.TEAMS_TURN_FAILED.format(activity=turn_context.activity.type,
                                           error=f"{type(error).__name__}: {error}"))


async def _pool(app: web.Application) -> AsyncIterator[None]:
    # Runs after the database context (migrated by then) and closes before the engine does.
    lookup = await people.open_person_reader(app[SETTINGS].database_url)
    if lookup is not None:
        app[TEAMS_LOOKUP] = lookup
    try:
        yield
    finally:
        if lookup is not None:
            await lookup.close()
        await app[TEAMS_POOL].close()


def setup(app: web.Application) -> None:
    """Mount POST /api/messages and register the Teams sender (for nudges and digests); nothing
    when Teams is off (no app id, no Emulator)."""
    settings = app[SETTINGS]
    mode = teams_mode(settings)
    if mode == "off":
        return
    pool = ConnectorPool()
    adapter = CloudAdapter(CoachBotAuthentication(settings, pool))
    adapter.on_turn_error = _on_turn_error
    bot = CoachTeamsBot(app)
    app[TEAMS_POOL] = pool
    app[TEAMS_ADAPTER] = adapter
    app.cleanup_ctx.append(_pool)
    emulator = mode == "emulator"

    async def messages(request: web.Request) -> web.StreamResponse:
        if mode == "app_id" and not request.headers.get("Authorization", "").startswith("Bearer "):
            # Unverified: 401 before the body is read (botbuilder validates the token itself).
            log.warning(msg.TEAMS_UNSIGNED.format(remote=request.remote))
            raise web.HTTPUnauthorized(text="a Bot Framework token is required")
        try:
            await read_activity(request)  # botbuilder assumes a well-formed activity
        except MalformedBody as exc:
            refused(request, exc)
            return web.Response(status=exc.status, text=f"not a Bot Framework activity: {exc.reason}")
        if emulator:  # a well-formed activity, from the Emulator on this machine only
            await check_emulator_request(request)  # raises the refusal; botbuilder checks no token
        response = await adapter.process(request, bot)
        if response is not None and response.status == 501:  # botbuilder: an invoke nobody handles
            return web.Response(status=400, text="not an invoke this bot takes")
        return response or web.Response(status=201)

    app.router.add_post("/api/messages", messages)
    register_sender(app, TeamsSender(app, adapter))
