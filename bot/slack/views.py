"""Block Kit for Slack: messages as Block Kit JSON, views (the App Home) with slack_sdk's models.

Messages (tips, nudges, answers) are built as the JSON Slack takes: there is one of them per
debrief, and slack_sdk's models cost more CPU to build and serialize (to_dict validates every
object) than the rest of the message's delivery. Every limit those models check is kept here
(texts cut by `cut`, at most 25 buttons and 50 blocks, links over 3,000 characters left out), and
tests/bot/slack/test_rendering.py parses every message back through slack_sdk's models to prove it.

Every piece of text that can carry user input goes through `bot.escape.for_slack` and into
plain_text objects, so it can never mention, link or format. Input values (an edited modal's
initial answers) are form data, not rendered text, and are passed as typed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.escape import for_slack
from dialogs.checklist import POINTS
from dialogs.messages import Reply, TextForm
from dialogs.text import Texts

ACTION_OPEN = "open_debrief"
ACTION_EDIT = "edit_debrief"
ACTION_REPLY = "reply"  # buttons of rendered replies: reply:<n>, value = the words to act on
ACTION_FORM = "text_form"  # a reply's TextForm: opens a modal with its text (bot/slack/text_form.py)
ACTION_LINK = "link"  # link buttons of rendered replies (link:<n>): Slack opens the URL, we only ack
URL_LIMIT = 3000
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_LIMIT = 75
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
HOME_CALLBACK = "home"
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def cut(text: str, limit: int) -> str:
    """Escaped text cut to `limit` characters, never through an entity: a half "&lt;" (or "&am")
    would show as typed, not as "<"."""
    escaped = for_slack(text)
    if len(escaped) <= limit:
        return escaped
    return _PARTIAL_ENTITY.sub("", escaped[: limit - 1]) + "…"


def plain(text: str, limit: int = SECTION_LIMIT) -> PlainTextObject:
    """User-facing text as Slack plain_text, escaped (`& < >` only) and cut to the element's limit."""
    return PlainTextObject(text=cut(text, limit), emoji=False)


def label(texts: Texts, loc: str, key: str, **ctx: Any) -> PlainTextObject:
    return plain(texts.render(loc, "slack", key, **ctx), 2000)


# -- messages, as Block Kit JSON ------------------------------------------------------------------
Json = dict[str, Any]


def plain_json(text: str, limit: int = SECTION_LIMIT) -> Json:
    """`plain` as JSON: escaped, cut to the limit, emoji shortcodes left as typed."""
    return {"type": "plain_text", "text": cut(text, limit), "emoji": False}


def _section(text: str) -> Json:
    return {"type": "section", "text": plain_json(text)}


def _button(text: str, action_id: str, *, value: str | None = None, url: str | None = None,
            style: str | None = None) -> Json:
    button: Json = {"type": "button", "text": plain_json(text, BUTTON_LIMIT), "action_id": action_id}
    if url:
        button["url"] = url
    if value:  # Slack refuses an empty value: a button without one sends none
        button["value"] = value[:2000]
    if style:
        button["style"] = style
    return button


def _actions(*elements: Json) -> Json:
    return {"type": "actions", "elements": list(elements)}


def reply_blocks(replies: Sequence[Reply]) -> list[Json]:
    """Neutral replies as blocks: a header per title, plain text, bullet items, buttons."""
    blocks: list[Json] = []
    for reply in replies:
        if reply.title:
            blocks.append({"type": "header", "text": plain_json(reply.title, HEADER_LIMIT)})
        blocks += [_section(part) for part in _sections(reply.text)]
        blocks += _bullets(reply.items)
        for group in reply.groups:  # a divider between topics, each its title over its items
            blocks.append({"type": "divider"})
            blocks += _bullets(group.items, title=group.title)
        buttons = [
            _button(b.label, f"{ACTION_LINK}:{i}", url=b.url) if b.url else
            _button(b.label, f"{ACTION_REPLY}:{i}", value=b.value)
            for i, b in enumerate(reply.buttons[:25])
            if not b.url or len(b.url) <= URL_LIMIT  # a longer link Slack refuses: left out
        ]
        if buttons:
            blocks.append(_actions(*buttons))
        if reply.form is not None:
            blocks.append(_actions(form_button(reply.form)))
    return blocks[:50]


