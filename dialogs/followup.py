"""Messages after a meeting: the debrief prompt and its one reminder, the follow-through on a
promised next step (recorded for the manager's digest), and the question whether tactics worked."""

from __future__ import annotations

from datetime import date, timedelta

from dialogs.context import CoachContext
from dialogs.debrief import load_rep
from dialogs.messages import Button, Reply
from dialogs.nudge import live_meeting, muted
from dialogs.text import format_day, format_when
from storage import next_steps
from storage import preferences as prefs
from storage.accounts import account_name
from storage.meetings import debriefed_since, load_meeting
from storage.models import Debrief
from storage.outbox import Item


async def _render_prompt(ctx: CoachContext, item: Item, *, reminder: bool) -> list[Reply] | None:
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=item.person_id)
        view = await load_meeting(
            session=session, meeting_id=int(item.payload["meeting_id"]), person_id=rep.id
        )
        if not live_meeting(view, item) or await muted(session=session, rep=rep, now=ctx.clock()):
            return None
        assert view is not None
        meeting = view.meeting
        if await debriefed_since(
            session=session,
            person_id=rep.id,
            account_id=meeting.account_id,
            since=meeting.starts_at - timedelta(hours=1),
        ):
            return None
    t, loc, account = ctx.texts, rep.locale, view.account
    when = format_when(meeting.starts_at, locale=loc, tz=rep.timezone)
    text = (
        t.render(loc, "nudge", "reminder_text", account=account, when=when)
        if reminder
        else t.render(loc, "nudge", "prompt_text", account=account)
    )
    buttons = [Button(t.render(loc, "nudge", "button_debrief", account=account), f"debrief {account}")]
    if not reminder:
        buttons.append(Button(t.render(loc, "nudge", "button_later"), f"nudges later {meeting.id}"))
    buttons.append(Button(t.render(loc, "nudge", "button_skip_debrief"), f"nudges nodebrief {meeting.id}"))
    return [
        Reply(
            kind="prompt",
            title=t.render(loc, "nudge", "prompt_title", account=account),
            text=text,
            buttons=tuple(buttons),
            meta={"meeting_id": meeting.id, "account": account},
        )
    ]


async def render_prompt(ctx: CoachContext, item: Item) -> list[Reply] | None:
    return await _render_prompt(ctx, item, reminder=False)


async def render_reminder(ctx: CoachContext, item: Item) -> list[Reply] | None:
    return await _render_prompt(ctx, item, reminder=True)


async def render_follow_through(ctx: CoachContext, item: Item) -> list[Reply] | None:
    """A next step whose date passed with no meeting or debrief with that account since: record it
    for the digest (once, whatever happens to the message) and prompt the rep once."""
    async with ctx.db() as session, session.begin():
        rep = await load_rep(session=session, ctx=ctx, person_id=item.person_id)
        debrief = await session.get(Debrief, int(item.payload["debrief_id"]))
        if debrief is None or debrief.person_id != rep.id:
            return None
        due = date.fromisoformat(item.payload["due"])
        if await next_steps.followed_up(session=session, debrief=debrief, until=ctx.clock()):
            return None
        await next_steps.record_missed(session=session, debrief=debrief, due=due, recorded_at=ctx.clock())
        account = await account_name(session=session, account_id=debrief.account_id)
        if await muted(session=session, rep=rep, now=ctx.clock()):
            return None
    t, loc = ctx.texts, rep.locale
    return [
        Reply(
            kind="prompt",
            title=t.render(loc, "nudge", "follow_title", account=account),
            text=t.render(
                loc,
                "nudge",
                "follow_text",
                account=account,
                when=format_day(debrief.created_at.date(), locale=loc),
                what=debrief.next_step_what or "",
                who=debrief.next_step_who or "",
                due=format_day(due, locale=loc),
            ),
            buttons=(
                Button(
                    ctx.texts.render(loc, "nudge", "button_debrief", account=account), f"debrief {account}"
                ),
            ),
            meta={"debrief_id": debrief.id},
        )
    ]


VERDICTS = ("worked", "flopped", "unused", "drop")


async def render_tactic_feedback(ctx: CoachContext, item: Item) -> list[Reply] | None:
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=item.person_id)
        ids = [int(i) for i in item.payload.get("suggested", [])]
        rows = await prefs.awaiting_verdict(session=session, person_id=rep.id, suggestion_ids=ids)
        account = await account_name(session=session, account_id=int(item.payload["account_id"]))
    known = ctx.texts.data(rep.locale, "tactics")
    rows = [r for r in rows if r.tactic in known]
    if not rows:
        return None
    t, loc = ctx.texts, rep.locale
    replies = [Reply(kind="question", title=t.render(loc, "nudge", "feedback_title", account=account))]
    for row in rows:
        name = t.render(loc, "tactics", f"{row.tactic}.name")
        replies.append(
            Reply(
                kind="question",
                text=t.render(loc, "nudge", "feedback_question", name=name),
                buttons=tuple(
                    Button(t.render(loc, "nudge", f"button_{v}"), f"nudges tactic {row.id} {v}")
                    for v in VERDICTS
                ),
                meta={"suggestion_id": row.id, "tactic": row.tactic},
            )
        )
    return replies
