"""The debrief as a conversation, one point at a time (web chat, Slack DM, Teams chat).

State lives in the dialogstate table with a version number: any replica can continue a
conversation, and a double click (two requests for the same question) is applied once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from dialogs import crm_choice, data_rights, schedule_commands, team
from dialogs.checklist import FIELDS, FIELDS_BY_KEY, POINTS, ChecklistField
from dialogs.commands import INTERRUPTING, Command, parse_command
from dialogs.context import CoachContext
from dialogs.debrief import (
    HISTORY_SIZE,
    Rep,
    check_edit_window,
    feedback,
    history,
    load_rep,
    store_correction,
    store_debrief,
    stored_values,
)
from dialogs.messages import Button, Reply
from dialogs.text import format_day, format_when, join
from dialogs.validation import FieldError, assemble, clean_account, clean_field, clean_text
from storage.debriefs import latest_debriefs
from storage.dialog_state import clear_dialog, load_dialog, save_dialog
from storage.errors import EditWindowClosed
from storage.models import DialogState
from storage.people import update_person

KIND = "debrief"
ACCOUNT_STEP = "account"
SKIP = "/skip"
KEEP = "/keep"
STEPS: tuple[str, ...] = (ACCOUNT_STEP, *(f.key for f in FIELDS))

_SKIP_WORDS = {SKIP, "skip", "overslaan", "-", "n/a", "nvt", "n.v.t."}
_EDIT_NUMBER = re.compile(r"^#?(\d+)$")

CommandHandler = Callable[[CoachContext, Rep, str, DialogState | None, Command], Awaitable[list[Reply]]]


async def welcome(*, ctx: CoachContext, person_id: int) -> list[Reply]:
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=person_id)
    return [_welcome(ctx, rep)]


def _welcome(ctx: CoachContext, rep: Rep) -> Reply:
    t, loc = ctx.texts, rep.locale
    return Reply(
        text=t.message(loc, "welcome", name=rep.name.split(" ")[0] if rep.name else ""),
        buttons=(
            Button(t.message(loc, "button_debrief"), "debrief"),
            Button(t.message(loc, "button_history"), "history"),
            Button(t.message(loc, "button_help"), "help"),
        ),
    )


def help_reply(ctx: CoachContext, rep: Rep, lead: str | None = None) -> Reply:
    t, loc = ctx.texts, rep.locale
    return Reply(kind="help", title=t.message(loc, "help_title"), text=lead or "",
                 items=tuple(t.items(loc, "help_items")))


async def reply_to(
    *, ctx: CoachContext, person_id: int, channel: str, text: str, expect: str | None = None
) -> list[Reply]:
    """Answer one message (typed or a pressed button) from a person on a channel."""
    text = clean_text(text or "")
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=person_id)
        state = await load_dialog(session=session, person_id=person_id, channel=channel)
    command = parse_command(text)
    exact = command.name in INTERRUPTING and not command.arg
    if exact or (command.name == "language" and len(command.arg.split()) <= 1):
        return await COMMANDS[command.name](ctx, rep, channel, state, command)
    if state is not None and schedule_commands.is_button(command):  # a nudge's button mid-debrief
        acted = await schedule_commands.nudges(ctx, rep, channel, state, command)
        return [*acted, _question(ctx, rep, state)]
    if state is not None and crm_choice.is_choice(command):  # the CRM question's button mid-debrief
        acted = await crm_choice.crm_command(ctx, rep, channel, state, command)
        return [*acted, _question(ctx, rep, state)]
    if state is not None and expect is None and command.name == "debrief" and not _asks_text(state):
        return await _start(ctx, rep, channel, command.arg)  # a new debrief replaces the draft
    if state is not None:
        if expect is not None and expect != _token(state):
            return [Reply(kind="info", text=ctx.texts.message(rep.locale, "stale_click")),
                    _question(ctx, rep, state)]
        return await _answer(ctx, rep, channel, state, text)
    if expect:  # a button from a finished or abandoned dialog: nothing to apply
        return []
    handler = COMMANDS.get(command.name)
    if handler is not None:
        return await handler(ctx, rep, channel, state, command)
    if not text:
        return [_welcome(ctx, rep)]
    unknown = ctx.texts.message(rep.locale, "unknown_command", text=text[:60])
    return [help_reply(ctx, rep, unknown)]


async def _help(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, _: Command
) -> list[Reply]:
    return [help_reply(ctx, rep)] + ([_question(ctx, rep, state)] if state else [])


async def _history(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, _: Command
) -> list[Reply]:
    return [await history(ctx=ctx, rep=rep)] + ([_question(ctx, rep, state)] if state else [])


async def _greeting(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, _: Command
) -> list[Reply]:
    return [_welcome(ctx, rep)]


async def _debrief(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    return await _start(ctx, rep, channel, cmd.arg)


async def _edit(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    match = _EDIT_NUMBER.match(cmd.arg)
    if not match:
        return [help_reply(ctx, rep)]
    return await _start_edit(ctx, rep, channel, int(match.group(1)))


# -- starting, cancelling, language -------------------------------------------------------------
async def _start(ctx: CoachContext, rep: Rep, channel: str, account_text: str) -> list[Reply]:
    data: dict[str, Any] = {"draft_id": uuid.uuid4().hex, "answers": {}}
    t, loc = ctx.texts, rep.locale
    replies: list[Reply] = []
    step = ACCOUNT_STEP
    if account_text.strip():
        try:
            data["account"] = clean_account(account_text, texts=t, loc=rep.locality(ctx.clock()))
            step = STEPS[1]
        except FieldError as exc:
            replies.append(Reply(kind="error", text=exc.text))
    state = await _save_new(ctx, rep, channel, step, data)
    if "account" in data:
        replies.append(Reply(text=t.message(loc, "start_debrief", account=data["account"])))
    replies.append(_question(ctx, rep, state))
    return replies


async def _start_edit(ctx: CoachContext, rep: Rep, channel: str, number: int) -> list[Reply]:
    t, loc = ctx.texts, rep.locale
    async with ctx.db() as session:
        rows = await latest_debriefs(session=session, person_id=rep.id, limit=HISTORY_SIZE)
    if not 1 <= number <= len(rows):
        return [Reply(kind="error", text=t.message(loc, "edit_not_found", number=number))]
    row = rows[number - 1]
    when = format_when(row.debrief.created_at, locale=loc, tz=rep.timezone)
    try:
        check_edit_window(ctx, row.debrief.created_at)
    except EditWindowClosed:
        return [Reply(kind="error", text=t.message(
            loc, "edit_window_closed", when=when, days=ctx.edit_window_days))]
    original = {key: _to_json(value) for key, value in stored_values(row).items()}
    data = {"draft_id": uuid.uuid4().hex, "answers": {}, "account": row.account_name,
            "edit_of": row.debrief.id, "original": original}
    state = await _save_new(ctx, rep, channel, STEPS[1], data)
    return [Reply(text=t.message(loc, "edit_start", account=row.account_name, when=when)),
            _question(ctx, rep, state)]


async def _cancel(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, _: Command
) -> list[Reply]:
    t, loc = ctx.texts, rep.locale
    if state is None:
        return [Reply(text=t.message(loc, "nothing_to_cancel"))]
    async with ctx.db() as session, session.begin():
        await clear_dialog(session=session, person_id=rep.id, channel=channel)
    return [Reply(text=t.message(loc, "cancelled"))]


async def _set_language(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    code = cmd.arg.casefold()
    code = {"nederlands": "nl", "dutch": "nl", "english": "en", "engels": "en"}.get(code, code)
    if code not in ("en", "nl"):
        return [Reply(kind="error", text=ctx.texts.message(rep.locale, "language_unknown"))]
    async with ctx.db() as session, session.begin():
        await update_person(session=session, person_id=rep.id, locale=code)
    rep = Rep(rep.id, rep.workspace_id, rep.name, code, rep.timezone, rep.manager_name)
    replies = [Reply(text=ctx.texts.message(code, "language_set"), meta={"locale": code})]
    return replies + ([_question(ctx, rep, state)] if state else [])


# -- answering the current question ---------------------------------------------------------------
async def _answer(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState, text: str
) -> list[Reply]:
    t = ctx.texts
    data = dict(state.data)
    answers = dict(data.get("answers", {}))
    loc = rep.locality(ctx.clock())
    step = state.step
    try:
        if step == ACCOUNT_STEP:
            data["account"] = clean_account(text, texts=t, loc=loc)
        else:
            f = FIELDS_BY_KEY[step]
            answers[step] = _to_json(_field_value(ctx, rep, f, data, text))
    except FieldError as exc:
        return [Reply(kind="error", text=exc.text), _question(ctx, rep, state)]
    data["answers"] = answers
    index = STEPS.index(step)
    if index + 1 < len(STEPS):
        next_step = STEPS[index + 1]
        async with ctx.db() as session, session.begin():
            moved = await save_dialog(
                session=session, person_id=rep.id, channel=channel, kind=KIND, step=next_step,
                data=data, expected_version=state.version,
            )
        if not moved:
            return [Reply(kind="info", text=t.message(rep.locale, "busy"))]
        nxt = DialogState(person_id=rep.id, channel=channel, kind=KIND, step=next_step,
                          data=data, version=state.version + 1)
        replies = []
        if step == ACCOUNT_STEP:
            replies.append(Reply(text=t.message(rep.locale, "start_debrief", account=data["account"])))
        return [*replies, _question(ctx, rep, nxt)]
    return await _finish(ctx, rep, channel, state, data)


def _field_value(ctx: CoachContext, rep: Rep, f: ChecklistField, data: dict[str, Any], text: str) -> Any:
    folded = text.casefold()
    original = data.get("original")
    if folded == KEEP and original is not None:
        return _from_json(f, original.get(f.key))
    if folded in _SKIP_WORDS and not f.required:
        return None
    return clean_field(f, text, texts=ctx.texts, loc=rep.locality(ctx.clock()))


async def _finish(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState, data: dict[str, Any]
) -> list[Reply]:
    values = {f.key: _from_json(f, data["answers"].get(f.key)) for f in FIELDS}
    debrief = assemble(data["account"], values)
    edit_of = data.get("edit_of")
    async with ctx.db() as session, session.begin():
        # Clearing the dialog at the version we read is the lock: a second, concurrent press of
        # the last button finds nothing to clear and stores nothing.
        if not await clear_dialog(
            session=session, person_id=rep.id, channel=channel, expected_version=state.version
        ):
            return [Reply(kind="info", text=ctx.texts.message(rep.locale, "already_saved"))]
        if edit_of is not None:
            try:
                saved_at = await store_correction(
                    session=session, ctx=ctx, rep=rep, debrief_id=int(edit_of), debrief=debrief
                )
            except EditWindowClosed as exc:
                # Nothing was written but the cleared dialog: the correction ends here.
                created_at = exc.details.get("created_at")
                when_at = created_at if isinstance(created_at, datetime) else ctx.clock()
                return [Reply(kind="error", text=ctx.texts.message(
                    rep.locale, "edit_window_closed", days=ctx.edit_window_days,
                    when=format_when(when_at, locale=rep.locale, tz=rep.timezone)))]
            return feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=saved_at, corrected=True)
        _, created = await store_debrief(
            session=session, rep=rep, debrief=debrief,
            idempotency_key=f"{channel}:{data['draft_id']}", created_at=ctx.clock(),
            schedule=ctx.schedule,
        )
    return feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=ctx.clock(), created=created)


# -- asking ---------------------------------------------------------------------------------------
def _asks_text(state: DialogState) -> bool:
    """The open question takes free text, so "Debrief call with their CFO" is an answer there."""
    f = FIELDS_BY_KEY.get(state.step)
    return f is not None and f.kind == "text"


def _token(state: DialogState) -> str:
    return f"{state.step}@{state.version}"


def _question(ctx: CoachContext, rep: Rep, state: DialogState) -> Reply:
    t, loc = ctx.texts, rep.locale
    expect = _token(state)
    if state.step == ACCOUNT_STEP:
        return Reply(kind="question", text=t.message(loc, "ask_account"), expect=expect,
                     buttons=(Button(t.message(loc, "button_cancel"), "cancel"),))
    f = FIELDS_BY_KEY[state.step]
    title: str | None = None
    lines: list[str] = []
    if f.is_rating:
        assert f.point is not None
        title = t.message(loc, "point_heading", number=POINTS.index(f.point) + 1,
                          title=t.point(loc, f.point, "title"))
        lines += [t.point(loc, f.point, "question"), t.point(loc, f.point, "hint")]
    else:
        lines.append(t.field_question(loc, f.key))
        if f.kind in ("date", "datetime"):
            example_key = "datetime_example" if f.kind == "datetime" else "date_example"
            lines.append(t.message(loc, "datetime_hint", example=t.message(loc, example_key)))
        if not f.required:
            lines.append(t.message(loc, "optional_hint"))
    buttons = [Button(t.choice(loc, f.key, c), c) for c in f.choices]
    original = state.data.get("original")
    if original is not None:
        shown = _display(ctx, rep, f, original.get(f.key))
        lines.append(t.message(loc, "current_value", value=shown))
        buttons.append(Button(t.message(loc, "button_keep"), KEEP))
    if not f.required:
        buttons.append(Button(t.message(loc, "button_skip"), SKIP))
    return Reply(kind="question", title=title, text=join("\n", lines), buttons=tuple(buttons),
                 expect=expect, meta={"field": f.key})


def _display(ctx: CoachContext, rep: Rep, f: ChecklistField, raw: Any) -> str:
    value = _from_json(f, raw)
    if value in (None, ""):
        return ctx.texts.message(rep.locale, "no_value")
    if f.kind in ("rating", "choice"):
        return ctx.texts.choice(rep.locale, f.key, value)
    if isinstance(value, datetime):
        return format_when(value, locale=rep.locale, tz=rep.timezone)
    if isinstance(value, date):
        return format_day(value, locale=rep.locale)
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


async def _save_new(
    ctx: CoachContext, rep: Rep, channel: str, step: str, data: dict[str, Any]
) -> DialogState:
    async with ctx.db() as session, session.begin():
        await save_dialog(session=session, person_id=rep.id, channel=channel, kind=KIND,
                               step=step, data=data, expected_version=None)
    return DialogState(person_id=rep.id, channel=channel, kind=KIND, step=step, data=data, version=1)


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _from_json(f: ChecklistField, raw: Any) -> Any:
    if raw is None:
        return None
    if f.kind == "datetime" and isinstance(raw, str):
        return datetime.fromisoformat(raw)
    if f.kind == "date" and isinstance(raw, str):
        return date.fromisoformat(raw)
    return raw


# Command name (dialogs.commands.WORDS) -> handler: every command the conversation knows.
COMMANDS: dict[str, CommandHandler] = {
    "debrief": _debrief,
    "history": _history,
    "edit": _edit,
    "help": _help,
    "language": _set_language,
    "cancel": _cancel,
    "greeting": _greeting,
    "team": team.team_reply,
    "export": data_rights.export_reply,
    "forget": data_rights.forget_reply,
    "meeting": schedule_commands.meeting,
    "pause": schedule_commands.pause,
    "resume": schedule_commands.resume,
    "nudges": schedule_commands.nudges,
    "crm": crm_choice.crm_command,
}
