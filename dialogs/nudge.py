"""The pre-meeting nudge, as one message: two counter-tactics (the rep's own choice from the
preparation, else two picked by fit), the opening checks, the recap of the last debrief with the
account, and the rep's weakest point with a question to ask. A formal meeting (the invite, or the
last debrief: "the customer, formally") leads with the tactics. Wording in
prompts/<locale>/nudge.yaml and tactics.yaml; this module decides what goes in and in which order."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.meeting_brief import FORMAL_BY_DEBRIEF, MeetingBrief, meeting_brief
from dialogs.messages import Button, Reply
from dialogs.recap import Answers, recap_lines, trimmed
from dialogs.text import Texts, bot, format_duration, format_when, join
from dialogs.timing import local_today
from storage import preferences as prefs
from storage.meetings import MeetingView
from storage.models import Debrief
from storage.nudge_queries import NudgeBatch, TacticSuggestion, load_nudge_batch, record_suggestions
from storage.outbox import Item
from storage.planning_models import CoachPreference

RECENT_DEBRIEFS = 5
TACTIC_HISTORY = 60  # suggestions per rep that weigh in
BULLET = "• "


def live_meeting(view: MeetingView | None, item: Item) -> bool:
    """The meeting still exists, is not cancelled, and still starts when this row was planned."""
    if view is None or view.meeting.cancelled:
        return False
    planned = item.payload.get("starts_at")
    return planned is None or datetime.fromisoformat(planned) == view.meeting.starts_at


def bullet(line: str) -> str:
    return join("", (bot(BULLET), line))


def section(title: str, lines: Sequence[str]) -> str:
    """A titled block of one message: the title, then its lines."""
    return join("\n", (title, *lines))


def tactic_lines(ctx: CoachContext, locale: str, keys: Sequence[str]) -> tuple[str, ...]:
    return _tactic_lines(ctx.texts, locale, tuple(keys))


@functools.lru_cache(maxsize=1024)
def _tactic_lines(t: Texts, locale: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    # Texts are read once and never change: the same two tactics read the same every time.
    lines: list[str] = []
    for key in keys:
        name = t.render(locale, "tactics", f"{key}.name")
        when = t.render(locale, "tactics", f"{key}.when")
        lines.append(bullet(t.render(locale, "nudge", "tactic_line", name=name, when=when)))
        say = t.render(locale, "nudge", "tactic_say", say=t.render(locale, "tactics", f"{key}.say"))
        lines.append(join("", (bot("   "), say)))
    return tuple(lines)


@functools.lru_cache(maxsize=256)
def _fixed(t: Texts, locale: str, key: str) -> str:
    """A nudge text without variables (titles, button labels), rendered once per locale."""
    return t.render(locale, "nudge", key)


@functools.lru_cache(maxsize=16)
def _checks(t: Texts, locale: str) -> str:
    """The opening checks, the same in every nudge of a locale."""
    checks = [bullet(bot(str(c))) for c in t.data(locale, "nudge")["checks"]]
    return section(_fixed(t, locale, "checks_title"), checks)


def compose_nudge(
    *,
    ctx: CoachContext,
    rep: Rep,
    view: MeetingView,
    tactics: Sequence[str],
    last: Debrief | None,
    weak: str | None,
    answers: Answers | None = None,
    own: Sequence[str] = (),
    chosen_by_rep: bool = False,
) -> list[Reply]:
    """The nudge for one meeting: one reply, its sections in the method's order, with the buttons."""
    t, loc = ctx.texts, rep.locale
    meeting, account = view.meeting, view.account
    when = format_when(meeting.starts_at, locale=loc, tz=rep.timezone)
    by_debrief = last is not None and last.agenda_set_by == FORMAL_BY_DEBRIEF
    formal = view.formal or by_debrief
    if view.formal:
        organised = view.invite is not None and view.invite.organiser_external
        head = t.render(loc, "nudge", "formal_organiser" if organised else "formal_agenda", account=account)
    elif by_debrief:
        head = t.render(loc, "nudge", "formal_debrief", account=account)
    else:
        minutes = max(1, round((meeting.starts_at - ctx.clock()).total_seconds() / 60))
        head = t.render(loc, "nudge", "intro", account=account, lead=format_duration(minutes, locale=loc))
    own_lines = [bullet(t.render(loc, "nudge", "own_tactic_line", text=trimmed(text))) for text in own]
    tactics_block = section(
        _fixed(t, loc, "own_tactics_title" if chosen_by_rep else "tactics_title"),
        [*tactic_lines(ctx, loc, tactics), *own_lines],
    )
    checks = _checks(t, loc)
    recap_title, recap = recap_lines(ctx, rep, account, last, answers or {})
    recap_block = section(recap_title, [bullet(line) for line in recap])
    if weak:
        weakest = section(
            t.render(loc, "nudge", "weakest_title", title=t.point(loc, weak, "title")),
            [t.render(loc, "nudge", "weakest_question", question=_fixed(t, loc, f"questions.{weak}"))],
        )
    else:
        weakest = _fixed(t, loc, "weakest_none")
    body = [checks, recap_block, weakest]
    body = [tactics_block, *body] if formal else [*body, tactics_block]
    mid = meeting.id
    return [
        Reply(
            kind="nudge",
            title=t.render(loc, "nudge", "title", account=account, when=when),
            text=join("\n\n", (head, *body)),
            buttons=(
                Button(_fixed(t, loc, "button_got_it"), f"nudges got {mid}"),
                Button(_fixed(t, loc, "button_snooze"), f"nudges snooze {mid}"),
                Button(_fixed(t, loc, "button_skip"), f"nudges skip {mid}"),
            ),
            meta={"meeting_id": mid, "formal": formal, "tactics": list(tactics), "own_tactics": list(own),
                  "chosen_by_rep": chosen_by_rep, "recap": last is not None, "weakest": weak},
        )
    ]


