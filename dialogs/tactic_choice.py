"""The rep's own two counter-tactics for a coming meeting: a preparation's button
(`nudges pick <meeting> <tactic>`) or their own words (`tactic Ask what their board wants first`,
for the meeting of the last preparation sent, else the next meeting). The pre-meeting nudge repeats
the choice; a third replaces the oldest."""

from __future__ import annotations

from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.meetings import PREPARE
from dialogs.messages import Reply
from dialogs.recap import trimmed
from dialogs.text import format_when, join
from storage.chosen_tactics import CHOSEN_PER_MEETING, ChosenTactic, choose, prepared_meetings
from storage.meetings import MeetingView, load_meeting, upcoming
from storage.models import DialogState

OWN_TACTIC_LIMIT = 300


def _say(ctx: CoachContext, rep: Rep, key: str, **values: object) -> str:
    return ctx.texts.render(rep.locale, "preparation", key, **values)


def _choice_reply(
    ctx: CoachContext, rep: Rep, view: MeetingView, first: str, chosen: list[ChosenTactic]
) -> Reply:
    t, loc = ctx.texts, rep.locale
    lines = []
    for c in chosen:
        if c.tactic is not None:
            lines.append(t.render(loc, "tactics", f"{c.tactic}.name"))
        elif c.own_text:
            lines.append(t.render(loc, "nudge", "own_tactic_line", text=trimmed(c.own_text)))
    after = _say(ctx, rep, "picked_both" if len(chosen) >= CHOSEN_PER_MEETING else "pick_one_more")
    return Reply(kind="saved", text=join("\n", (first, after)), items=tuple(lines),
                 meta={"meeting_id": view.meeting.id, "chosen": [c.tactic for c in chosen]})


async def pick(ctx: CoachContext, rep: Rep, meeting_id: int, tactic: str) -> list[Reply]:
    """A preparation's button: this library tactic is one of the rep's two for that meeting."""
    library = ctx.texts.data(rep.locale, "tactics")
    if tactic not in library:
        return [Reply(kind="error", text=_say(ctx, rep, "unknown_tactic"))]
    async with ctx.db() as session, session.begin():
        view = await load_meeting(session=session, meeting_id=meeting_id, person_id=rep.id)
        if view is None or view.meeting.cancelled or view.meeting.starts_at <= ctx.clock():
            return [Reply(kind="info", text=ctx.texts.render(rep.locale, "nudge", "gone"))]
        chosen, added = await choose(session=session, person_id=rep.id, meeting_id=meeting_id,
                                     tactic=tactic, now=ctx.clock())
    name = ctx.texts.render(rep.locale, "tactics", f"{tactic}.name")
    when = format_when(view.meeting.starts_at, locale=rep.locale, tz=rep.timezone)
    first = (_say(ctx, rep, "picked", account=view.account, when=when, name=name) if added
             else _say(ctx, rep, "already_picked", account=view.account, name=name))
    return [_choice_reply(ctx, rep, view, first, chosen)]


async def own_tactic(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    """`tactic <own words>`: for the meeting of the last preparation sent, else the next one."""
    text = " ".join(cmd.arg.split())
    if not text:
        return [Reply(kind="info", text=_say(ctx, rep, "own_usage"))]
    if len(text) > OWN_TACTIC_LIMIT:
        too_long = ctx.texts.message(rep.locale, "too_long", length=len(text), limit=OWN_TACTIC_LIMIT)
        return [Reply(kind="error", text=too_long)]
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        view = None
        candidates = await prepared_meetings(session=session, person_id=rep.id, kind=PREPARE)
        candidates += [m.id for m in await upcoming(session=session, person_id=rep.id, now=now, limit=1)
                       if m.id is not None]
        for meeting_id in candidates:
            found = await load_meeting(session=session, meeting_id=meeting_id, person_id=rep.id)
            if found is not None and not found.meeting.cancelled and found.meeting.starts_at > now:
                view = found
                break
        if view is None or view.meeting.id is None:
            return [Reply(kind="info", text=_say(ctx, rep, "no_meeting"))]
        chosen, _ = await choose(session=session, person_id=rep.id, meeting_id=view.meeting.id,
                                 own_text=text, now=now)
    when = format_when(view.meeting.starts_at, locale=rep.locale, tz=rep.timezone)
    first = _say(ctx, rep, "picked_own", account=view.account, when=when, text=trimmed(text))
    return [_choice_reply(ctx, rep, view, first, chosen)]
