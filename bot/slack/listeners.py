"""Bolt listeners for /debrief, the debrief modal and the buttons: thin translations onto dialogs/.

Every listener acks first (or acks with the answer itself) and then does the slower work, so
Slack's 3-second window is never at risk. Slack's own retries are skipped for events; a view
submitted twice is stored once (the view id is the idempotency key).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg
from bot.escape import for_slack
from bot.slack import modal, views
from bot.slack.background import AfterAckWork
from bot.slack.mentions import person_references
from bot.slack.people import RecentPeople, SlackUser, resolve_person, team_of
from dialogs import answers, conversation
from dialogs.commands import parse_command
from dialogs.context import CoachContext
from dialogs.debrief import (
    HISTORY_SIZE,
    Rep,
    check_edit_window,
    load_rep,
    stored_values,
    submit_correction,
    submit_debrief,
)
from dialogs.messages import Reply
from dialogs.text import format_when
from dialogs.validation import Locality, clean_account, parse_id, validate_form
from storage import slack_store
from storage.debrief_insert import SignedOwner
from storage.debriefs import get_debrief, latest_debriefs
from storage.errors import CoachError, EditWindowClosed, NotFound
from storage.models import Person, Platform

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.slack.client import SlackRuntime

log = logging.getLogger("coach.slack")
CHANNEL = "slack"
ERROR_LIMIT = 150  # keep inline errors short enough to show under the field


class SlackDebriefFlow:
    """The handlers, bound to the coach context; `register` wires them onto a Bolt app."""

    def __init__(
        self,
        ctx: CoachContext,
        runtime: SlackRuntime,
        metrics: Metrics | None = None,
        wake: Callable[..., None] | None = None,
    ) -> None:
        self.ctx = ctx
        # The outbox scheduler's wake (scheduler.wake_scheduler): a DM (tips, an answer) was just stored.
        self.wake = wake or (lambda **_: None)
        self.runtime = runtime
        self.metrics = metrics
        self.texts = ctx.texts
        self.recent = RecentPeople()
        self.work = AfterAckWork()
        self.later = self.work.later

    # -- shared steps -------------------------------------------------------------------------
    async def person(self, body: dict[str, Any], user_id: str, client: AsyncWebClient) -> Person:
        team = team_of(body)
        if not team:
            raise NotFound("request without a workspace")
        return await resolve_person(
            ctx=self.ctx, client=client, who=SlackUser(team, user_id), recent=self.recent
        )

    async def rep(self, person: Person) -> Rep:
        assert person.id is not None
        if person.manager_id is not None:  # the manager's name is one more read
            async with self.ctx.db() as session:
                return await load_rep(session=session, ctx=self.ctx, person_id=person.id)
        locale = person.locale if person.locale in ("en", "nl") else self.ctx.default_locale
        return Rep(
            id=person.id,
            workspace_id=person.workspace_id,
            name=person.display_name,
            locale=locale,
            timezone=person.timezone or self.ctx.default_timezone,
            manager_name=None,
        )

    async def open_modal(self, client: AsyncWebClient, trigger_id: str, view: Any) -> None:
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning(msg.SLACK_MODAL_FAILED.format(error=exc.response.get("error")))

    async def answer(
        self, client: AsyncWebClient, user_id: str, rep: Rep, replies: list[Reply], *, words: str = "",
        key: str | None = None, shown: bool = False,
    ) -> None:
        """Send an answer after the ack: outbox rows (delivered once, retried; a file made again
        when sent), the scheduler woken so it goes out at once. `shown`: answered in place, only
        its files go to the DM. The answer to `forget confirm` has no one left to store it for:
        it goes straight to Slack (once at most)."""
        if any(r.meta.get("forgotten") for r in replies):
            await self.dm(client, user_id, replies)
            return
        every_file = await answers.answer_later(
            ctx=self.ctx, person_id=rep.id, key=key or uuid.uuid4().hex, channel=CHANNEL,
            replies=replies, words=words, shown=shown,
        )
        if not every_file:
            log.warning(msg.SLACK_FILE_LEFT_OUT.format(user=user_id))
        self.wake(at_once=True)  # the rep waits for it: no pause to gather a burst

    async def dm(self, client: AsyncWebClient, user_id: str, replies: list[Reply]) -> None:
        text = views.fallback_text(replies) or for_slack(
            self.texts.render(self.ctx.default_locale, "slack", "open_prompt_blank")
        )
        await client.chat_postMessage(channel=user_id, text=text, blocks=views.reply_blocks(replies),
                                      mrkdwn=False)

    def owner(self, rep: Rep) -> tuple[str, str, int, str, str] | None:
        who = self.recent.who(rep.id)
        return (who.team_id, who.user_id, rep.id, rep.locale, rep.timezone) if who else None

    def new_modal(self, rep: Rep, account: str | None) -> Any:
        meta = modal.ModalMeta(account=account, owner=self.owner(rep))
        return modal.new_modal(self.texts, rep.locale, rep.timezone, meta)

    def opens_modal(self, text: str) -> bool:
        """Whether these words open the modal (so the command can be acked before any work)."""
        command = parse_command(text)
        if command.name not in ("debrief", ""):
            return False
        account = command.arg if command.name == "debrief" else text.strip()
        if not account:
            return True
        try:
            clean_account(account, texts=self.texts, loc=Locality("en", "UTC", self.ctx.clock()))
        except CoachError:
            return False  # answered with the (localised) reason instead
        return True

    async def edit_modal(self, rep: Rep, debrief_id: int) -> Any:
        """The modal filled with a stored debrief; NotFound / EditWindowClosed when it can't be."""
        async with self.ctx.db() as session:
            stored = await get_debrief(session=session, debrief_id=debrief_id, person_id=rep.id)
        check_edit_window(self.ctx, stored.debrief.created_at)
        initial = stored_values(stored)
        when = format_when(stored.debrief.created_at, locale=rep.locale, tz=rep.timezone)
        meta = modal.ModalMeta(account=stored.account_name, edit_of=debrief_id, owner=self.owner(rep))
        return modal.debrief_modal(
            self.texts, rep.locale, rep.timezone, initial=initial, meta=meta, edit_when=when
        )

    async def edit_by_number(self, rep: Rep, number: int) -> Any | Reply:
        async with self.ctx.db() as session:
            rows = await latest_debriefs(session=session, person_id=rep.id, limit=HISTORY_SIZE)
        if not 1 <= number <= len(rows):
            return Reply(kind="error", text=self.texts.message(rep.locale, "edit_not_found", number=number))
        return await self.edit_or_error(rep, int(rows[number - 1].debrief.id or 0))

    async def edit_or_error(self, rep: Rep, debrief_id: int) -> Any | Reply:
        try:
            return await self.edit_modal(rep, debrief_id)
        except NotFound:
            return Reply(kind="error", text=self.texts.render(rep.locale, "slack", "edit_gone"))
        except EditWindowClosed as exc:
            when = format_when(exc.details["created_at"], locale=rep.locale, tz=rep.timezone)  # type: ignore[arg-type]
            return Reply(
                kind="error",
                text=self.texts.message(
                    rep.locale, "edit_window_closed", when=when, days=self.ctx.edit_window_days
                ),
            )

    async def route_words(self, rep: Rep, text: str) -> Any | list[Reply]:
        """What typed words (a subcommand, a button's value) ask for: a modal to open, or replies."""
        command = parse_command(text)
        edit_number = command.name == "edit" and re.fullmatch(r"#?\d+", command.arg)
        if command.name in ("debrief", ""):
            account = command.arg if command.name == "debrief" else text.strip()
            if not account:
                return self.new_modal(rep, None)
            try:
                name = clean_account(account, texts=self.texts, loc=rep.locality(self.ctx.clock()))
            except CoachError as exc:
                return [Reply(kind="error", text=str(exc.message))]
            return self.new_modal(rep, name)
        if edit_number:
            target = await self.edit_by_number(rep, int(command.arg.lstrip("#")))
            return [target] if isinstance(target, Reply) else target
        return await self.converse(rep, text)

    async def converse(self, rep: Rep, text: str) -> list[Reply]:
        """The platform-neutral conversation; it may change the person (language, forget).
        Files some replies carry (`export`, the `team` chart) reach Slack through `answer`."""
        try:
            return await conversation.reply_to(
                ctx=self.ctx, person_id=rep.id, channel=CHANNEL, text=person_references(text)
            )
        finally:
            self.recent.forget_id(rep.id)

    # -- /debrief -------------------------------------------------------------------------------
    async def command(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        text = body.get("text") or ""
        if self.opens_modal(text):
            await ack()  # answered at once; the modal opens within the trigger's 3 s
            self.later(self.words_then_act(body, client, text, user_id=body["user_id"]))
            return
        rep = await self.rep(await self.person(body, body["user_id"], client))
        target = await self.route_words(rep, text)
        if isinstance(target, list):
            if any(r.attachment is not None for r in target):  # an answer can't hold a file: the DM
                await self.answer(client, body["user_id"], rep, target, words=text, shown=True)
            await ack(views.response(target))
            return
        await ack()  # "edit 2": the filled modal
        self.later(self.open_modal(client, body["trigger_id"], target))

    # -- the modal --------------------------------------------------------------------------------
    async def account_options(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        person = await self.person(body, body["user"]["id"], client)
        rep = await self.rep(person)
        query = " ".join(str(body.get("value") or "").split())
        async with self.ctx.db() as session:
            names = await slack_store.rep_accounts(
                session=session, person_id=rep.id, workspace_id=rep.workspace_id, query=query
            )
        options = [modal.account_option(self.texts, rep.locale, name=n, new=False) for n in names]
        if query and query.casefold() not in {n.casefold() for n in names}:
            if len(query) <= views.OPTION_VALUE_LIMIT:
                options.insert(0, modal.account_option(self.texts, rep.locale, name=query, new=True))
        await ack(options=[o.to_dict() for o in options[:100]])

    async def submission(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """File the modal for the signed user (body["user"], the team Bolt verified). The owner in
        private_metadata is only a hint that saves a lookup: the filing checks it against the
        signed user in the same statement, and a mismatch stores nothing."""
        meta = modal.ModalMeta.load(view.get("private_metadata"))
        user_id, team = body["user"]["id"], team_of(body)
        signed = SignedOwner(Platform.SLACK, team or "", user_id)
        if meta.owner is not None and meta.owner[1] != user_id:  # opened for someone else
            text = for_slack(self.texts.render(self.ctx.default_locale, "slack", "form_not_yours"))
            await ack(response_action="errors", errors={"rating:opening": text[:ERROR_LIMIT]})
            return
        owner = meta.owned_by(team, user_id) if meta.edit_of is None else None
        if owner is not None:  # the person the modal was opened for, as a hint: checked on filing
            person_id, locale, tz = owner
        else:
            rep = await self.rep(await self.person(body, user_id, client))
            person_id, locale, tz = rep.id, rep.locale, rep.timezone
        now = self.ctx.clock()
        raw, errors = modal.submitted_answers(view, meta, texts=self.texts, locale=locale, tz=tz)
        debrief, field_errors = validate_form(raw, texts=self.texts, loc=Locality(locale, tz, now))
        errors.update(field_errors)
        if errors or debrief is None:
            await ack(
                response_action="errors",
                errors={key: views.cut(text, ERROR_LIMIT) for key, text in errors.items()},
            )
            return
        if meta.edit_of is not None:
            try:
                result = await submit_correction(
                    ctx=self.ctx, person_id=person_id, debrief_id=meta.edit_of, debrief=debrief,
                    tips_key=f"slack:{view['id']}",
                )
            except (NotFound, EditWindowClosed):
                rep = await self.rep(await self.person(body, body["user"]["id"], client))
                target = await self.edit_or_error(rep, meta.edit_of)
                text = target.text if isinstance(target, Reply) else ""
                await ack(response_action="errors", errors={"rating:opening": views.cut(text, ERROR_LIMIT)})
                return
        else:
            key = f"slack:{view['id']}"
            try:
                result = await submit_debrief(
                    ctx=self.ctx, person_id=person_id, debrief=debrief, idempotency_key=key, tz=tz,
                    owner=signed, tips_later=True,
                )
            except NotFound:
                self.recent.forget_id(person_id)
                if owner is not None:  # the hinted person is gone or someone else: store nothing
                    text = for_slack(self.texts.render(locale, "slack", "form_not_yours"))
                    await ack(response_action="errors", errors={"rating:opening": text[:ERROR_LIMIT]})
                    return
                # a cached person erased since: the signed user, looked up afresh
                rep = await self.rep(await self.person(body, user_id, client))
                result = await submit_debrief(
                    ctx=self.ctx, person_id=rep.id, debrief=debrief, idempotency_key=key, tz=rep.timezone,
                    owner=signed, tips_later=True,
                )
        await ack()
        if self.metrics is not None and meta.edit_of is None:
            self.metrics.debrief(CHANNEL, created=result.created)
        if result.created or meta.edit_of is not None:
            self.wake()  # its tips DM is an outbox row stored with it: delivered once, retried

    # -- buttons ---------------------------------------------------------------------------------
    async def open_button(self, args: AsyncArgs) -> None:
        await self.words_then_act(
            args.body, args.client, "debrief " + str((args.action or {}).get("value") or "")
        )

    async def reply_button(self, args: AsyncArgs) -> None:
        await self.words_then_act(args.body, args.client, str((args.action or {}).get("value") or ""))

    async def words_then_act(
        self, body: dict[str, Any], client: AsyncWebClient, text: str, user_id: str | None = None
    ) -> None:
        user_id = user_id or body["user"]["id"]
        rep = await self.rep(await self.person(body, user_id, client))
        target = await self.route_words(rep, text)
        if isinstance(target, list):
            if target:
                await self.answer(client, user_id, rep, target, words=text)
        else:
            await self.open_modal(client, body["trigger_id"], target)

    async def edit_button(self, args: AsyncArgs) -> None:
        body, action, client = args.body, args.action or {}, args.client
        user_id = body["user"]["id"]
        rep = await self.rep(await self.person(body, user_id, client))
        debrief_id = parse_id(str(action.get("value")))
        if debrief_id is None:  # not a value our button sends
            return
        target = await self.edit_or_error(rep, debrief_id)
        if isinstance(target, Reply):
            await self.answer(client, user_id, rep, [target])
        else:
            await self.open_modal(client, body["trigger_id"], target)


async def link_opened(args: AsyncArgs) -> None:
    """A link button (a mailto: draft): Slack opens the link itself and still tells us; only ack."""
    await args.ack()


async def skip_retried_events(
    body: dict[str, Any], context: AsyncBoltContext, next: Any, request: Any
) -> BoltResponse | None:
    """Slack retries an event it thinks we missed; we ack at once, so the first try was handled."""
    num = request.headers.get("x-slack-retry-num", [None])[0]
    if num is not None and body.get("type") == "event_callback":
        reason = request.headers.get("x-slack-retry-reason", [""])[0]
        log.info(msg.SLACK_RETRY_SKIPPED.format(reason=reason, num=num))
        return BoltResponse(status=200, body="")
    return await next()
