"""Redrawing the open debrief modal when a rating or the outcome is chosen (`dispatch_action` ->
block_actions -> `views.update`), so it shows only the details that apply (the rules in
prompts/checklist_rules.yaml), with everything typed carried over.

The action is acked at once; the redraw runs right after, well within the trigger's seconds.
Every redraw passes a view hash, so it never overwrites a newer drawing. Quick clicks race: two
choices made before the first redraw arrives carry the same (then stale) hash, and the later
one, whose state holds both choices, must still be drawn. So this process remembers, per open
view, the hash of its own last drawing and the moment of the choice it drew: a later choice is
drawn on that hash, an earlier one is dropped. That memory only orders redraws (a modal's
answers live in Slack's view state until submitted); without it, a redraw falls back to the
hash its event carried, and a conflict then leaves the view as the newer drawing made it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError

from bot import log_messages as msg
from bot.slack import modal
from bot.slack.people import team_of

if TYPE_CHECKING:
    from bot.slack.listeners import SlackDebriefFlow

log = logging.getLogger("coach.slack")
# The blocks whose choice decides what else is asked: every rating and the outcome.
DECIDING_BLOCKS = re.compile(r"^(rating:[a-z_]+|outcome)$")
REMEMBERED_VIEWS = 2000  # open modals whose last drawing this process remembers


@dataclass(frozen=True)
class Drawing:
    moment: float  # action_ts of the choice drawn
    hash: str  # the view's hash after the drawing


class ModalRedraws:
    """The block action listener that redraws the debrief modal."""

    def __init__(self, flow: SlackDebriefFlow) -> None:
        self.flow = flow
        self.texts = flow.texts
        self.drawn: OrderedDict[str, Drawing] = OrderedDict()
        self.locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def register(self, bolt: AsyncApp) -> None:
        choice: dict[str, str | re.Pattern[str]] = {"block_id": DECIDING_BLOCKS, "action_id": modal.VALUE}
        bolt.action(choice)(self.flow.work.acked(self.redraw))

    async def redraw(self, args: AsyncArgs) -> None:
        body, client = args.body, args.client
        view: dict[str, Any] = body.get("view") or {}
        if view.get("callback_id") != modal.CALLBACK_DEBRIEF or not view.get("id"):
            return  # not our modal (a message's radio buttons would carry no view)
        view_id = str(view["id"])
        moment = _moment((args.action or {}).get("action_ts"))
        locale, tz = await self.locality(body, view, client)
        drawing = modal.redrawn_modal(self.texts, locale, tz, view).to_dict()
        lock = self.locks.get(view_id)
        if lock is None:
            lock = self.locks[view_id] = asyncio.Lock()
        async with lock:  # one redraw of a view at a time here, so each sees the last one's hash
            last = self.drawn.get(view_id)
            if last is not None and last.moment >= moment:
                return  # a later choice, holding this one too, is drawn already
            hashes = [h for h in dict.fromkeys((last.hash if last else None, view.get("hash"))) if h]
            for tried, view_hash in enumerate(hashes, start=1):
                try:
                    answer = await client.views_update(view_id=view_id, hash=view_hash, view=drawing)
                except SlackApiError as exc:
                    error = str(exc.response.get("error"))
                    if error == "hash_conflict" and tried < len(hashes):
                        continue  # redrawn elsewhere since our drawing: the event's hash is newer
                    log.info(msg.SLACK_REDRAW_SKIPPED.format(view=view_id, error=error))
                    return
                self.remember(view_id, Drawing(moment, str((answer.get("view") or {}).get("hash") or "")))
                return

    def remember(self, view_id: str, drawing: Drawing) -> None:
        self.drawn[view_id] = drawing
        self.drawn.move_to_end(view_id)
        while len(self.drawn) > REMEMBERED_VIEWS:
            self.drawn.popitem(last=False)

    async def locality(self, body: dict[str, Any], view: dict[str, Any], client: Any) -> tuple[str, str]:
        """The language and timezone to draw in: the modal's owner hint when it is the signed
        user (it only picks the wording), else the signed user's profile."""
        meta = modal.ModalMeta.load(view.get("private_metadata"))
        user_id = str((body.get("user") or {}).get("id") or "")
        owner = meta.owned_by(team_of(body), user_id)
        if owner is not None:
            return owner[1], owner[2]
        rep = await self.flow.rep(await self.flow.person(body, user_id, client))
        return rep.locale, rep.timezone


def _moment(action_ts: object) -> float:
    try:
        return float(str(action_ts))
    except ValueError:
        return time.time()
