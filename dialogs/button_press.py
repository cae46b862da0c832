"""A pressed button, told apart from typed text: a question's button carries its question's token
(`expect`); any other button (a history's *Edit 1*, the welcome's *Start a debrief*, a meeting
list's *Cancel 2*) is a command, and a command pressed while a debrief is open is never taken as
the answer to its question: the coach does what the button says where that is safe mid-debrief,
or says it did nothing, and asks the open question again.
"""

from __future__ import annotations

from collections.abc import Callable

from dialogs import (
    action_assign,
    action_points,
    conversation,
    meeting_commands,
    meeting_question,
    schedule_commands,
)
from dialogs.commands import INTERRUPTING, Command, parse_command
from dialogs.context import CoachContext
from dialogs.debrief import load_rep
from dialogs.messages import Reply
from dialogs.validation import clean_text
from storage.dialog_state import load_dialog

BUTTON_TEXT_SHOWN = 60  # of a button's value, in "I did nothing with …"

# Buttons that carry what they act on (a meeting's id, an action point's) and that the
# conversation handles as commands even while a debrief is open, as reply_to does.
_ACTS_MID_DIALOG: tuple[Callable[[Command], bool], ...] = (
    schedule_commands.is_button, action_points.is_button, action_assign.is_form)


def _whole_command(command: Command) -> bool:
    """The commands reply_to answers mid-debrief without touching it (help, history, cancel,
    language): the same rule as its own."""
    return (command.name in INTERRUPTING and not command.arg) or (
        command.name == "language" and len(command.arg.split()) <= 1)


async def press_answer(
    *, ctx: CoachContext, person_id: int, channel: str, value: str, expect: str
) -> list[Reply]:
    """A question's button: its answer, if that question is still the open one. A question that
    was closed in the meantime (the debrief saved or stopped) gets a line saying nothing changed."""
    replies = await conversation.reply_to(
        ctx=ctx, person_id=person_id, channel=channel, text=value, expect=expect)
    if replies:
        return replies
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=person_id)
    return [Reply(kind="info", text=ctx.texts.message(rep.locale, "stale_finished"))]


async def press_command(*, ctx: CoachContext, person_id: int, channel: str, value: str) -> list[Reply]:
    """A button that is a command. With no dialog open it is that command; with a debrief open it
    is done only when it cannot be confused with an answer, else refused with the question again.
    An open meeting question is dropped for it, as for a typed command (conversation.reply_to)."""
    text = clean_text(value or "")
    command = parse_command(text)
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=person_id)
        state = await load_dialog(session=session, person_id=person_id, channel=channel)
    if state is None or state.kind == meeting_question.KIND or _whole_command(command) or any(
            acts(command) for acts in _ACTS_MID_DIALOG):
        return await conversation.reply_to(ctx=ctx, person_id=person_id, channel=channel, text=text)
    if meeting_commands.cancel_target(command) is not None:
        acted = await meeting_commands.meeting(ctx, rep, channel, state, command)
        back = ctx.texts.message(rep.locale, "back_to_question")
        return [*acted, *await conversation.welcome(
            ctx=ctx, person_id=person_id, channel=channel, lead=back)]
    refused = ctx.texts.message(rep.locale, "button_not_an_answer", text=text[:BUTTON_TEXT_SHOWN])
    return await conversation.welcome(ctx=ctx, person_id=person_id, channel=channel, lead=refused)
