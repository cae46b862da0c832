"""The debrief modal: the whole checklist as Block Kit (slack_sdk models), and reading it back.

Built once per language and timezone and reused (see new_modal); the customer's name, the only
user text in a new modal, goes in escaped. An edit's stored answers are input values: form data
handed back to us, not rendered text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.slack.views import HEADER_LIMIT, OPTION_TEXT_LIMIT, OPTION_VALUE_LIMIT, plain
from bot.slack.views import label as slack_label
from dialogs.checklist import FIELDS, NOTE_LIMIT, POINTS, ChecklistField
from dialogs.text import Texts
from dialogs.validation import parse_id

CALLBACK_DEBRIEF = "debrief"
ACCOUNT = "account"  # block id and action id of the customer select
VALUE = "value"  # action id of every other input
MEETING_TIME = "next_meeting_time"


# -- the debrief modal -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ModalMeta:
    """What the modal carries to its submission (private_metadata).

    `owner` is who it was opened for: (team id, user id, person id, locale, timezone). It is a hint,
    never identity: a submission is filed for the signed user, and the person id is used only
    when the filing statement finds that it is the signed user's row (saving a lookup); a view
    opened for another user, or a person id that is not theirs, stores nothing.
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
                owner = (str(team), str(user), _id(person_id), str(locale), str(ZoneInfo(str(tz)).key))
            return cls(
                account=data.get("account"),
                edit_of=_id(edit_of) if edit_of is not None else None,
                owner=owner,
            )
        except (ValueError, TypeError, AttributeError, KeyError):  # KeyError: ZoneInfoNotFoundError
            return cls()

    def owned_by(self, team: str | None, user: str) -> tuple[int, str, str] | None:
        """(person id, locale, timezone) when the submitter is who the modal was opened for."""
        if self.owner is None or (self.owner[0], self.owner[1]) != (team, user):
            return None
        return self.owner[2], self.owner[3], self.owner[4]


def _id(value: object) -> int:
    """A row id from the metadata (a database integer), else ValueError."""
    parsed = parse_id(str(value))
    if parsed is None:
        raise ValueError(f"not an id: {str(value)[:40]}")
    return parsed


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
                text=slack_label(texts, loc, "modal_intro_edit", account=meta.account, when=edit_when or "")
            )
        )
    elif meta.account is not None:  # named in the command: shown, carried in private_metadata
        blocks.append(SectionBlock(text=slack_label(texts, loc, "modal_account", account=meta.account)))
        blocks.append(ContextBlock(elements=[slack_label(texts, loc, "modal_intro")]))
    else:
        blocks.append(ContextBlock(elements=[slack_label(texts, loc, "modal_intro")]))
        select = ExternalDataSelectElement(
            action_id=ACCOUNT,
            placeholder=plain(texts.render(loc, "slack", "account_placeholder"), 150),
            min_query_length=0,
        )
        blocks.append(
            InputBlock(block_id=ACCOUNT, label=slack_label(texts, loc, "account_label"), element=select)
        )
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
def _new_modal_template(texts: Texts, loc: str, tz: str, named: bool) -> dict[str, Any]:
    placeholder = "\0account\0" if named else None
    return debrief_modal(texts, loc, tz, meta=ModalMeta(account=placeholder)).to_dict()


def new_modal(texts: Texts, loc: str, tz: str, meta: ModalMeta) -> dict[str, Any]:
    """The modal for a new debrief as a dict. Its blocks depend only on language and timezone, so
    they are built and validated once (and shared, never changed); the customer's name goes into
    a fresh, escaped first block."""
    template = _new_modal_template(texts, loc, tz, meta.account is not None)
    view = {**template, "blocks": list(template["blocks"]), "private_metadata": meta.dump()}
    if meta.account is not None:
        named = slack_label(texts, loc, "modal_account", account=meta.account)
        view["blocks"][0] = SectionBlock(text=named).to_dict()
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
            label = slack_label(texts, loc, "outcome_label")
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
            label=slack_label(texts, loc, "next_meeting_time"),
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
