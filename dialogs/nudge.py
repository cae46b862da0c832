"""The pre-meeting nudge: counter-tactics, opening checks, recap of the last debrief with the
account, and the rep's weakest point with a question to ask. Wording in prompts/<locale>/nudge.yaml
and tactics.yaml; this module decides what goes in and in which order."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.checklist import POINTS, SCORE
from dialogs.context import CoachContext
from dialogs.debrief import Rep, load_rep
from dialogs.messages import Button, Reply
from dialogs.text import format_day, format_duration, format_when
from dialogs.timing import local_today
from storage import preferences as prefs
from storage import repository as repo
from storage.models import Account, Debrief, Meeting
from storage.outbox import Item
from storage.scheduling import MeetingInvite, SuggestedTactic

TACTICS_PER_NUDGE = 2
RECENT_DEBRIEFS = 5
# Feedback weights: a tactic that worked comes back more often, one that flopped less.
WEIGHTS = {"worked": 1.0, "flopped": -0.5, "unused": -0.1}
ROTATION_PENALTY = 0.75  # for each of the last two nudges that already suggested it


@dataclass(frozen=True)
class MeetingView:
    meeting: Meeting
    account: str
    invite: MeetingInvite | None

    @property
    def formal(self) -> bool:
        return bool(self.invite and (self.invite.organiser_external or self.invite.formal_agenda))


async def load_meeting(*, session: AsyncSession, meeting_id: int, person_id: int) -> MeetingView | None:
    row = (await session.execute(
        sa.select(Meeting, Account.name, MeetingInvite)
        .join(Account, Account.id == Meeting.account_id)
        .outerjoin(MeetingInvite, MeetingInvite.meeting_id == Meeting.id)
        .where(Meeting.id == meeting_id, Meeting.person_id == person_id)
    )).first()
    return MeetingView(row[0], row[1], row[2]) if row else None


def live_meeting(view: MeetingView | None, item: Item) -> bool:
    """The meeting still exists, is not cancelled, and still starts when this row was planned."""
    if view is None or view.meeting.cancelled:
        return False
    planned = item.payload.get("starts_at")
    return planned is None or datetime.fromisoformat(planned) == view.meeting.starts_at


def choose_tactics(keys: Sequence[str], history: Sequence[SuggestedTactic], *, seed: int,
                   n: int = TACTICS_PER_NUDGE) -> list[str]:
    """Two tactics: "not for me" ones dropped, weighted by the rep's verdicts, rotated away from
    the last two nudges' picks; ties broken by a per-meeting hash so reps see the whole library."""
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


def weakest_point(debriefs: Sequence[repo.StoredDebrief]) -> str | None:
    """The point with the worst summed rating over recent debriefs (checklist order breaks ties)."""
    totals = {p: 0 for p in POINTS}
    for d in debriefs:
        for point, answer in d.answers.items():
            if point in totals:
                totals[point] += SCORE.get(answer.rating, 0)
    worst = max(POINTS, key=lambda p: (totals[p], -POINTS.index(p)))
    return worst if totals[worst] > 0 else None


async def last_debrief(*, session: AsyncSession, person_id: int, account_id: int) -> Debrief | None:
    return await session.scalar(
        sa.select(Debrief).where(Debrief.person_id == person_id, Debrief.account_id == account_id)
        .order_by(Debrief.created_at.desc(), Debrief.id.desc()).limit(1)
    )


async def tactics_for(*, session: AsyncSession, ctx: CoachContext, rep: Rep, view: MeetingView) -> list[str]:
    """The meeting's two tactics, chosen once and recorded (a retried send shows the same two)."""
    meeting_id = view.meeting.id or 0
    already = (await session.scalars(
        sa.select(SuggestedTactic.tactic).where(SuggestedTactic.meeting_id == meeting_id)
        .order_by(SuggestedTactic.id)
    )).all()
    if already:
        return list(already)
    history = [h for h in await prefs.tactic_history(session=session, person_id=rep.id)
               if h.meeting_id != meeting_id]
    keys = list(ctx.texts.data(rep.locale, "tactics"))
    chosen = choose_tactics(keys, history, seed=meeting_id)
    await prefs.record_suggestions(session=session, person_id=rep.id, account_id=view.meeting.account_id,
                                   meeting_id=meeting_id, tactics=chosen, now=ctx.clock())
    return chosen


def tactic_lines(ctx: CoachContext, locale: str, keys: Sequence[str]) -> tuple[str, ...]:
    t = ctx.texts
    lines: list[str] = []
    for key in keys:
        name = t.render(locale, "tactics", f"{key}.name")
        when = t.render(locale, "tactics", f"{key}.when")
        lines.append(t.render(locale, "nudge", "tactic_line", name=name, when=when))
        lines.append(t.render(locale, "nudge", "tactic_say", say=t.render(locale, "tactics", f"{key}.say")))
    return tuple(lines)


