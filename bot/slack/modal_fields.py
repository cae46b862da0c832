"""The Block Kit inputs of the debrief modal's checklist: one field at a time, filled from the
form's answers (raw values as Slack's view state holds them), in the order the rules ask them.

Ratings and the outcome dispatch an action when chosen (the modal redraws with the details that
apply, bot/slack/modal_redraw.py); block ids and action ids never change between drawings, so
Slack keeps what was typed in a block that stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    TimePickerElement,
)

from bot.slack.views import HEADER_LIMIT, OPTION_TEXT_LIMIT, plain
from bot.slack.views import label as slack_label
from dialogs.checklist import FIELDS, FIELDS_BY_KEY, NOTE_LIMIT, POINTS, ChecklistField
from dialogs.checklist_path import form_fields
from dialogs.text import Texts

VALUE = "value"  # action id of every checklist input
MEETING_TIME = "next_meeting_time"  # block id of the next meeting's time picker
Answers = Mapping[str, str | None]


def checklist_blocks(texts: Texts, loc: str, tz: str, answers: Answers) -> tuple[list[Block], set[str]]:
    """The checklist's blocks for these answers (per the rules' form_fields), and the block ids shown."""
    blocks: list[Block] = []
    shown: set[str] = set()
    current: str | None = None
    for key in form_fields(answers):
        f = FIELDS_BY_KEY[key]
        if key == "outcome":
            blocks.append(DividerBlock())
            current = None
        elif f.point != current and f.point is not None:
            current = f.point
            blocks += _point_heading(texts, loc, f.point)
        for block in _field_blocks(texts, loc, tz, f, answers):
            blocks.append(block)
            shown.add(str(block.block_id))
    return blocks, shown


def _point_heading(texts: Texts, loc: str, point: str) -> list[Block]:
    title = texts.point(loc, point, "title")
    heading = texts.render(loc, "slack", "point_label", number=POINTS.index(point) + 1, title=title)
    return [
        DividerBlock(),
        HeaderBlock(text=plain(heading, HEADER_LIMIT)),
        ContextBlock(elements=[plain(texts.point(loc, point, "hint"), 2000)]),
    ]


def stored_answers(initial: Mapping[str, Any], tz: str) -> dict[str, str | None]:
    """A stored debrief's values as the modal's raw answers (dates ISO, the meeting split in the
    rep's timezone), so an edit is drawn like any other state."""
    answers: dict[str, str | None] = {}
    for f in FIELDS:
        value = initial.get(f.key)
        if f.kind == "datetime":
            local = value.astimezone(ZoneInfo(tz)) if isinstance(value, datetime) else None
            answers[f.key] = local.date().isoformat() if local else None
            answers[MEETING_TIME] = local.strftime("%H:%M") if local else None
        elif f.kind == "date":
            answers[f.key] = value.isoformat() if isinstance(value, date) else None
        else:
            answers[f.key] = str(value) if value not in (None, "") else None
    return answers


def _options(texts: Texts, loc: str, f: ChecklistField) -> list[Option]:
    return [Option(value=c, text=plain(texts.choice(loc, f.key, c), OPTION_TEXT_LIMIT)) for c in f.choices]


def _iso_date(value: str | None) -> str | None:
    try:
        return date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        return None


def _clock(value: str | None) -> str | None:
    if value and len(value) == 5 and value[2] == ":" and value.replace(":", "").isdigit():
        return value
    return None


def _field_blocks(texts: Texts, loc: str, tz: str, f: ChecklistField, answers: Answers) -> list[Block]:
    value = answers.get(f.key)
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
        redraws = f.is_rating or f.key == "outcome"  # what it decides is drawn the moment it is chosen
        return [InputBlock(block_id=f.key, label=label, element=element, optional=not f.required,
                           dispatch_action=redraws or None)]
    label = plain(texts.field_question(loc, f.key), 2000)
    if f.kind == "text":
        text_input = PlainTextInputElement(
            action_id=VALUE,
            multiline=True,
            max_length=NOTE_LIMIT,
            placeholder=plain(texts.render(loc, "slack", "optional_placeholder"), 150),
            initial_value=value[:NOTE_LIMIT] if value else None,
        )
        return [InputBlock(block_id=f.key, label=label, element=text_input, optional=True)]
    day_picker = DatePickerElement(
        action_id=VALUE,
        initial_date=_iso_date(value),
        placeholder=plain(texts.render(loc, "slack", "date_placeholder"), 150),
    )
    if f.kind == "date":
        return [InputBlock(block_id=f.key, label=label, element=day_picker, optional=True)]
    # datetime: a date picker and a time picker, combined in the person's timezone
    time_picker = TimePickerElement(
        action_id=VALUE,
        initial_time=_clock(answers.get(MEETING_TIME)),
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
