"""Block Kit for Slack, built with slack_sdk's models (their limits checked on to_dict()).

Every piece of text that can carry user input goes through `bot.escape.for_slack` and into
plain_text objects, so it can never mention, link or format. Input values (an edited modal's
initial answers) are form data, not rendered text, and are passed as typed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.escape import for_slack
from dialogs.checklist import FIELDS, NOTE_LIMIT, POINTS, ChecklistField
from dialogs.messages import Reply
from dialogs.text import Texts

CALLBACK_DEBRIEF = "debrief"
ACCOUNT = "account"  # block id and action id of the customer select
VALUE = "value"  # action id of every other input
MEETING_TIME = "next_meeting_time"
ACTION_OPEN = "open_debrief"
ACTION_EDIT = "edit_debrief"
ACTION_REPLY = "reply"  # buttons of rendered replies: reply:<n>, value = the words to act on
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_LIMIT = 75
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
HOME_CALLBACK = "home"
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def plain(text: str, limit: int = SECTION_LIMIT) -> PlainTextObject:
    """User-facing text as Slack plain_text, escaped and cut to the element's limit."""
    escaped = for_slack(text)
    if len(escaped) > limit:
        # Cut, but never through an entity: a half "&lt;" would show as text, not as "<".
        escaped = _PARTIAL_ENTITY.sub("", escaped[: limit - 1]) + "…"
    return PlainTextObject(text=escaped, emoji=False)


def _label(texts: Texts, loc: str, key: str, **ctx: Any) -> PlainTextObject:
    return plain(texts.render(loc, "slack", key, **ctx), 2000)


# -- the debrief modal -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ModalMeta:
    """What the modal carries to its submission (private_metadata).

    `owner` is who it was opened for: (team id, user id, person id, locale, timezone). Slack only
    sends a view back for the user it was opened for, so a submission whose team and user match
    needs no lookup of the person; any mismatch is ignored and the person is looked up.
    """

    account: str | None = None  # fixed customer (named in the command, or an edit)
    edit_of: int | None = None
    owner: tuple[str, str, int, str, str] | None = None

    def dump(self) -> str:
        return json.dumps({"account": self.account, "edit_of": self.edit_of, "owner": self.owner})

    @classmethod
    def load(cls, raw: str | None) -> ModalMeta:
        try:
            data = json.loads(raw or "{}")
            edit_of = data.get("edit_of")
            owner = data.get("owner")
            if owner is not None:
                team, user, person_id, locale, tz = owner
                owner = (str(team), str(user), int(person_id), str(locale), str(tz))
            return cls(
                account=data.get("account"),
                edit_of=int(edit_of) if edit_of is not None else None,
                owner=owner,
            )
        except (ValueError, TypeError, AttributeError):
            return cls()

    def owned_by(self, team: str | None, user: str) -> tuple[int, str, str] | None:
        """(person id, locale, timezone) when the submitter is who the modal was opened for."""
        if self.owner is None or (self.owner[0], self.owner[1]) != (team, user):
            return None
        return self.owner[2], self.owner[3], self.owner[4]


def account_option(texts: Texts, loc: str, *, name: str, new: bool) -> Option:
    label = texts.render(loc, "slack", "account_new", name=name) if new else name
    return Option(value=name[:OPTION_VALUE_LIMIT], text=plain(label, OPTION_TEXT_LIMIT))