def form_button(form: TextForm) -> Json:
    """The button that opens a TextForm's modal; its value carries what the modal shows (the
    modal's submission is acted on for the signed user, as if they had typed the words)."""
    shown = {"command": form.command, "text": form.text[: form.limit], "label": form.label[:200],
             "title": form.title[:24], "hint": form.hint[:300], "limit": form.limit}
    return _button(form.button, ACTION_FORM, value=json.dumps(shown, ensure_ascii=False))


def _bullets(items: Sequence[str], title: str | None = None) -> list[Json]:
    """Items as "• item" lines in as few plain-text sections as Slack's limit allows."""
    blocks: list[Json] = []
    chunk: list[str] = [title] if title else []
    for item in items:
        line = f"• {item}"
        if chunk and sum(len(for_slack(x)) + 1 for x in [*chunk, line]) > SECTION_LIMIT:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    return blocks


def _sections(text: str) -> list[str]:
    """A reply's text in pieces that each fit one section (a nudge runs long), split between lines;
    a single over-long line is cut (`plain`)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n") if text else []:
        grown = size + len(for_slack(line)) + (1 if current else 0)
        if current and grown > SECTION_LIMIT:
            parts.append("\n".join(current).strip("\n"))
            current, size = [], 0
            grown = len(for_slack(line))
        current.append(line)
        size = grown
    if current:
        parts.append("\n".join(current).strip("\n"))
    return [part for part in parts if part.strip()]


def fallback_text(replies: Sequence[Reply]) -> str:
    """The notification text of a message: escaped, and sent with `mrkdwn: false` (it may carry
    user text), cut without splitting an entity."""
    for reply in replies:
        line = reply.title or reply.text or (reply.items[0] if reply.items else "")
        if line:
            return cut(line, SECTION_LIMIT)
    return ""


def response(replies: Sequence[Reply]) -> dict[str, Any]:
    """The replies as one message payload (a slash command's answer), with `mrkdwn: false`."""
    return {"text": fallback_text(replies), "blocks": reply_blocks(replies), "mrkdwn": False}


def edit_button(texts: Texts, loc: str, debrief_id: int) -> Json:
    return _actions(_button(texts.render(loc, "slack", "edit_button"), ACTION_EDIT, value=str(debrief_id)))


def open_button(texts: Texts, loc: str, account: str | None) -> Json:
    """The button that opens the modal for `account` (blank: the rep picks one); a message
    offers it because a DM can't open a modal by itself."""
    text = texts.render(loc, "slack", "open_button")
    return _actions(_button(text, ACTION_OPEN, value=account or "", style="primary"))


# -- App Home -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HomeData:
    name: str
    latest: list[tuple[str, str, str]]  # (when, account, outcome), already localised
    upcoming: list[tuple[str, str]]  # (when, what)
    profile: dict[str, dict[str, int]]  # point -> rating -> count
    profile_count: int


def home_view(texts: Texts, loc: str, data: HomeData) -> View:
    s = "slack"
    blocks: list[Block] = [
        SectionBlock(text=label(texts, loc, "home_intro", name=data.name or "")),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=label(texts, loc, "home_start"), action_id=ACTION_OPEN, value="", style="primary"
                )
            ]
        ),
        DividerBlock(),
        HeaderBlock(text=plain(texts.render(loc, s, "home_latest"), HEADER_LIMIT)),
    ]
    rows = [texts.render(loc, s, "home_row", when=w, account=a, outcome=o) for w, a, o in data.latest]
    blocks.append(SectionBlock(text=plain("\n".join(rows) if rows else texts.render(loc, s, "home_none"))))
    blocks.append(HeaderBlock(text=plain(texts.render(loc, s, "home_nudges"), HEADER_LIMIT)))
    rows = [texts.render(loc, s, "home_nudge_row", when=w, what=what) for w, what in data.upcoming]
    none = texts.render(loc, s, "home_no_nudges")
    blocks.append(SectionBlock(text=plain("\n".join(rows) if rows else none)))
    blocks.append(
        HeaderBlock(text=plain(texts.render(loc, s, "home_profile", count=data.profile_count), HEADER_LIMIT))
    )
    if data.profile_count:
        rows = [
            texts.render(
                loc,
                s,
                "home_profile_row",
                title=texts.point(loc, p, "title"),
                **{r: data.profile.get(p, {}).get(r, 0) for r in ("yes", "partly", "no")},
            )
            for p in POINTS
        ]
        blocks.append(SectionBlock(text=plain("\n".join(rows))))
    else:
        blocks.append(SectionBlock(text=label(texts, loc, "home_profile_none")))
    return View(type="home", callback_id=HOME_CALLBACK, blocks=blocks)
