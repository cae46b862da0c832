"""The pre-meeting nudge: counter-tactics, opening checks, recap of the last debrief with the
account, and the rep's weakest point with a question to ask. Wording in prompts/<locale>/nudge.yaml
and tactics.yaml; this module decides what goes in and in which order."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace as dataclass_replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.checklist import POINTS, SCORE
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.messages import Button, Reply
from dialogs.text import Texts, bot, format_day, format_duration, format_when, join
from dialogs.timing import local_today
from storage import preferences as prefs
from storage.meetings import MeetingView
from storage.models import Debrief, Person
from storage.nudge_queries import TacticSuggestion, load_nudge_batch, record_suggestions
from storage.outbox import Item
from storage.planning_models import CoachPreference

TACTICS_PER_NUDGE = 2
RECENT_DEBRIEFS = 5
# Feedback weights: a tactic that worked comes back more often, one that flopped less.
WEIGHTS = {"worked": 1.0, "flopped": -0.5, "unused": -0.1}
ROTATION_PENALTY = 0.75  # for each of the last two nudges that already suggested it
TACTIC_HISTORY = 60  # suggestions per rep that weigh in


def live_meeting(view: MeetingView | None, item: Item) -> bool:
    """The meeting still exists, is not cancelled, and still starts when this row was planned."""
    if view is None or view.meeting.cancelled:
        return False
    planned = item.payload.get("starts_at")
    return planned is None or datetime.fromisoformat(planned) == view.meeting.starts_at


def choose_tactics(
    keys: Sequence[str], history: Sequence[Any], *, seed: int, n: int = TACTICS_PER_NUDGE
) -> list[str]:
    """Two tactics: "not for me" ones dropped, weighted by the rep's verdicts, rotated away from
    the last two nudges' picks; ties broken by a per-meeting hash so reps see the whole library.
    `history` is newest first, items with .tactic, .meeting_id and .verdict."""
    dropped = {h.tactic for h in history if h.verdict == "drop"}
    score = {k: 1.0 for k in keys if k not in dropped}
    for h in history:
        if h.tactic in score and h.verdict in WEIGHTS:
            score[h.tactic] += WEIGHTS[h.verdict]
    recent_meetings: list[int] = []
    for h in history:  # newest first
        if h.meeting_id not in recent_meetings:
            recent_meetings.append(h.meeting_id)
        if len(recent_meetings) > 2:
            break
        if h.tactic in score:
            score[h.tactic] -= ROTATION_PENALTY

    def tiebreak(key: str) -> str:
        return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()

    return sorted(score, key=lambda k: (-score[k], tiebreak(k)))[:n]


def weakest_point(recent: Iterable[Mapping[str, str]]) -> str | None:
    """The point with the worst summed rating over recent debriefs (checklist order breaks ties)."""
    totals = {p: 0 for p in POINTS}
    for ratings in recent:
        for point, rating in ratings.items():
            if point in totals:
                totals[point] += SCORE.get(rating, 0)
    worst = max(POINTS, key=lambda p: (totals[p], -POINTS.index(p)))
    return worst if totals[worst] > 0 else None


def tactic_lines(ctx: CoachContext, locale: str, keys: Sequence[str]) -> tuple[str, ...]:
    return _tactic_lines(ctx.texts, locale, tuple(keys))


@functools.lru_cache(maxsize=1024)
def _tactic_lines(t: Texts, locale: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    # Texts are read once and never change: the same two tactics read the same every time.
    lines: list[str] = []
    for key in keys:
        name = t.render(locale, "tactics", f"{key}.name")
        when = t.render(locale, "tactics", f"{key}.when")
        lines.append(t.render(locale, "nudge", "tactic_line", name=name, when=when))
        lines.append(t.render(locale, "nudge", "tactic_say", say=t.render(locale, "tactics", f"{key}.say")))
    return tuple(lines)


@functools.lru_cache(maxsize=256)
def _fixed(t: Texts, locale: str, key: str) -> str:
    """A nudge text without variables (titles, button labels), rendered once per locale."""
    return t.render(locale, "nudge", key)


def recap_lines(ctx: CoachContext, rep: Rep, account: str, last: Debrief | None) -> tuple[str, str]:
    t, loc = ctx.texts, rep.locale
    if last is None:
        return t.render(loc, "nudge", "recap_none", account=account), ""
    lines: list[str] = []
    for field, key in (
        ("customer_questions", "recap_questions"),
        ("concessions_asked", "recap_concessions_asked"),
        ("concessions_given", "recap_concessions_given"),
        ("concessions_got", "recap_concessions_got"),
    ):
        value = getattr(last, field)
        if value:
            lines.append(t.render(loc, "nudge", key, text=value))
    if last.next_step_what or last.next_step_who:
        due = format_day(last.next_step_due, locale=loc) if last.next_step_due else ""
        lines.append(
            t.render(
                loc,
                "nudge",
                "recap_next_step",
                what=last.next_step_what or "",
                who=last.next_step_who or "",
                due=due,
            )
        )
    title = t.render(
        loc,
        "nudge",
        "recap_title",
        account=account,
        when=format_when(last.created_at, locale=loc, tz=rep.timezone),
    )
    return title, join("\n", lines)


def compose_nudge(
    *,
    ctx: CoachContext,
    rep: Rep,
    view: MeetingView,
    tactics: Sequence[str],
    last: Debrief | None,
    weak: str | None,
) -> list[Reply]:
    """The nudge for one meeting, as neutral replies (the last one carries the buttons)."""
    t, loc = ctx.texts, rep.locale
    meeting, account = view.meeting, view.account
    when = format_when(meeting.starts_at, locale=loc, tz=rep.timezone)
    minutes = max(1, round((meeting.starts_at - ctx.clock()).total_seconds() / 60))
    if view.formal:
        organised = view.invite is not None and view.invite.organiser_external
        head = t.render(loc, "nudge", "formal_organiser" if organised else "formal_agenda", account=account)
    else:
        head = t.render(loc, "nudge", "intro", account=account, lead=format_duration(minutes, locale=loc))
    header = Reply(
        kind="nudge",
        title=t.render(loc, "nudge", "title", account=account, when=when),
        text=head,
        meta={"meeting_id": meeting.id, "formal": view.formal},
    )
    tactics_reply = Reply(
        kind="nudge",
        title=_fixed(t, loc, "tactics_title"),
        items=tactic_lines(ctx, loc, tactics),
        meta={"tactics": list(tactics)},
    )
    checks = Reply(
        kind="nudge",
        title=_fixed(t, loc, "checks_title"),
        items=tuple(bot(str(c)) for c in t.data(loc, "nudge")["checks"]),
    )
    recap_title, recap_text = recap_lines(ctx, rep, account, last)
    recap = Reply(kind="nudge", title=recap_title, text=recap_text, meta={"recap": last is not None})
    if weak:
        weakest = Reply(
            kind="nudge",
            title=t.render(loc, "nudge", "weakest_title", title=t.point(loc, weak, "title")),
            text=t.render(loc, "nudge", "weakest_question", question=_fixed(t, loc, f"questions.{weak}")),
            meta={"weakest": weak},
        )
    else:
        weakest = Reply(kind="nudge", text=_fixed(t, loc, "weakest_none"))
    mid = meeting.id
    buttons = (
        Button(_fixed(t, loc, "button_got_it"), f"nudges got {mid}"),
        Button(_fixed(t, loc, "button_snooze"), f"nudges snooze {mid}"),
        Button(_fixed(t, loc, "button_skip"), f"nudges skip {mid}"),
    )
    body = [tactics_reply, checks, recap, weakest] if view.formal else [checks, recap, weakest, tactics_reply]
    body[-1] = dataclass_replace(body[-1], buttons=buttons)
    return [header, *body]


async def muted(*, session: AsyncSession, rep: Rep, now: datetime, nudge: bool = False) -> bool:
    """Paused (holidays), or — for nudges — nudges switched off."""
    pref = await prefs.get_preference(session=session, person_id=rep.id)
    return _muted(pref, rep, now, nudge=nudge)


def _muted(pref: CoachPreference | None, rep: Rep, now: datetime, *, nudge: bool) -> bool:
    if pref is None:
        return False
    return prefs.is_paused(pref, local_today(now, rep.timezone)) or (nudge and pref.nudges_off)


def _rep(ctx: CoachContext, person: Person) -> Rep:
    assert person.id is not None
    return Rep(
        id=person.id,
        workspace_id=person.workspace_id,
        name=person.display_name,
        locale=person.locale if person.locale in ("en", "nl") else ctx.default_locale,
        timezone=person.timezone or ctx.default_timezone,
        manager_name=None,
    )


async def render_nudges(ctx: CoachContext, items: Sequence[Item]) -> dict[int, list[Reply] | None]:
    """Batch renderer for kind "nudge": a fixed handful of queries for the whole batch, whatever
    its size (the scheduler renders a claimed batch at once). None cancels a row: the meeting is
    gone or moved, the rep paused or switched nudges off."""
    now = ctx.clock()
    meeting_ids = {int(i.payload["meeting_id"]) for i in items}
    person_ids = {i.person_id for i in items}
    out: dict[int, list[Reply] | None] = {}
    async with ctx.db() as session, session.begin():
        batch = await load_nudge_batch(
            session=session, person_ids=person_ids, meeting_ids=meeting_ids,
            tactic_history=TACTIC_HISTORY, recent_debriefs=RECENT_DEBRIEFS,
        )
        chosen_before = batch.chosen_before
        new_suggestions: list[TacticSuggestion] = []
        for item in items:
            person = batch.people.get(item.person_id)
            view = batch.meetings.get(int(item.payload["meeting_id"]))
            if person is None or view is None or view.meeting.person_id != person.id:
                out[item.id] = None
                continue
            rep = _rep(ctx, person)
            if not live_meeting(view, item) or _muted(batch.preferences.get(rep.id), rep, now, nudge=True):
                out[item.id] = None
                continue
            mid = view.meeting.id or 0
            tactics = chosen_before.get(mid)
            if not tactics:
                past = [h for h in batch.history.get(rep.id, []) if h.meeting_id != mid]
                tactics = choose_tactics(list(ctx.texts.data(rep.locale, "tactics")), past, seed=mid)
                chosen_before[mid] = tactics
                new_suggestions += [
                    TacticSuggestion(rep.id, view.meeting.account_id, mid, k, now) for k in tactics
                ]
            out[item.id] = compose_nudge(
                ctx=ctx,
                rep=rep,
                view=view,
                tactics=tactics,
                last=batch.last_debrief.get((rep.id, view.meeting.account_id)),
                weak=weakest_point(batch.recent_ratings.get(rep.id, {}).values()),
            )
        await record_suggestions(session=session, suggestions=new_suggestions)
    return out


async def render_nudge(ctx: CoachContext, item: Item) -> list[Reply] | None:
    """Outbox renderer for kind "nudge" (one row; the scheduler uses render_nudges for batches)."""
    return (await render_nudges(ctx, [item]))[item.id]
