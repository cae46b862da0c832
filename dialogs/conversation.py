"""The conversation with the coach (web chat, Slack DM, Teams chat): commands, the debrief one
question at a time (asked in dialogs/debrief_steps.py, corrected in dialogs/debrief_edit.py), and
the customer of a meeting typed without one (dialogs/meeting_question.py).

State lives in the dialogstate table with a version number: any replica can continue a
conversation, and a double click (two requests for the same question) is applied once. A button
of an earlier message is never taken as the answer to the open question.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dialogs import (
    account_choice,
    action_assign,
    action_points,
    crm_choice,
    data_rights,
    debrief_edit,
    debrief_steps,
    meeting_commands,
    meeting_question,
    schedule_commands,
    tactic_choice,
    team,
)
from dialogs.checklist import FIELDS_BY_KEY
from dialogs.commands import INTERRUPTING, Command, parse_command
from dialogs.context import CoachContext
from dialogs.debrief import Rep, history, load_rep
from dialogs.debrief_questions import ACCOUNT_STEP, CHANGE, CONFIRM_STEP, PART_STEP, question, token
from dialogs.help import help_reply
from dialogs.messages import Button, Reply
from dialogs.validation import clean_text
from storage.dialog_state import clear_dialog, load_dialog
from storage.models import DialogState
from storage.people import update_person

CommandHandler = Callable[[CoachContext, Rep, str, DialogState | None, Command], Awaitable[list[Reply]]]


async def welcome(
    *, ctx: CoachContext, person_id: int, channel: str | None = None, lead: str | None = None
) -> list[Reply]:
    """What a chat shows when it (re)opens: the greeting (with the person's open action points, if
    a manager set any), or, with a dialog open on `channel`, the open question again under `lead`
    (default: "welcome back"). The dialog in the database is the truth: a reload never hides the
    question the next message answers."""
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=person_id)
        state = None if channel is None else await load_dialog(
            session=session, person_id=person_id, channel=channel)
        if state is not None and state.kind == meeting_question.KIND and not meeting_question.is_open(
                state, ctx.clock()):
            state = None  # a lapsed meeting question: the next message is not its answer
        reminder = [] if state is not None else await action_points.open_points_reply(
            session=session, ctx=ctx, rep=rep)
    if state is None:
        return [_welcome(ctx, rep), *reminder]
    if state.kind == meeting_question.KIND:
        lead = lead or meeting_question.resumed(ctx, rep, state)
        return [Reply(kind="info", text=lead), meeting_question.question(ctx, rep, state)]
    account = state.data.get("account")
    key = "resume_edit" if state.data.get("edit_of") else "resume_debrief"
    lead = lead or ctx.texts.message(rep.locale, key if account else "resume_blank", account=account or "")
    return [Reply(kind="info", text=lead), question(ctx, rep, state)]


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


async def reply_to(
    *, ctx: CoachContext, person_id: int, channel: str, text: str, expect: str | None = None
) -> list[Reply]:
    """Answer one message (typed or a pressed button) from a person on a channel."""
    text = clean_text(text or "")
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=person_id)
        state = await load_dialog(session=session, person_id=person_id, channel=channel)
    command = parse_command(text)
    if state is not None and state.kind == meeting_question.KIND:
        answered = await meeting_question.reply(ctx, rep, channel, state, text, command, expect)
        if answered is not None:
            return answered
        if command.name == "cancel":
            return await _cancel(ctx, rep, channel, state, command)
        await meeting_question.drop(ctx, rep, channel, state)  # a command instead of the name
        state, expect = None, None
    exact = command.name in INTERRUPTING and not command.arg
    if exact or (command.name == "language" and len(command.arg.split()) <= 1):
        return await COMMANDS[command.name](ctx, rep, channel, state, command)
    if state is not None:
        return await _mid_debrief(ctx, rep, channel, state, text, command, expect)
    if expect:  # a button from a finished or abandoned dialog: nothing to apply
        return [Reply(kind="info", text=ctx.texts.message(rep.locale, "stale_finished"))]
    handler = COMMANDS.get(command.name)
    if handler is not None:
        return await handler(ctx, rep, channel, state, command)
    if not text:
        return [_welcome(ctx, rep)]
    unknown = ctx.texts.message(rep.locale, "unknown_command", text=text[:60])
    return [await help_reply(ctx, rep, unknown)]


async def _mid_debrief(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState, text: str, command: Command,
    expect: str | None,
) -> list[Reply]:
    """A message while a debrief question is open: the answer to it, unless it is not one."""
    if schedule_commands.is_button(command):  # a nudge's button: acted on, then the question again
        acted = await schedule_commands.nudges(ctx, rep, channel, state, command)
        return [*acted, question(ctx, rep, state)]
    if action_points.is_button(command):  # an action point's Done / Not yet, the same way
        acted = await action_points.press(ctx, rep, channel, state, command)
        return [*acted, question(ctx, rep, state)]
    if action_assign.is_form(command):  # the digest's form, sent while a debrief is open
        acted = await action_assign.assign_reply(ctx, rep, channel, state, command)
        return [*acted, question(ctx, rep, state)]
    if crm_choice.is_choice(command):  # the CRM question's button: acted on, then the question again
        acted = await crm_choice.crm_command(ctx, rep, channel, state, command)
        return [*acted, question(ctx, rep, state)]
    if expect is not None and expect != token(state):  # a button of an earlier question
        return debrief_steps.stale(ctx, rep, state)
    if expect is None:
        if _earlier_button(command):
            return debrief_steps.stale(ctx, rep, state, "stale_button", text)
        if command.name == "debrief" and not command.arg:
            return debrief_steps.stale(ctx, rep, state, "debrief_in_progress")
        if command.name == "debrief" and not _asks_text(state):
            return await account_choice.start(ctx, rep, channel, command.arg)  # replaces the draft
        if text.casefold().startswith(CHANGE + " "):
            return await debrief_steps.change(ctx, rep, channel, state, text)
    if state.step in (ACCOUNT_STEP, CONFIRM_STEP):
        return await account_choice.answer(ctx, rep, channel, state, text)
    if state.step == PART_STEP:
        return await debrief_edit.answer_part(ctx, rep, channel, state, text)
    return await debrief_steps.answer_field(ctx, rep, channel, state, text)


def _earlier_button(command: Command) -> bool:
    """What a button of an earlier message sends (`edit 1` in the history, `forget confirm`):
    never an answer, and not acted on while a debrief is open."""
    if command.name == "edit":
        return debrief_edit.is_edit_arg(command.arg)
    return command.name == "forget" and command.arg.casefold() in data_rights.CONFIRM_WORDS


def _asks_text(state: DialogState) -> bool:
    """The open question takes free text, so "Debrief call with their CFO" is an answer there."""
    f = FIELDS_BY_KEY.get(state.step)
    return f is not None and f.kind == "text"


async def _help(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, _: Command
) -> list[Reply]:
    return [await help_reply(ctx, rep)] + ([question(ctx, rep, state)] if state else [])


async def _history(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, _: Command
) -> list[Reply]:
    return [await history(ctx=ctx, rep=rep)] + ([question(ctx, rep, state)] if state else [])


async def _greeting(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, _: Command
) -> list[Reply]:
    return [_welcome(ctx, rep)]


async def _debrief(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    return await account_choice.start(ctx, rep, channel, cmd.arg)


async def _edit(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    started = await debrief_edit.start_edit(ctx, rep, channel, cmd.arg)
    return [await help_reply(ctx, rep)] if started is None else started


async def _cancel(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, _: Command
) -> list[Reply]:
    t, loc = ctx.texts, rep.locale
    if state is None:
        return [Reply(text=t.message(loc, "nothing_to_cancel"))]
    async with ctx.db() as session, session.begin():
        await clear_dialog(session=session, person_id=rep.id, channel=channel)
    if state.kind == meeting_question.KIND:
        return [meeting_question.not_planned(ctx, rep)]
    if state.data.get("edit_of") is not None:
        return [Reply(text=t.message(loc, "edit_cancelled", account=state.data.get("account", "")))]
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
    return replies + ([question(ctx, rep, state)] if state else [])


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
    "assign": action_assign.assign_reply,
    "actions": action_points.actions_reply,
    "done": action_points.done_reply,
    "not_yet": action_points.not_yet_reply,
    "export": data_rights.export_reply,
    "forget": data_rights.forget_reply,
    "meeting": meeting_commands.meeting,
    "pause": schedule_commands.pause,
    "resume": schedule_commands.resume,
    "nudges": schedule_commands.nudges,
    "tactic": tactic_choice.own_tactic,
    "crm": crm_choice.crm_command,
}