def debrief_modal(
    texts: Texts,
    loc: str,
    tz: str,
    *,
    initial: dict[str, Any] | None = None,
    meta: ModalMeta | None = None,
    edit_when: str | None = None,
) -> View:
    """The whole checklist in one modal. `initial` holds stored answers when correcting."""
    meta = meta or ModalMeta()
    initial = initial or {}
    blocks: list[Block] = []
    if meta.edit_of is not None and meta.account is not None:
        blocks.append(
            SectionBlock(
                text=_label(texts, loc, "modal_intro_edit", account=meta.account, when=edit_when or "")
            )
        )
    elif meta.account is not None:  # named in the command: shown, carried in private_metadata
        blocks.append(SectionBlock(text=_label(texts, loc, "modal_account", account=meta.account)))
        blocks.append(ContextBlock(elements=[_label(texts, loc, "modal_intro")]))
    else:
        blocks.append(ContextBlock(elements=[_label(texts, loc, "modal_intro")]))
        select = ExternalDataSelectElement(
            action_id=ACCOUNT,
            placeholder=plain(texts.render(loc, "slack", "account_placeholder"), 150),
            min_query_length=0,
        )
        blocks.append(InputBlock(block_id=ACCOUNT, label=_label(texts, loc, "account_label"), element=select))
    current: str | None = None
    for f in FIELDS:
        if f.point != current and f.point is not None:
            current = f.point
            number = POINTS.index(f.point) + 1
            blocks.append(DividerBlock())
            blocks.append(
                HeaderBlock(
                    text=plain(
                        texts.render(
                            loc,
                            "slack",
                            "point_label",
                            number=number,
                            title=texts.point(loc, f.point, "title"),
                        ),
                        HEADER_LIMIT,
                    )
                )
            )
            blocks.append(ContextBlock(elements=[plain(texts.point(loc, f.point, "hint"), 2000)]))
        if f.key == "outcome":
            blocks.append(DividerBlock())
        blocks.extend(_field_blocks(texts, loc, tz, f, initial))
    return View(
        type="modal",
        callback_id=CALLBACK_DEBRIEF,
        title=plain(texts.render(loc, "slack", "modal_title_edit" if meta.edit_of else "modal_title"), 24),
        submit=plain(texts.render(loc, "slack", "modal_submit"), 24),
        close=plain(texts.render(loc, "slack", "modal_close"), 24),
        private_metadata=meta.dump(),
        blocks=blocks,
    )


@lru_cache(maxsize=64)
def _new_modal_json(texts: Texts, loc: str, tz: str, named: bool) -> str:
    placeholder = "\0account\0" if named else None
    return json.dumps(debrief_modal(texts, loc, tz, meta=ModalMeta(account=placeholder)).to_dict())


def new_modal(texts: Texts, loc: str, tz: str, meta: ModalMeta) -> dict[str, Any]:
    """The modal for a new debrief as a dict. Its blocks depend only on language and timezone, so
    they are built and validated once; the customer's name goes into a fresh, escaped block."""
    view: dict[str, Any] = json.loads(_new_modal_json(texts, loc, tz, meta.account is not None))
    if meta.account is not None:
        label = _label(texts, loc, "modal_account", account=meta.account)
        view["blocks"][0] = SectionBlock(text=label).to_dict()
    view["private_metadata"] = meta.dump()
    return view


def _options(texts: Texts, loc: str, f: ChecklistField) -> list[Option]:
    return [Option(value=c, text=plain(texts.choice(loc, f.key, c), OPTION_TEXT_LIMIT)) for c in f.choices]


def _field_blocks(texts: Texts, loc: str, tz: str, f: ChecklistField, initial: dict[str, Any]) -> list[Block]:
    value = initial.get(f.key)
    optional = not f.required
    if f.kind in ("rating", "choice"):
        options = _options(texts, loc, f)
        chosen = next((o for o in options if o.value == value), None)
        if f.is_rating:
            assert f.point is not None
            label = plain(texts.point(loc, f.point, "question"), 2000)
        elif f.key == "outcome":
            label = _label(texts, loc, "outcome_label")
        else:
            label = plain(texts.field_question(loc, f.key), 2000)
        element = RadioButtonsElement(action_id=VALUE, options=options, initial_option=chosen)
        return [InputBlock(block_id=f.key, label=label, element=element, optional=optional)]
    label = plain(texts.field_question(loc, f.key), 2000)
    placeholder = plain(texts.render(loc, "slack", "optional_placeholder"), 150)
    if f.kind == "text":
        text_input = PlainTextInputElement(
            action_id=VALUE,
            multiline=True,
            max_length=NOTE_LIMIT,
            placeholder=placeholder,
            initial_value=str(value) if value else None,
        )
        return [InputBlock(block_id=f.key, label=label, element=text_input, optional=True)]
    if f.kind == "date":
        day = value.isoformat() if isinstance(value, date) else None
        picker = DatePickerElement(
            action_id=VALUE,
            initial_date=day,
            placeholder=plain(texts.render(loc, "slack", "date_placeholder"), 150),
        )
        return [InputBlock(block_id=f.key, label=label, element=picker, optional=True)]
    # datetime: a date picker and a time picker, combined in the person's timezone
    local = value.astimezone(ZoneInfo(tz)) if isinstance(value, datetime) else None
    day_picker = DatePickerElement(
        action_id=VALUE,
        initial_date=local.date().isoformat() if local else None,
        placeholder=plain(texts.render(loc, "slack", "date_placeholder"), 150),
    )
    time_picker = TimePickerElement(
        action_id=VALUE,
        initial_time=local.strftime("%H:%M") if local else None,
        timezone=tz,
        placeholder=plain(texts.render(loc, "slack", "time_placeholder"), 150),
    )
    return [
        InputBlock(block_id=f.key, label=label, element=day_picker, optional=True),
        InputBlock(
            block_id=MEETING_TIME,
            label=_label(texts, loc, "next_meeting_time"),
            element=time_picker,
            optional=True,
        ),
    ]