def recap_lines(ctx: CoachContext, rep: Rep, account: str, last: Debrief | None) -> tuple[str, str]:
    t, loc = ctx.texts, rep.locale
    if last is None:
        return t.render(loc, "nudge", "recap_none", account=account), ""
    lines: list[str] = []
    for field, key in (("customer_questions", "recap_questions"),
                       ("concessions_asked", "recap_concessions_asked"),
                       ("concessions_given", "recap_concessions_given"),
                       ("concessions_got", "recap_concessions_got")):
        value = getattr(last, field)
        if value:
            lines.append(t.render(loc, "nudge", key, text=value))
    if last.next_step_what or last.next_step_who:
        due = format_day(last.next_step_due, locale=loc) if last.next_step_due else ""
        lines.append(t.render(loc, "nudge", "recap_next_step", what=last.next_step_what or "",
                              who=last.next_step_who or "", due=due))
    title = t.render(loc, "nudge", "recap_title", account=account,
                     when=format_when(last.created_at, locale=loc, tz=rep.timezone))
    return title, "\n".join(lines)


async def compose_nudge(*, ctx: CoachContext, session: AsyncSession, rep: Rep, view: MeetingView) -> list[Reply]:
    """The nudge for one meeting, as neutral replies (the last one carries the buttons)."""
    t, loc = ctx.texts, rep.locale
    meeting, account = view.meeting, view.account
    when = format_when(meeting.starts_at, locale=loc, tz=rep.timezone)
    minutes = max(1, round((meeting.starts_at - ctx.clock()).total_seconds() / 60))
    tactics = await tactics_for(session=session, ctx=ctx, rep=rep, view=view)
    last = await last_debrief(session=session, person_id=rep.id, account_id=meeting.account_id)
    recent = await repo.latest_debriefs(session=session, person_id=rep.id, limit=RECENT_DEBRIEFS)
    weak = weakest_point(recent)

    if view.formal:
        organised = view.invite is not None and view.invite.organiser_external
        head = t.render(loc, "nudge", "formal_organiser" if organised else "formal_agenda", account=account)
    else:
        head = t.render(loc, "nudge", "intro", account=account, lead=format_duration(minutes, locale=loc))
    header = Reply(kind="nudge", title=t.render(loc, "nudge", "title", account=account, when=when),
                   text=head, meta={"meeting_id": meeting.id, "formal": view.formal})
    tactics_reply = Reply(kind="nudge", title=t.render(loc, "nudge", "tactics_title"),
                          items=tactic_lines(ctx, loc, tactics), meta={"tactics": tactics})
    checks = Reply(kind="nudge", title=t.render(loc, "nudge", "checks_title"),
                   items=tuple(str(c) for c in t.data(loc, "nudge")["checks"]))
    recap_title, recap_text = recap_lines(ctx, rep, account, last)
    recap = Reply(kind="nudge", title=recap_title, text=recap_text, meta={"recap": last is not None})
    if weak:
        weakest = Reply(kind="nudge", title=t.render(loc, "nudge", "weakest_title",
                                                     title=t.point(loc, weak, "title")),
                        text=t.render(loc, "nudge", "weakest_question",
                                      question=t.render(loc, "nudge", f"questions.{weak}")),
                        meta={"weakest": weak})
    else:
        weakest = Reply(kind="nudge", text=t.render(loc, "nudge", "weakest_none"))
    mid = meeting.id
    buttons = (
        Button(t.render(loc, "nudge", "button_got_it"), f"nudges got {mid}"),
        Button(t.render(loc, "nudge", "button_snooze"), f"nudges snooze {mid}"),
        Button(t.render(loc, "nudge", "button_skip"), f"nudges skip {mid}"),
    )
    body = [tactics_reply, checks, recap, weakest] if view.formal else [checks, recap, weakest, tactics_reply]
    last_reply = body[-1]
    body[-1] = Reply(kind=last_reply.kind, title=last_reply.title, text=last_reply.text,
                     items=last_reply.items, buttons=buttons, meta=last_reply.meta)
    return [header, *body]


async def muted(*, session: AsyncSession, rep: Rep, now: datetime, nudge: bool = False) -> bool:
    """Paused (holidays), or — for nudges — nudges switched off."""
    pref = await prefs.get_preference(session=session, person_id=rep.id)
    return prefs.is_paused(pref, local_today(now, rep.timezone)) or (nudge and pref.nudges_off)


async def render_nudge(ctx: CoachContext, item: Item) -> list[Reply] | None:
    """Outbox renderer for kind "nudge"; None cancels the row (meeting gone, paused, nudges off)."""
    async with ctx.db() as session, session.begin():
        rep = await load_rep(session=session, ctx=ctx, person_id=item.person_id)
        view = await load_meeting(session=session, meeting_id=int(item.payload["meeting_id"]),
                                  person_id=rep.id)
        if not live_meeting(view, item) or await muted(session=session, rep=rep, now=ctx.clock(), nudge=True):
            return None
        assert view is not None
        return await compose_nudge(ctx=ctx, session=session, rep=rep, view=view)
