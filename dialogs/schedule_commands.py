"""The rep's commands around nudges: `pause until 2027-01-04`, `resume`, `nudges on|off`, and the
buttons of preparations, nudges and prompts (sent back as `nudges <action>`). `meeting` is
dialogs.meeting_commands."""

from __future__ import annotations

import re
from datetime import timedelta

from dialogs import tactic_choice
from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.dates import parse_due_date
from dialogs.debrief import Rep
from dialogs.meetings import NUDGE, PROMPT, meeting_prefix
from dialogs.messages import Reply
from dialogs.preparation import PICK
from dialogs.text import format_clock, format_day, format_when
from dialogs.timing import local_of, local_today, next_allowed
from dialogs.validation import DATE_REACH_YEARS, parse_id, within_reach
from storage import outbox
from storage import preferences as prefs
from storage.meetings import load_meeting
from storage.models import DialogState

SNOOZE = timedelta(minutes=20)
LATER = timedelta(hours=1)
_UNTIL = re.compile(r"^\s*(?:until|till|to|tot(?:\s+en\s+met)?|t/m)\s+", re.I)
_ON, _OFF = {"on", "aan"}, {"off", "uit"}


def _say(ctx: CoachContext, rep: Rep, key: str, kind: str = "info", **values: object) -> list[Reply]:
    return [Reply(kind=kind, text=ctx.texts.render(rep.locale, "nudge", key, **values))]


async def pause(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    if not cmd.arg:
        return _say(ctx, rep, "pause_usage")
    text = _UNTIL.sub("", cmd.arg)
    day = parse_due_date(text, locale=rep.locale, tz=rep.timezone, now=ctx.clock())
    if day is None or day <= local_today(ctx.clock(), rep.timezone):
        return _say(ctx, rep, "pause_bad_date", "error", text=cmd.arg[:80])
    if not within_reach(day, ctx.clock()):
        return [Reply(kind="error", text=ctx.texts.message(rep.locale, "far_date", text=cmd.arg[:80],
                                                           years=DATE_REACH_YEARS))]
    async with ctx.db() as session, session.begin():
        await prefs.set_preference(session=session, person_id=rep.id, paused_until=day)
    return _say(ctx, rep, "paused", day=format_day(day, locale=rep.locale))


async def resume(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    async with ctx.db() as session, session.begin():
        await prefs.set_preference(session=session, person_id=rep.id, paused_until=None, nudges_off=False)
    return _say(ctx, rep, "resumed")


_MEETING_BUTTONS = ("got", "snooze", "skip", "later", "nodebrief")


def is_button(cmd: Command) -> bool:
    """Whether `cmd` is what a preparation's, a nudge's or a prompt's button sends (`nudges snooze
    12`, `nudges pick 12 ask_why_now`), which is never an answer to a debrief question even when
    one is open."""
    words = cmd.arg.casefold().split()
    if cmd.name != "nudges" or not words:
        return False
    if words[0] in ("tactic", PICK):
        return len(words) == 3 and parse_id(words[1]) is not None
    return words[0] in _MEETING_BUTTONS and len(words) == 2 and parse_id(words[1]) is not None


async def nudges(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    """`nudges on|off`, and the buttons: got / snooze / skip <meeting>, later / nodebrief <meeting>,
    tactic <suggestion> <verdict>, pick <meeting> <tactic> (a preparation's counter-tactic)."""
    words = cmd.arg.casefold().split()
    action = words[0] if words else ""
    if action in _ON | _OFF and len(words) == 1:
        async with ctx.db() as session, session.begin():
            await prefs.set_preference(session=session, person_id=rep.id, nudges_off=action in _OFF)
        return _say(ctx, rep, "nudges_off" if action in _OFF else "nudges_on")
    target = parse_id(words[1]) if len(words) > 1 else None  # ids as the buttons send them
    if action == "tactic" and len(words) == 3 and target is not None:
        return await _tactic_verdict(ctx, rep, target, words[2])
    if action == PICK and len(words) == 3 and target is not None:
        return await tactic_choice.pick(ctx, rep, target, words[2])
    if action in _MEETING_BUTTONS and len(words) == 2 and target is not None:
        return await _meeting_button(ctx, rep, action, target)
    return _say(ctx, rep, "nudges_usage")


async def _meeting_button(ctx: CoachContext, rep: Rep, action: str, meeting_id: int) -> list[Reply]:
    now, loc = ctx.clock(), rep.locale
    async with ctx.db() as session, session.begin():
        view = await load_meeting(session=session, meeting_id=meeting_id, person_id=rep.id)
        if view is None or view.meeting.cancelled:
            return _say(ctx, rep, "gone")
        m, account = view.meeting, view.account
        prefix, stamp = meeting_prefix(meeting_id), f"{m.starts_at:%Y%m%dT%H%MZ}"
        payload = {"meeting_id": meeting_id, "starts_at": m.starts_at.isoformat()}
        when = format_when(m.starts_at, locale=loc, tz=rep.timezone)
        if action == "got":
            return _say(ctx, rep, "got_it", account=account)
        if action == "skip":
            await outbox.cancel_prefix(session=session, prefix=prefix, reason="rep: not this meeting")
            return _say(ctx, rep, "skipped", account=account, when=when)
        if action == "nodebrief":
            await outbox.cancel_prefix(session=session, prefix=f"{prefix}debrief_", reason="rep: skipped")
            return _say(ctx, rep, "debrief_skipped", account=account)
        if action == "snooze":
            due = now + SNOOZE
            if due >= m.starts_at - timedelta(minutes=5):
                return _say(ctx, rep, "snooze_too_late")
            key, kind, expires = f"{prefix}{NUDGE}:{stamp}:snooze:{due:%H%M}", NUDGE, m.starts_at
        else:  # later: the debrief prompt again in an hour, out of quiet hours
            due = next_allowed(now + LATER, tz=rep.timezone, policy=ctx.schedule)
            key, kind, expires = (
                f"{prefix}{PROMPT}:{stamp}:later:{due:%Y%m%dT%H%M}",
                PROMPT,
                due + timedelta(days=2),
            )
        await outbox.enqueue(
            session=session,
            dedup_key=key,
            kind=kind,
            person_id=rep.id,
            due_at=due,
            expires_at=expires,
            payload=payload,
        )
    moment = format_clock(local_of(due, rep.timezone), locale=loc)
    return _say(ctx, rep, "snoozed" if action == "snooze" else "later", when=moment)


async def _tactic_verdict(ctx: CoachContext, rep: Rep, suggestion_id: int, verdict: str) -> list[Reply]:
    from dialogs.followup import VERDICTS

    if verdict not in VERDICTS:
        return _say(ctx, rep, "nudges_usage")
    async with ctx.db() as session, session.begin():
        row = await prefs.record_verdict(
            session=session, person_id=rep.id, suggestion_id=suggestion_id, verdict=verdict, now=ctx.clock()
        )
    if row is None:
        return _say(ctx, rep, "gone")
    if verdict == "drop":
        name = ctx.texts.render(rep.locale, "tactics", f"{row.tactic}.name")
        return _say(ctx, rep, "feedback_dropped", name=name)
    return _say(ctx, rep, "feedback_thanks")
