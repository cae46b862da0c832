"""Customer names to offer while the rep types: their own accounts only, matching what they typed
so far, when that is a customer's name (the open "which customer?" question of a debrief or of a
meeting, or `debrief Ac…` / `meeting Ac…` with no debrief open)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs import conversation, meeting_question
from dialogs.commands import parse_command
from dialogs.context import CoachContext
from dialogs.validation import clean_text
from storage.dialog_state import load_dialog
from storage.known_accounts import rep_accounts

TYPED_LIMIT = 200  # characters of the typed text looked at
SUGGESTIONS = 6
NAMING_COMMANDS = ("debrief", "meeting")  # commands whose first words are a customer's name


@dataclass(frozen=True)
class Suggestions:
    """Names to offer, and how a chosen one completes the text: `prefix` + name; `complete`: that
    is the whole message (an answer to the open question, or `debrief Acme`), so it can be sent at
    once; otherwise the rep goes on typing (`meeting Acme ` and the moment)."""

    names: tuple[str, ...] = ()
    prefix: str = ""
    complete: bool = False


async def suggest_accounts(*, ctx: CoachContext, person_id: int, channel: str, typed: str) -> Suggestions:
    text = clean_text(typed[:TYPED_LIMIT])
    async with ctx.db() as session:
        state = await load_dialog(session=session, person_id=person_id, channel=channel)
        command = parse_command(text)
        if state is not None and state.kind == meeting_question.KIND and (
                command.name or not meeting_question.is_open(state, ctx.clock())):
            state = None  # a command drops a meeting's question (and a lapsed one is gone)
        if state is not None:
            if state.step not in (conversation.ACCOUNT_STEP, meeting_question.ACCOUNT_STEP):
                return Suggestions()  # what they type answers another question
            names = await rep_accounts(session=session, person_id=person_id, typed=text, limit=SUGGESTIONS)
            return Suggestions(tuple(names), complete=True)
        if command.name not in NAMING_COMMANDS or not command.arg:
            return Suggestions()
        names = await rep_accounts(session=session, person_id=person_id, typed=command.arg,
                                   limit=SUGGESTIONS)
    word = text.split(None, 1)[0]
    known = {n.casefold() for n in names}
    if command.arg.casefold() in known and len(names) == 1:
        return Suggestions()  # the name is complete already
    return Suggestions(tuple(names), prefix=f"{word} ", complete=command.name == "debrief")
