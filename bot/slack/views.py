"""Block Kit messages and the App Home, built with slack_sdk's models (limits checked on to_dict()).

Every piece of text that can carry user input goes through `bot.escape.for_slack` and into
plain_text objects, so it can never mention, link or format. Input values (an edited modal's
initial answers) are form data, not rendered text, and are passed as typed.
"""

from __future__ import annotations

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
from dialogs.messages import Reply
from dialogs.text import Texts

ACTION_OPEN = "open_debrief"
ACTION_EDIT = "edit_debrief"
ACTION_REPLY = "reply"  # buttons of rendered replies: reply:<n>, value = the words to act on
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


# -- messages -------------------------------------------------------------------------------------
def reply_blocks(replies: Sequence[Reply]) -> list[Block]:
    """Neutral replies as blocks: a header per title, plain text, bullet items, buttons."""
    blocks: list[Block] = []
    for reply in replies:
        if reply.title:
            blocks.append(HeaderBlock(text=plain(reply.title, HEADER_LIMIT)))
        blocks += [SectionBlock(text=plain(part)) for part in _sections(reply.text)]
        blocks += _bullets(reply.items)
        for group in reply.groups:  # a divider between topics, each its title over its items
            blocks.append(DividerBlock())
            blocks += _bullets(group.items, title=group.title)
        if any(not b.url or len(b.url) <= URL_LIMIT for b in reply.buttons[:25]):
            blocks.append(
                ActionsBlock(
                    elements=[
                        ButtonElement(text=plain(b.label, BUTTON_LIMIT), action_id=f"{ACTION_LINK}:{i}",
                                      url=b.url)
                        if b.url else
                        ButtonElement(
                            text=plain(b.label, BUTTON_LIMIT),
                            action_id=f"{ACTION_REPLY}:{i}",
                            value=b.value[:2000],
                        )
                        for i, b in enumerate(reply.buttons[:25])
                        if not b.url or len(b.url) <= URL_LIMIT  # a longer link Slack refuses: left out
                    ]
                )
            )
    return blocks[:50]


def _bullets(items: Sequence[str], title: str | None = None) -> list[Block]:
    """Items as "• item" lines in as few plain-text sections as Slack's limit allows."""
    blocks: list[Block] = []
    chunk: list[str] = [title] if title else []
    for item in items:
        line = f"• {item}"
        if chunk and sum(len(for_slack(x)) + 1 for x in [*chunk, line]) > SECTION_LIMIT:
            blocks.append(SectionBlock(text=plain("\n".join(chunk))))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(SectionBlock(text=plain("\n".join(chunk))))
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
    return {"text": fallback_text(replies), "blocks": [b.to_dict() for b in reply_blocks(replies)],
            "mrkdwn": False}


def edit_button(texts: Texts, loc: str, debrief_id: int) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(text=label(texts, loc, "edit_button"), action_id=ACTION_EDIT, value=str(debrief_id))
        ]
    )


def open_button(texts: Texts, loc: str, account: str | None) -> ActionsBlock:
    """The button that opens the modal for `account` (blank: the rep picks one); a message
    offers it because a DM can't open a modal by itself."""
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=label(texts, loc, "open_button"),
                action_id=ACTION_OPEN,
                value=(account or "")[:2000],
                style="primary",
            )
        ]
    )


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