def read_state(values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str | None]:
    """The submitted modal's state as {block_id: raw value} (options by value, pickers as ISO)."""
    raw: dict[str, str | None] = {}
    for block_id, actions in values.items():
        for element in actions.values():
            kind = element.get("type")
            if kind in ("radio_buttons", "static_select", "external_select"):
                selected = element.get("selected_option") or {}
                raw[block_id] = selected.get("value")
            elif kind == "datepicker":
                raw[block_id] = element.get("selected_date")
            elif kind == "timepicker":
                raw[block_id] = element.get("selected_time")
            else:
                raw[block_id] = element.get("value")
    return raw


# -- messages -------------------------------------------------------------------------------------
def reply_blocks(replies: Sequence[Reply]) -> list[Block]:
    """Neutral replies as blocks: a header per title, plain text, bullet items, buttons."""
    blocks: list[Block] = []
    for reply in replies:
        if reply.title:
            blocks.append(HeaderBlock(text=plain(reply.title, HEADER_LIMIT)))
        if reply.text:
            blocks.append(SectionBlock(text=plain(reply.text)))
        chunk: list[str] = []
        for item in reply.items:
            line = f"• {item}"
            if chunk and sum(len(for_slack(x)) + 1 for x in [*chunk, line]) > SECTION_LIMIT:
                blocks.append(SectionBlock(text=plain("\n".join(chunk))))
                chunk = []
            chunk.append(line)
        if chunk:
            blocks.append(SectionBlock(text=plain("\n".join(chunk))))
        if reply.buttons:
            blocks.append(
                ActionsBlock(
                    elements=[
                        ButtonElement(
                            text=plain(b.label, BUTTON_LIMIT),
                            action_id=f"{ACTION_REPLY}:{i}",
                            value=b.value[:2000],
                        )
                        for i, b in enumerate(reply.buttons[:25])
                    ]
                )
            )
    return blocks[:50]


def fallback_text(replies: Sequence[Reply]) -> str:
    """The notification text of a message (mrkdwn-parsed by Slack, so escaped)."""
    for reply in replies:
        line = reply.title or reply.text or (reply.items[0] if reply.items else "")
        if line:
            return for_slack(line)[:3000]
    return ""


def edit_button(texts: Texts, loc: str, debrief_id: int) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=_label(texts, loc, "edit_button"), action_id=ACTION_EDIT, value=str(debrief_id)
            )
        ]
    )


def open_prompt(texts: Texts, loc: str, account: str | None) -> list[Block]:
    """A message with a button that opens the modal (a DM can't open one by itself)."""
    key, ctx = ("open_prompt", {"account": account}) if account else ("open_prompt_blank", {})
    return [
        SectionBlock(text=_label(texts, loc, key, **ctx)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=_label(texts, loc, "open_button"),
                    action_id=ACTION_OPEN,
                    value=(account or "")[:2000],
                    style="primary",
                )
            ]
        ),
    ]


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
        SectionBlock(text=_label(texts, loc, "home_intro", name=data.name or "")),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=_label(texts, loc, "home_start"), action_id=ACTION_OPEN, value="", style="primary"
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
        blocks.append(SectionBlock(text=_label(texts, loc, "home_profile_none")))
    return View(type="home", callback_id=HOME_CALLBACK, blocks=blocks)
