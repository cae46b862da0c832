"""Bolt event listeners: the bot's DM, App Home, deactivated users, uninstall and revoked tokens."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot import log_messages as msg
from bot.slack import modal, views
from bot.slack.people import SlackUser, mark_departed
from dialogs.answers import OPEN_FORM
from dialogs.commands import parse_command
from dialogs.debrief import EDIT_OF
from dialogs.messages import Reply
from dialogs.text import format_when
from storage import slack_store
from storage.debriefs import latest_debriefs

if TYPE_CHECKING:
    from bot.slack.listeners import SlackDebriefFlow

log = logging.getLogger("coach.slack")
# Scheduled message kinds (dialogs/meetings.py) the Home tab names; others show as "a message".
UPCOMING_KINDS = (
    "prepare", "nudge", "debrief_prompt", "debrief_reminder", "follow_through", "tactic_feedback",
)


class WorkspaceEvents:
    def __init__(self, listeners: SlackDebriefFlow) -> None:
        self.on = listeners
        self.ctx = listeners.ctx
        self.texts = listeners.texts

    def register(self, bolt: AsyncApp) -> None:
        # Every event is acked at once; the work runs after the answer went out.
        acked = self.on.work.acked
        bolt.event({"type": "message", "channel_type": "im"})(acked(self.direct_message))
        bolt.event("message")(acked(self.other_message))
        bolt.event("app_home_opened")(acked(self.home))
        bolt.event("user_change")(acked(self.user_change))
        bolt.event("app_uninstalled")(acked(self.uninstalled))
        bolt.event("tokens_revoked")(acked(self.tokens_revoked))

    async def other_message(self, args: AsyncArgs) -> None:
        pass  # edits, joins and channel messages: nothing to do

    async def direct_message(self, args: AsyncArgs) -> None:
        body, event, client = args.body, args.event or {}, args.client
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        user_id = str(event["user"])
        rep = await self.on.rep(await self.on.person(body, user_id, client))
        text = str(event.get("text") or "")
        command = parse_command(text)
        key = str(body.get("event_id") or "") or None  # one answer per event, however often handled
        if command.name == "debrief":
            # A message can't open a modal (no trigger): answer with a button that can.
            account = command.arg or None
            prompt, ctx = ("open_prompt", {"account": account}) if account else ("open_prompt_blank", {})
            offer = Reply(text=self.texts.render(rep.locale, "slack", prompt, **ctx),
                          meta={OPEN_FORM: account or ""})
            await self.on.answer(client, user_id, rep, [offer], key=key)
            return
        if command.name == "edit":  # "edit 2": a button that opens the filled modal
            target = await self.on.route_words(rep, text)
            if isinstance(target, list):
                await self.on.answer(client, user_id, rep, target, words=text, key=key)
            else:
                meta = modal.ModalMeta.load(target.private_metadata)
                if meta.edit_of is not None:
                    label = Reply(text=self.texts.render(rep.locale, "slack", "edit_button"),
                                  meta={EDIT_OF: meta.edit_of})
                    await self.on.answer(client, user_id, rep, [label], key=key)
            return
        replies = await self.on.converse(rep, text)
        if replies:
            await self.on.answer(client, user_id, rep, replies, words=text, key=key)

    async def home(self, args: AsyncArgs) -> None:
        body, event, client = args.body, args.event or {}, args.client
        if event.get("tab", "home") != "home":
            return
        user_id = str(event["user"])
        rep = await self.on.rep(await self.on.person(body, user_id, client))
        loc, tz = rep.locale, rep.timezone
        now = self.ctx.clock()
        async with self.ctx.db() as session:
            rows = await latest_debriefs(session=session, person_id=rep.id, limit=5)
            count, profile = await slack_store.checklist_profile(session=session, person_id=rep.id)
            upcoming = await slack_store.upcoming_outbox(session=session, person_id=rep.id, now=now)
        data = views.HomeData(
            name=rep.name.split(" ")[0] if rep.name else "",
            latest=[
                (
                    format_when(r.debrief.created_at, locale=loc, tz=tz),
                    r.account_name,
                    self.texts.outcome(loc, r.debrief.outcome),
                )
                for r in rows
            ],
            upcoming=[
                (format_when(o.due_at, locale=loc, tz=tz), self.upcoming_label(loc, o.kind, account))
                for o, account in upcoming
            ],
            profile=profile,
            profile_count=count,
        )
        await client.views_publish(user_id=user_id, view=views.home_view(self.texts, loc, data))

    def upcoming_label(self, loc: str, kind: str, account: str | None) -> str:
        key = kind if kind in UPCOMING_KINDS else "other"
        if account is None:
            return self.texts.render(loc, "slack", "home_kind.other")
        return self.texts.render(loc, "slack", f"home_kind.{key}", account=account)

    async def user_change(self, args: AsyncArgs) -> None:
        body, event = args.body, args.event or {}
        user = event.get("user") or {}
        team = user.get("team_id") or body.get("team_id")
        if user.get("deleted") and team and user.get("id"):
            self.on.recent.forget(SlackUser(str(team), str(user["id"])))
            if await mark_departed(ctx=self.ctx, team_id=str(team), user_id=str(user["id"])):
                log.info(msg.SLACK_USER_DEPARTED.format(user=user["id"], team=team))

    async def uninstalled(self, args: AsyncArgs) -> None:
        body = args.body
        store = self.on.runtime.installations
        team = body.get("team_id")
        if store is not None:
            await store.async_delete_all(enterprise_id=body.get("enterprise_id"), team_id=team)
        log.info(msg.SLACK_UNINSTALLED.format(team=team))

    async def tokens_revoked(self, args: AsyncArgs) -> None:
        body, event = args.body, args.event or {}
        store = self.on.runtime.installations
        team, enterprise = body.get("team_id"), body.get("enterprise_id")
        tokens = event.get("tokens") or {}
        users, bots = list(tokens.get("oauth") or []), list(tokens.get("bot") or [])
        if store is not None:
            if bots:
                await store.async_delete_bot(enterprise_id=enterprise, team_id=team)
            for user_id in users:
                await store.async_delete_installation(enterprise_id=enterprise, team_id=team, user_id=user_id)
        log.info(msg.SLACK_TOKENS_REVOKED.format(team=team, bot=len(bots), users=len(users)))
