"""The question `meeting tomorrow 10:00` leaves open: which customer the meeting is with.

The rep answers with the customer's name, typed or pressed: a known account, a name close to one
(confirmed once, "did you mean …?", read as the debrief's "which customer?" reads it:
dialogs/account_choice.py), or a new customer. The meeting is then planned exactly as
`meeting Acme tomorrow 10:00` plans it (dialogs/meeting_plan.py).

The question is the chat's dialog state (storage.dialog_state, kind "meeting"), as a debrief's
questions are: one per person and channel, versioned (a double send plans once), cleared once
answered. A message that starts with a command word is that command and drops the question
(conversation.reply_to does it), unless the whole message is one of the rep's customers ("Team
Rockit"). A debrief form opened meanwhile (Slack's modal, Teams' card: answered by the channel, not
in this dialog) leaves it open: the name typed after it still answers. The question lapses
VALID_FOR after it was asked: a name typed later is not taken for it.
The buttons are whole `meeting <customer> <moment>` commands, so they work in every channel and
after the question is gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dialogs.account_choice import close_names, confirmed, known_names, not_a_choice
from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.debrief_questions import token
from dialogs.meeting_plan import plan, refused_moment
from dialogs.messages import Button, Reply
from dialogs.text import format_when
from dialogs.timing import local_of
from dialogs.validation import FieldError, clean_account
from storage.accounts import account_key
from storage.dialog_state import clear_dialog, save_dialog
from storage.known_accounts import rep_accounts
from storage.models import DialogState

KIND = "meeting"
ACCOUNT_STEP = "meeting_account"
CONFIRM_STEP = "meeting_account_close"  # a name close to a known account: which one is meant
CUSTOMER_BUTTONS = 4  # the rep's latest customers offered as buttons
VALID_FOR = timedelta(minutes=30)  # after this a message is no longer read as the answer
BUTTON_MOMENT = "%Y-%m-%d %H:%M"  # how a button writes the moment back (read by dates.py)


def _say(ctx: CoachContext, rep: Rep, key: str, **values: object) -> str:
    return ctx.texts.render(rep.locale, "meetings", key, **values)


def _when(data: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(data["when"]))


def _shown(rep: Rep, data: dict[str, Any]) -> str:
    return format_when(_when(data), locale=rep.locale, tz=rep.timezone)


def is_open(state: DialogState, now: datetime) -> bool:
    """Whether `state` is a meeting question still waiting for its answer."""
    if state.kind != KIND:
        return False
    try:
        asked = datetime.fromisoformat(str(state.data.get("asked_at")))
    except ValueError:
        return False
    return now - asked <= VALID_FOR


async def ask(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, when: datetime
) -> list[Reply]:
    """A moment without a customer: ask which one, with the rep's own latest customers as buttons.
    The question stays open for the name typed next, unless a debrief is open on the channel."""
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        names = await rep_accounts(session=session, person_id=rep.id, limit=CUSTOMER_BUTTONS)
        data: dict[str, Any] = {"when": when.isoformat(), "offered": names, "asked_at": now.isoformat()}
        if state is not None:  # the debrief keeps the channel: the buttons still plan the meeting
            return [_render(ctx, rep, ACCOUNT_STEP, data, None)]
        await save_dialog(session=session, person_id=rep.id, channel=channel, kind=KIND,
                          step=ACCOUNT_STEP, data=data, expected_version=None)
    asked = DialogState(person_id=rep.id, channel=channel, kind=KIND, step=ACCOUNT_STEP, data=data, version=1)
    return [question(ctx, rep, asked)]


def question(ctx: CoachContext, rep: Rep, state: DialogState) -> Reply:
    """The open question as a reply (asked, asked again, or shown on a reload)."""
    return _render(ctx, rep, state.step, state.data, token(state))


def _render(ctx: CoachContext, rep: Rep, step: str, data: dict[str, Any], expect: str | None) -> Reply:
    t, loc = ctx.texts, rep.locale
    moment = local_of(_when(data), rep.timezone).strftime(BUTTON_MOMENT)

    def button(label: str, name: str) -> Button:
        return Button(label, f"meeting {name} {moment}")

    if step == CONFIRM_STEP:
        typed, close = str(data["account_typed"]), [str(n) for n in data["account_close"]]
        key = "account_close_one" if len(close) == 1 else "account_close_many"
        text = t.message(loc, key, typed=typed, known=close[0])
        new = button(t.message(loc, "button_new_account", typed=typed), typed)
        buttons = [*(button(n, n) for n in close), new]
    else:
        offered = [str(n) for n in data.get("offered", ())]
        text = _say(ctx, rep, "which_customer", when=_shown(rep, data), offered=bool(offered))
        buttons = [button(n, n) for n in offered]
    return Reply(kind="question", text=text, buttons=tuple(buttons), expect=expect, meta={"field": step})


def resumed(ctx: CoachContext, rep: Rep, state: DialogState) -> str:
    """The line above the open question when the chat reopens."""
    return _say(ctx, rep, "resume_question", when=_shown(rep, state.data))


def not_planned(ctx: CoachContext, rep: Rep) -> Reply:
    """`cancel` while the question is open."""
    return Reply(text=_say(ctx, rep, "question_cancelled"))


async def drop(ctx: CoachContext, rep: Rep, channel: str, state: DialogState) -> None:
    async with ctx.db() as session, session.begin():
        await clear_dialog(session=session, person_id=rep.id, channel=channel, expected_version=state.version)


async def reply(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState, text: str, command: Command,
    expect: str | None,
) -> list[Reply] | None:
    """What a message says to the open question; None when it is not an answer but a command
    (or the question lapsed and it is a command): the caller drops the question and does it."""
    if not is_open(state, ctx.clock()):
        if command.name:
            return None
        await drop(ctx, rep, channel, state)
        return [Reply(kind="info", text=_say(ctx, rep, "question_lapsed", when=_shown(rep, state.data)))]
    if expect is not None and expect != token(state):  # a button of an earlier question
        stale = ctx.texts.message(rep.locale, "stale_click")
        return [Reply(kind="info", text=stale), question(ctx, rep, state)]
    known = await known_names(ctx, rep)
    if command.name and not (command.arg and account_key(text) in {account_key(n) for n in known}):
        return None
    if not text.strip():
        return [question(ctx, rep, state)]
    if state.step == CONFIRM_STEP:
        chosen = confirmed(state.data, text)
        if chosen is None:
            return [not_a_choice(ctx, rep, state.data), question(ctx, rep, state)]
        return await _plan(ctx, rep, channel, state, chosen)
    try:
        name = clean_account(text, texts=ctx.texts, loc=rep.locality(ctx.clock()))
    except FieldError as exc:
        return [Reply(kind="error", text=exc.text), question(ctx, rep, state)]
    same, close = close_names(name, known)
    if close:
        return await _confirm(ctx, rep, channel, state, name, close)
    return await _plan(ctx, rep, channel, state, same or name)


def _busy(ctx: CoachContext, rep: Rep) -> list[Reply]:
    return [Reply(kind="info", text=ctx.texts.message(rep.locale, "busy"))]


async def _confirm(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState, typed: str, close: list[str]
) -> list[Reply]:
    """"Did you mean …?": the known names close to the one typed, and the typed one as new."""
    data = {**state.data, "account_typed": typed, "account_close": close, "asked_at": ctx.clock().isoformat()}
    async with ctx.db() as session, session.begin():
        moved = await save_dialog(session=session, person_id=rep.id, channel=channel, kind=KIND,
                                  step=CONFIRM_STEP, data=data, expected_version=state.version)
    if not moved:
        return _busy(ctx, rep)
    nxt = DialogState(person_id=rep.id, channel=channel, kind=KIND, step=CONFIRM_STEP, data=data,
                      version=state.version + 1)
    return [question(ctx, rep, nxt)]


async def _plan(ctx: CoachContext, rep: Rep, channel: str, state: DialogState, account: str) -> list[Reply]:
    """The answer: the question closes (at the version read: once) and the meeting is planned."""
    async with ctx.db() as session, session.begin():
        if not await clear_dialog(session=session, person_id=rep.id, channel=channel,
                                  expected_version=state.version):
            return _busy(ctx, rep)
    when = _when(state.data)
    refusal = refused_moment(ctx, rep, when, _shown(rep, state.data))  # it may have passed meanwhile
    return [refusal] if refusal is not None else await plan(ctx, rep, account, when)
