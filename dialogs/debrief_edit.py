"""Correcting a stored debrief in the chat: `edit 2` shows it and asks which part to change.

Only that part is asked again (a point's rating, then its details under the new rating; the
outcome; the next meeting), plus a field the new answers make apply that the stored debrief
never asked. Everything else stays; `settle` clears details that no longer apply. The debrief
keeps its original time, and can be corrected only within the edit window.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from dialogs.checklist import FIELDS_BY_KEY, POINTS
from dialogs.checklist_path import RULES, form_fields, questions
from dialogs.context import CoachContext
from dialogs.debrief import HISTORY_SIZE, Rep, check_edit_window, stored_values
from dialogs.debrief_questions import (
    PART_STEP,
    offered_parts,
    part_label,
    question,
    to_json,
    values_of,
)
from dialogs.debrief_steps import move, next_field, save_new
from dialogs.messages import Reply
from dialogs.text import LOCALES, format_when
from dialogs.validation import choice_list
from storage.debriefs import StoredDebrief, get_debrief, latest_debriefs
from storage.errors import EditWindowClosed, NotFound
from storage.models import DialogState

# "2" or "#2" (a number in `history`), "id:17" (a button's stable reference), then a part.
_EDIT_ARG = re.compile(r"^(?:#?(?P<number>\d{1,4})|id:(?P<id>\d{1,18}))(?:\s+(?P<part>\S+))?$", re.I)


def is_edit_arg(arg: str) -> bool:
    """Whether `edit <arg>` names a debrief to correct (what the history's buttons send)."""
    return _EDIT_ARG.match(arg.strip()) is not None


def part_keys(part: str) -> set[str]:
    """The fields an edit of `part` asks again: a point's rating and every detail it can have."""
    if part not in POINTS:
        return {part}
    keys = {f"rating:{part}", f"note:{part}"}
    for rating in RULES.rating_choices(part):
        keys.update(RULES.detail_keys(part, rating))
    return keys


def with_part(data: dict[str, Any], part: str) -> dict[str, Any]:
    """The draft of an edit of `part`: the stored answers without that part's."""
    original = dict(data["original"])
    keys = part_keys(part)
    return {**data, "part": part, "asked": [],
            "answers": {k: v for k, v in original.items() if k not in keys},
            "asked_before": questions(values_of(original))[0]}


def names_whole_debrief(arg: str) -> bool:
    """`edit 2`, `edit #2`, `edit id:17`: a debrief and no part of it (a form shows it whole)."""
    match = _EDIT_ARG.match(arg.strip())
    return match is not None and match.group("part") is None


async def editable(ctx: CoachContext, rep: Rep, arg: str) -> StoredDebrief | list[Reply] | None:
    """The rep's own debrief `edit <arg>` names, when it can be corrected now; else the answer why
    not (no such number, gone or someone else's, past the edit window); None when `arg` names none."""
    match = _EDIT_ARG.match(arg.strip())
    if match is None:
        return None
    t, loc = ctx.texts, rep.locale
    row = await _stored(ctx, rep, match)
    if row is None:
        number = match.group("number")
        if number is None:
            return [Reply(kind="error", text=t.message(loc, "edit_gone"))]
        return [Reply(kind="error", text=t.message(loc, "edit_not_found", number=int(number)))]
    try:
        check_edit_window(ctx, row.debrief.created_at)
    except EditWindowClosed:
        return [window_closed(ctx, row.debrief.created_at, locale=loc, timezone=rep.timezone)]
    return row


def window_closed(ctx: CoachContext, created_at: datetime, *, locale: str, timezone: str) -> Reply:
    """The answer to correcting a debrief from `created_at`, past the edit window."""
    when = format_when(created_at, locale=locale, tz=timezone)
    return Reply(kind="error", text=ctx.texts.message(
        locale, "edit_window_closed", when=when, days=ctx.edit_window_days))


async def start_edit(ctx: CoachContext, rep: Rep, channel: str, arg: str) -> list[Reply] | None:
    """`edit 2`, `edit 2 outcome`, `edit id:17 next_meeting_at`; None when `arg` names nothing."""
    row = await editable(ctx, rep, arg)
    if row is None or isinstance(row, list):
        return row
    match = _EDIT_ARG.match(arg.strip())
    assert match is not None
    original = {key: to_json(value) for key, value in stored_values(row).items()}
    data: dict[str, Any] = {
        "draft_id": uuid.uuid4().hex, "answers": {}, "account": row.account_name,
        "edit_of": row.debrief.id, "edit_when": row.debrief.created_at.isoformat(), "original": original,
    }
    part = _named_part(ctx, original, match.group("part") or "", explicit=True)
    if part is not None:
        data = with_part(data, part)
        step = next_field(data)
        if step is not None:
            state = await save_new(ctx, rep, channel, step, data)
            return [_changing(ctx, rep, data, part), question(ctx, rep, state)]
    state = await save_new(ctx, rep, channel, PART_STEP, data)
    return [question(ctx, rep, state)]


async def _stored(ctx: CoachContext, rep: Rep, match: re.Match[str]) -> StoredDebrief | None:
    async with ctx.db() as session:
        if match.group("id") is not None:
            try:
                return await get_debrief(session=session, debrief_id=int(match.group("id")),
                                         person_id=rep.id)
            except NotFound:
                return None
        number = int(match.group("number"))
        rows = await latest_debriefs(session=session, person_id=rep.id, limit=HISTORY_SIZE)
    return rows[number - 1] if 1 <= number <= len(rows) else None


def _named_part(
    ctx: CoachContext, original: dict[str, Any], typed: str, *, explicit: bool = False
) -> str | None:
    """The part `typed` names: its key, its number in the list, or its label in either language.
    `explicit` (a button's reference) also takes a single date field that applies."""
    folded = " ".join(typed.split()).casefold()
    if not folded:
        return None
    parts = offered_parts(original)
    if folded.isdigit():
        return parts[int(folded) - 1] if 1 <= int(folded) <= len(parts) else None
    for part in parts:
        if folded == part or any(folded == part_label(ctx, loc, part).casefold() for loc in LOCALES):
            return part
    field = FIELDS_BY_KEY.get(folded)
    applies = form_fields(values_of(original))
    if explicit and field is not None and field.kind in ("date", "datetime") and folded in applies:
        return folded
    return None


def _changing(ctx: CoachContext, rep: Rep, data: dict[str, Any], part: str) -> Reply:
    label = part_label(ctx, rep.locale, part)
    return Reply(text=ctx.texts.message(rep.locale, "edit_part_start", part=label, account=data["account"]))


async def answer_part(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState, text: str
) -> list[Reply]:
    """The answer to "what do you want to change?"."""
    t, loc = ctx.texts, rep.locale
    original = dict(state.data["original"])
    part = _named_part(ctx, original, text)
    data = with_part(dict(state.data), part) if part is not None else None
    step = next_field(data) if data is not None else None
    if part is None or data is None or step is None:
        labels = [part_label(ctx, loc, p) for p in offered_parts(original)]
        error = t.message(loc, "pick_one", choices=choice_list(labels, texts=t, locale=loc))
        return [Reply(kind="error", text=error), question(ctx, rep, state)]
    return [_changing(ctx, rep, data, part), *await move(ctx, rep, channel, state, data, step)]
