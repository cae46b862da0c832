"""A reply's TextForm in Slack (the digest's action point to send): its button opens a small modal
with the text prefilled; the submission goes on as the words the form stands for
(`assign #12: <the edited text>`), for the signed user, as if they had typed them.

The button's value only fills the modal; who sends is the signed user of the submission, and the
dialog checks that they may (a manager reaches only their own reps). A refusal is shown under the
field and the modal stays open; otherwise the answer comes as a DM (through the outbox, once per
view). A view submitted twice stores one point: the same open point again is not a new one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.views import ACTION_FORM, cut, label, plain
from dialogs.action_assign import REPEAT
from dialogs.commands import parse_command
from dialogs.text import Texts

if TYPE_CHECKING:
    from bot.slack.listeners import SlackDebriefFlow

CALLBACK_FORM = "text_form"
INPUT = "text"  # block id and action id of the modal's one input
FORM_COMMANDS = ("assign",)  # what a form may stand for
ERROR_LIMIT = 150
METADATA_LIMIT = 3000


def form_modal(shown: dict[str, Any], texts: Texts, loc: str) -> View:
    """The modal: the form's hint, and its text in one input (required, at most `limit` long)."""
    limit = int(shown.get("limit") or 500)
    blocks: list[Any] = []
    if shown.get("hint"):
        blocks.append(SectionBlock(text=plain(str(shown["hint"]))))
    blocks.append(
        InputBlock(
            block_id=INPUT,
            label=plain(str(shown.get("label") or ""), 2000),
            element=PlainTextInputElement(
                action_id=INPUT, multiline=True, max_length=limit,
                initial_value=str(shown.get("text") or "")[:limit] or None,
            ),
        )
    )
    return View(
        type="modal",
        callback_id=CALLBACK_FORM,
        title=plain(str(shown.get("title") or "") or texts.render(loc, "action_points", "form_title"), 24),
        submit=label(texts, loc, "form_submit"),
        close=label(texts, loc, "modal_close"),
        private_metadata=str(shown.get("command") or "")[:METADATA_LIMIT],
        blocks=blocks,
    )


def _shown(value: object) -> dict[str, Any] | None:
    """The button's value, if it is one our form button sends."""
    try:
        shown = json.loads(str(value))
    except ValueError:
        return None
    if not isinstance(shown, dict) or parse_command(str(shown.get("command", ""))).name not in FORM_COMMANDS:
        return None
    return shown


class TextForms:
    """The button that opens a form's modal, and the modal's submission."""

    def __init__(self, flow: SlackDebriefFlow) -> None:
        self.flow = flow

    def register(self, bolt: AsyncApp) -> None:
        bolt.action(ACTION_FORM)(self.flow.work.acked(self.open))
        bolt.view_submission(CALLBACK_FORM)(self.submit)

    async def open(self, args: AsyncArgs) -> None:
        body, client = args.body, args.client
        shown = _shown((args.action or {}).get("value"))
        if shown is None:
            return
        rep = await self.flow.rep(await self.flow.person(body, body["user"]["id"], client))
        await self.flow.open_modal(client, body["trigger_id"], form_modal(shown, self.flow.texts, rep.locale))

    async def submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        command = str(view.get("private_metadata") or "")
        state = ((view.get("state") or {}).get("values") or {}).get(INPUT, {}).get(INPUT, {})
        text = str(state.get("value") or "").strip()
        user_id = body["user"]["id"]
        if parse_command(command).name not in FORM_COMMANDS:
            await ack()
            return
        rep = await self.flow.rep(await self.flow.person(body, user_id, client))
        replies = await self.flow.converse(rep, f"{command} {text}")
        refused = [r for r in replies if r.kind == "error"]
        if refused:
            await ack(response_action="errors", errors={INPUT: cut(refused[0].text, ERROR_LIMIT)})
            return
        await ack()
        if any(r.meta.get(REPEAT) for r in replies):
            return  # the same view submitted again: its first answer is on its way
        key = f"slack:form:{view.get('id') or ''}"
        self.flow.later(self.flow.answer(client, user_id, rep, replies, key=key))