def nudge_of(ctx: CoachContext, brief: MeetingBrief) -> list[Reply]:
    return compose_nudge(
        ctx=ctx, rep=brief.rep, view=brief.view, tactics=brief.tactics, last=brief.last, weak=brief.weak,
        answers=brief.answers, own=brief.own, chosen_by_rep=brief.chosen_by_rep,
    )


async def muted(*, session: AsyncSession, rep: Rep, now: datetime, nudge: bool = False) -> bool:
    """Paused (holidays), or — for nudges — nudges switched off."""
    pref = await prefs.get_preference(session=session, person_id=rep.id)
    return is_muted(pref, rep, now, nudge=nudge)


def is_muted(pref: CoachPreference | None, rep: Rep, now: datetime, *, nudge: bool) -> bool:
    if pref is None:
        return False
    return prefs.is_paused(pref, local_today(now, rep.timezone)) or (nudge and pref.nudges_off)


def live_brief(
    ctx: CoachContext, batch: NudgeBatch, item: Item, now: datetime, *, offer: bool = False
) -> MeetingBrief | None:
    """The brief for a claimed preparation or nudge row; None cancels the row: the meeting is gone
    or moved, the rep paused or switched nudges off."""
    brief = meeting_brief(ctx, batch, item.person_id, int(item.payload["meeting_id"]), offer=offer)
    if brief is None or not live_meeting(brief.view, item):
        return None
    return None if is_muted(batch.preferences.get(brief.rep.id), brief.rep, now, nudge=True) else brief


async def render_nudges(ctx: CoachContext, items: Sequence[Item]) -> dict[int, list[Reply] | None]:
    """Batch renderer for kind "nudge": a fixed handful of queries for the whole batch, whatever
    its size (the scheduler renders a claimed batch at once). The tactics it shows are recorded as
    suggestions, for the rep's verdict after the meeting."""
    now = ctx.clock()
    out: dict[int, list[Reply] | None] = {}
    async with ctx.db() as session, session.begin():
        batch = await load_nudge_batch(
            session=session, person_ids={i.person_id for i in items},
            meeting_ids={int(i.payload["meeting_id"]) for i in items},
            tactic_history=TACTIC_HISTORY, recent_debriefs=RECENT_DEBRIEFS,
        )
        suggested: list[TacticSuggestion] = []
        for item in items:
            brief = live_brief(ctx, batch, item, now)
            if brief is None:
                out[item.id] = None
                continue
            recorded = batch.chosen_before.setdefault(brief.meeting_id, [])
            for key in brief.tactics:
                if key not in recorded:
                    recorded.append(key)
                    suggested.append(TacticSuggestion(
                        brief.rep.id, brief.view.meeting.account_id, brief.meeting_id, key, now))
            out[item.id] = nudge_of(ctx, brief)
        await record_suggestions(session=session, suggestions=suggested)
    return out


async def render_nudge(ctx: CoachContext, item: Item) -> list[Reply] | None:
    """Outbox renderer for kind "nudge" (one row; the scheduler uses render_nudges for batches)."""
    return (await render_nudges(ctx, [item]))[item.id]
