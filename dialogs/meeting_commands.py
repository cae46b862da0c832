"""`meeting`: the rep's customer meetings typed in the chat. `meeting Acme tomorrow 10:00` adds one,
`meeting` lists the upcoming ones (numbered), `meeting cancel 2` (or the button) cancels one with
the messages planned around it, and `meeting tomorrow 10:00` asks which customer it is with
(dialogs/meeting_question.py). Planning one is dialogs/meeting_plan.py.

The customer's name stops where the moment begins; a phrase where the two cannot be told apart
("tomorrow Acme 10:00") is refused rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dialogs import meeting_question
from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.dates import parse_meeting_time
from dialogs.debrief import Rep
from dialogs.meeting_plan import nudge_text, plan, refused_moment
from dialogs.meetings import meeting_prefix
from dialogs.messages import Button, Reply
from dialogs.text import format_when
from dialogs.validation import FieldError, clean_account, parse_id
from storage import outbox
from storage.accounts import account_names
from storage.meetings import MeetingView, cancel_meeting, count_upcoming, upcoming
from storage.models import DialogState, not_null

LIST_SIZE = 10  # meetings `meeting` lists; it says how many more there are
CANCEL_BUTTONS = 5  # the first meetings of the list get a cancel button (Teams shows few actions)
_CANCEL = re.compile(
    r"^(?:cancel|delete|remove|annuleer|annuleren|afzeggen|schrap|verwijder|verwijderen)"
    r"(?:\s+(?:#?(?P<number>\d{1,3})|m(?P<id>\d{1,18})))?$",
    re.I,
)
AROUND_SCAN = 12  # words looked at for a moment written around the name


def _say(ctx: CoachContext, rep: Rep, key: str, kind: str = "info", **values: object) -> Reply:
    return Reply(kind=kind, text=ctx.texts.render(rep.locale, "meetings", key, **values))


# -- reading "Acme tomorrow 10:00" ---------------------------------------------------------------
def split_meeting(text: str, *, rep: Rep, now: datetime) -> tuple[str, datetime] | None:
    """("Acme Corp", moment) from "Acme Corp tomorrow 10:00": the shortest account name followed by
    words that all read as one date and time, so the name stops where the date begins ("Acme
    vrijdagmiddag 3 uur" is Acme on Friday at 15:00); None when no such split exists."""
    words = text.split()
    for i in range(1, len(words)):
        when = _moment(words[i:], rep, now)
        if when is not None:
            return " ".join(words[:i]), when
    return None


@dataclass(frozen=True)
class MeetingText:
    """What `meeting <text>` says: an account and a moment, a moment only, or neither."""

    account: str | None
    when: datetime | None
    ambiguous: bool = False  # the moment's words sit on both sides of a name


def _moment(words: list[str], rep: Rep, now: datetime) -> datetime | None:
    return parse_meeting_time(" ".join(words), locale=rep.locale, tz=rep.timezone, now=now) if words else None


def read_meeting(text: str, *, rep: Rep, now: datetime) -> MeetingText:
    words = text.split()
    whole = _moment(words, rep, now)
    if whole is not None:  # "tomorrow 10:00": a moment, no customer
        return MeetingText(None, whole)
    found = split_meeting(text, rep=rep, now=now)
    if found is not None:
        name, when = found
        named = name.split()
        tail = words[len(named):]
        if any(_moment(named[:j] + tail, rep, now) for j in range(1, len(named))):
            return MeetingText(None, None, ambiguous=True)  # "tomorrow Acme 10:00"
        return MeetingText(name, when)
    for i in range(len(words) - 1, 0, -1):  # the moment first: "tomorrow 10:00 Acme"
        first = _moment(words[:i], rep, now)
        if first is not None:
            head, named = words[:i], words[i:]
            if any(_moment(head + named[-j:], rep, now) for j in range(1, len(named))):
                return MeetingText(None, None, ambiguous=True)  # "10:00 Acme Friday"
            return MeetingText(" ".join(named), first)
    # "tomorrow Acme 10:00": a moment around a name, which one cannot tell apart from a name
    # made of date words; say how to write it instead of guessing.
    short = words[:AROUND_SCAN]
    around = any(_moment(short[:i] + short[k:], rep, now)
                 for i in range(1, len(short)) for k in range(i + 1, len(short)))
    return MeetingText(None, None, ambiguous=around)


# -- the command ------------------------------------------------------------------------------------
async def meeting(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    if not cmd.arg:
        return await _listing(ctx, rep)
    cancel = _CANCEL.match(cmd.arg.strip())
    if cancel:
        if cancel.group("id"):
            return await _cancel_by_id(ctx, rep, int(cancel.group("id")))
        if cancel.group("number"):
            return await _cancel_by_number(ctx, rep, int(cancel.group("number")))
        return [_say(ctx, rep, "cancel_usage")]
    now = ctx.clock()
    read = read_meeting(cmd.arg, rep=rep, now=now)
    if read.ambiguous:
        return [_say(ctx, rep, "name_first", "error", text=cmd.arg[:80])]
    if read.when is None:
        return [nudge_text(ctx, rep, "meeting_bad_time", "error", text=cmd.arg[:80])]
    refusal = refused_moment(ctx, rep, read.when, cmd.arg)
    if refusal is not None:
        return [refusal]
    if read.account is None:
        return await meeting_question.ask(ctx, rep, channel, state, read.when)
    try:
        account = clean_account(read.account, texts=ctx.texts, loc=rep.locality(now))
    except FieldError as exc:
        return [Reply(kind="error", text=exc.text)]
    return await plan(ctx, rep, account, read.when)


# -- listing and cancelling ----------------------------------------------------------------------------
async def _listing(ctx: CoachContext, rep: Rep) -> list[Reply]:
    t, loc, now = ctx.texts, rep.locale, ctx.clock()
    async with ctx.db() as session:
        rows = await upcoming(session=session, person_id=rep.id, now=now, limit=LIST_SIZE)
        total = len(rows)
        if total == LIST_SIZE:  # perhaps more: count them
            total = await count_upcoming(session=session, person_id=rep.id, now=now)
        names = await account_names(session=session, account_ids=[m.account_id for m in rows])
    if not rows:
        return [nudge_text(ctx, rep, "meetings_none"), nudge_text(ctx, rep, "meeting_usage")]
    items = tuple(
        t.render(loc, "meetings", "row", number=n, account=names.get(m.account_id, ""),
                 when=format_when(m.starts_at, locale=loc, tz=rep.timezone))
        for n, m in enumerate(rows, 1)
    )
    if total > len(rows):
        items += (t.render(loc, "meetings", "more", count=total - len(rows)),)
    buttons = tuple(
        Button(t.render(loc, "meetings", "button_cancel", number=n), f"meeting cancel m{not_null(m.id)}")
        for n, m in enumerate(rows[:CANCEL_BUTTONS], 1)
    )
    return [Reply(kind="info", title=t.render(loc, "nudge", "meetings_title"), items=items),
            Reply(kind="info", text=t.render(loc, "meetings", "cancel_hint"), buttons=buttons)]


async def _cancel_by_number(ctx: CoachContext, rep: Rep, number: int) -> list[Reply]:
    """`meeting cancel 2`: the second meeting of the list `meeting` shows now."""
    async with ctx.db() as session:
        rows = await upcoming(session=session, person_id=rep.id, now=ctx.clock(), limit=max(number, 1))
    if not 1 <= number <= len(rows):
        return [_say(ctx, rep, "cancel_not_found", "error", number=number)]
    return await _cancel_by_id(ctx, rep, not_null(rows[number - 1].id))


async def _cancel_by_id(ctx: CoachContext, rep: Rep, meeting_id: int) -> list[Reply]:
    async with ctx.db() as session, session.begin():
        view = await cancel_meeting(session=session, meeting_id=meeting_id, person_id=rep.id)
        if view is not None:
            await outbox.cancel_prefix(session=session, prefix=meeting_prefix(meeting_id),
                                       reason="rep: meeting cancelled")
    if view is None:  # not theirs, or cancelled already (a second press)
        return [nudge_text(ctx, rep, "gone")]
    return [_cancelled(ctx, rep, view)]


def _cancelled(ctx: CoachContext, rep: Rep, view: MeetingView) -> Reply:
    when = format_when(view.meeting.starts_at, locale=rep.locale, tz=rep.timezone)
    return _say(ctx, rep, "cancelled", "saved", account=view.account, when=when)


def cancel_target(cmd: Command) -> int | None:
    """The meeting id a cancel button sends (`meeting cancel m17`), else None."""
    match = _CANCEL.match(cmd.arg.strip()) if cmd.name == "meeting" else None
    return parse_id(match.group("id")) if match and match.group("id") else None
