"""Storing a debrief, correcting one, and the coaching feedback that answers it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.checklist import FIELDS, POINTS, weakest_points
from dialogs.coaching import coaching_histories, coaching_history, coaching_reply, needs_history, rules_of
from dialogs.context import CoachContext
from dialogs.crm_entry import crm_name
from dialogs.customer_recap import offers_recap, recap_reply
from dialogs.meetings import plan_follow_ups
from dialogs.messages import Button, Reply
from dialogs.text import format_clock, format_duration, format_when, join, weekday_name
from dialogs.timing import SchedulePolicy
from dialogs.validation import CleanDebrief, Locality, assemble
from storage import crm, filing, outbox
from storage.debrief_insert import FiledDebrief, SignedOwner
from storage.debriefs import (
    AnswerRow,
    DebriefMoment,
    StoredDebrief,
    debriefs_by_id,
    get_debrief,
    latest_debriefs,
    update_debrief,
)
from storage.errors import EditWindowClosed
from storage.follow_ups import DEBRIEF_HEAD, FollowUps, PlannedMessage
from storage.models import Person, utcnow
from storage.outbox import Item
from storage.people import get_person, people_with_manager_names


@dataclass(frozen=True)
class Rep:
    """The person a dialog talks to, with their effective language and timezone."""

    id: int
    workspace_id: int
    name: str
    locale: str
    timezone: str
    manager_name: str | None

    def locality(self, now: datetime) -> Locality:
        return Locality(locale=self.locale, timezone=self.timezone, now=now)


async def load_rep(*, session: AsyncSession, ctx: CoachContext, person_id: int) -> Rep:
    person = await get_person(session=session, person_id=person_id)
    manager: Person | None = None
    if person.manager_id is not None:
        manager = await session.get(Person, person.manager_id)
    assert person.id is not None
    return Rep(
        id=person.id,
        workspace_id=person.workspace_id,
        name=person.display_name,
        locale=_locale(ctx, person.locale),
        timezone=person.timezone or ctx.default_timezone,
        manager_name=(manager.display_name or manager.email or "") if manager else None,
    )


def _locale(ctx: CoachContext, stored: str | None) -> str:
    return stored if stored in ("en", "nl") else ctx.default_locale


TIPS = "debrief_tips"  # outbox kind: a new debrief's coaching, sent after the channel's answer
EDIT_OF = "edit_debrief"  # Reply.meta key: the debrief a channel may offer an edit button for


@dataclass(frozen=True)
class SubmitResult:
    debrief_id: int
    created: bool
    replies: list[Reply]


def _columns(debrief: CleanDebrief) -> tuple[dict[str, Any], list[AnswerRow]]:
    answers = [AnswerRow(p, debrief.ratings[p], debrief.notes.get(p)) for p in POINTS]
    return dict(debrief.fields), answers


async def store_debrief(
    *,
    session: AsyncSession,
    rep: Rep,
    debrief: CleanDebrief,
    idempotency_key: str,
    created_at: datetime | None = None,
    schedule: SchedulePolicy | None = None,
) -> tuple[int, bool]:
    """Write the debrief inside the caller's transaction; a repeated key returns the first one.

    `created_at` is the dialog clock's now (CoachContext.clock), so the edit window and history
    are measured on the same clock that stamped the debrief. A new debrief also plans what follows:
    the next meeting and its nudge, the follow-through check, tactic feedback.
    """
    now = created_at or utcnow()
    fields, answers = _columns(debrief)
    filed = await filing.file_debrief_in(
        session=session, person_id=rep.id, account_name=debrief.account,
        idempotency_key=idempotency_key, fields=fields, answers=answers, created_at=now,
        plan=_planner(fields, schedule or SchedulePolicy(), now), timezone=rep.timezone,
        default_timezone=rep.timezone,
    )
    return filed.debrief_id, filed.created


def _planner(
    fields: dict[str, Any], schedule: SchedulePolicy, now: datetime, tips_later: bool = False
) -> filing.FollowUpPlanner:
    """What the debrief sets in motion, once the rep's timezone is known."""
    return functools.partial(_plan, fields, schedule, now, tips_later)


def _plan(
    fields: dict[str, Any], schedule: SchedulePolicy, now: datetime, tips_later: bool, tz: str
) -> FollowUps:
    plan = plan_follow_ups(fields, tz=tz, policy=schedule, now=now)
    return replace(plan, tips=PlannedMessage(TIPS, "tips", now, None)) if tips_later else plan


async def store_correction(
    *, session: AsyncSession, ctx: CoachContext, rep: Rep, debrief_id: int, debrief: CleanDebrief
) -> datetime:
    """Replace a recent debrief's answers; returns its (kept) original time."""
    stored = await get_debrief(session=session, debrief_id=debrief_id, person_id=rep.id)
    check_edit_window(ctx, stored.debrief.created_at)
    fields, answers = _columns(debrief)
    await update_debrief(
        session=session, debrief_id=debrief_id, person_id=rep.id, fields=fields, answers=answers,
        updated_at=ctx.clock(),
    )
    await crm.plan_write(session=session, debrief_id=debrief_id, due_at=ctx.clock(), edit_of=ctx.clock())
    return stored.debrief.created_at


def check_edit_window(ctx: CoachContext, created_at: datetime) -> None:
    if ctx.clock() - created_at > timedelta(days=ctx.edit_window_days):
        raise EditWindowClosed("debrief is outside the edit window", created_at=created_at)


async def submit_debrief(
    *,
    ctx: CoachContext,
    person_id: int,
    debrief: CleanDebrief,
    idempotency_key: str,
    tz: str | None = None,
    owner: SignedOwner | None = None,
    tips_later: bool = False,
) -> SubmitResult:
    """Store a validated debrief once (atomically) and answer with coaching.

    `owner` is who the channel's signed request says is filing; `person_id` must be theirs, else
    nothing is stored (NotFound), so a person id carried by the request is only ever a hint.

    The rep's name, language, timezone and manager come back from the insert itself (see
    storage.filing.file_debrief); `tz`, the rep's timezone when the caller knows it, lets the
    follow-ups' times be planned before the insert says the stored one. `tips_later`: the channel
    sends the coaching after its answer, so a new debrief also stores an outbox row (kind TIPS, in
    the same write) that the scheduler delivers once, retrying until it is delivered or fails; the
    result then has no replies (the row renders them when it is sent).
    """
    now = ctx.clock()
    fields, answers = _columns(debrief)
    earlier: list[CleanDebrief] = []

    async def read_history(session: AsyncSession, filed: FiledDebrief) -> None:
        # the pattern rules' history, read in the filing's transaction (no round trip of its own)
        earlier[:] = await coaching_history(session=session, texts=ctx.texts, debrief=debrief,
                                            moment=DebriefMoment(filed.debrief_id, person_id, now))

    reads = not tips_later and needs_history(rules_of(ctx.texts), debrief)
    filed = await filing.file_debrief(
        sessions=ctx.db, person_id=person_id, account_name=debrief.account,
        idempotency_key=idempotency_key, fields=fields, answers=answers, created_at=now,
        plan=_planner(fields, ctx.schedule, now, tips_later), timezone=tz,
        default_timezone=ctx.default_timezone, owner=owner, read_after=read_history if reads else None,
    )
    rep = Rep(
        id=person_id,
        workspace_id=filed.workspace_id,
        name=filed.person_name,
        locale=_locale(ctx, filed.locale),
        timezone=filed.timezone or ctx.default_timezone,
        manager_name=filed.manager_name,
    )
    if tips_later and filed.created:  # the outbox row renders them when it is sent
        return SubmitResult(filed.debrief_id, True, [])
    replies = feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=now, created=filed.created,
                       history=earlier)
    return SubmitResult(filed.debrief_id, filed.created, replies)


async def submit_correction(
    *,
    ctx: CoachContext,
    person_id: int,
    debrief_id: int,
    debrief: CleanDebrief,
    tips_key: str | None = None,
) -> SubmitResult:
    """Correct a recent debrief and answer with coaching. `tips_key` (the edit's idempotency key):
    the channel sends the coaching after its answer, as an outbox row stored in the same
    transaction (one per key, so a repeated edit says it once)."""
    async with ctx.db() as session, session.begin():
        rep = await load_rep(session=session, ctx=ctx, person_id=person_id)
        created_at = await store_correction(
            session=session, ctx=ctx, rep=rep, debrief_id=debrief_id, debrief=debrief
        )
        earlier = await coaching_history(session=session, texts=ctx.texts, debrief=debrief,
                                         moment=DebriefMoment(debrief_id, person_id, created_at))
        if tips_key is not None:
            await outbox.enqueue(
                session=session, dedup_key=f"{DEBRIEF_HEAD}{debrief_id}:tips:{tips_key}"[:255],
                kind=TIPS, person_id=person_id, due_at=ctx.clock(),
                payload={"debrief_id": debrief_id, "corrected": True},
            )
    replies = feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=created_at, corrected=True,
                       history=earlier)
    return SubmitResult(debrief_id, False, replies)


async def render_tips(ctx: CoachContext, item: Item) -> list[Reply] | None:
    """The outbox renderer of TIPS, for one row (see render_tips_batch)."""
    return (await render_tips_batch(ctx, [item]))[item.id]


async def render_tips_batch(ctx: CoachContext, items: Sequence[Item]) -> dict[int, list[Reply] | None]:
    """The coaching of each TIPS row, from the stored debrief (a row holds only its id), in three
    queries for the whole batch (four when a pattern rule reads the reps' earlier debriefs); None
    (nothing to send) when the debrief or the rep is gone."""
    async with ctx.db() as session:
        people = await people_with_manager_names(session=session, person_ids=[i.person_id for i in items])
        ids = [int(i.payload["debrief_id"]) for i in items]
        stored = await debriefs_by_id(session=session, debrief_ids=ids)
        debriefs = {i: (s, assemble(s.account_name, stored_values(s))) for i, s in stored.items()}
        histories = await coaching_histories(session=session, texts=ctx.texts, wanted=[
            (DebriefMoment(i, s.debrief.person_id, s.debrief.created_at), d) for i, (s, d) in debriefs.items()
        ])
    out: dict[int, list[Reply] | None] = {}
    for item in items:
        await asyncio.sleep(0)  # a batch renders for tens of ms: let the requests waiting meanwhile in
        debrief_id = int(item.payload["debrief_id"])
        found, known = debriefs.get(debrief_id), people.get(item.person_id)
        if found is None or known is None or found[0].debrief.person_id != item.person_id:
            out[item.id] = None
            continue
        person, manager_name = known
        rep = Rep(id=item.person_id, workspace_id=person.workspace_id, name=person.display_name,
                  locale=_locale(ctx, person.locale), timezone=person.timezone or ctx.default_timezone,
                  manager_name=manager_name)
        row, debrief = found
        replies = feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=row.debrief.created_at,
                           corrected=bool(item.payload.get("corrected")),
                           history=histories.get(debrief_id, ()))
        out[item.id] = [*replies[:-1], replace(replies[-1], meta={EDIT_OF: debrief_id})]
    return out


# -- coaching --------------------------------------------------------------------------------
def coaching(
    *, ctx: CoachContext, rep: Rep, debrief: CleanDebrief, history: Sequence[CleanDebrief] = ()
) -> Reply:
    """One or two tips from the coaching rules (dialogs.coaching); praise when all went well.
    `history`: the rep's debriefs before this one, newest first (dialogs.coaching.coaching_history)."""
    return coaching_reply(ctx.texts, locale=rep.locale, tz=rep.timezone, now=ctx.clock(),
                          debrief=debrief, history=history)


def what_next(*, ctx: CoachContext, rep: Rep, debrief: CleanDebrief | None = None) -> Reply:
    """Who will see this debrief, and when; how long it can be corrected; the next nudge."""
    texts, loc = ctx.texts, rep.locale
    lines: list[str] = []
    if rep.manager_name:
        key = "next_manager_notes" if ctx.share_notes else "next_manager"
        lines.append(texts.message(
            loc, key, manager=rep.manager_name,
            weekday=weekday_name(ctx.digest_weekday, locale=loc),
            time=format_clock(ctx.digest_time, locale=loc),
        ))
    else:
        lines.append(texts.message(loc, "next_private"))
    lines.append(texts.message(loc, "next_edit", days=ctx.edit_window_days))
    if debrief is not None and rep.workspace_id in ctx.crm_of:  # the CRM's copy is the company's record
        lines.append(texts.render(loc, "crm", "record_line", account=debrief.account,
                                  crm=crm_name(ctx.crm_of[rep.workspace_id])))
    next_at = debrief.fields.get("next_meeting_at") if debrief is not None else None
    if isinstance(next_at, datetime) and next_at > ctx.clock():  # the pre-meeting nudge
        lines.append(texts.message(
            loc, "next_nudge", account=debrief.account if debrief else "",
            lead=format_duration(ctx.schedule.lead_minutes, locale=loc),
            when=format_when(next_at, locale=loc, tz=rep.timezone),
        ))
    return Reply(kind="info", text=join("\n", lines))


def feedback(
    *,
    ctx: CoachContext,
    rep: Rep,
    debrief: CleanDebrief,
    saved_at: datetime,
    created: bool = True,
    corrected: bool = False,
    history: Sequence[CleanDebrief] = (),
) -> list[Reply]:
    """The answer to a stored debrief: saved, the coaching, a recap for the customer when a next
    step was agreed, and what happens next. `history`: see coaching_history."""
    texts, loc = ctx.texts, rep.locale
    when = format_when(saved_at, locale=loc, tz=rep.timezone)
    if corrected:
        head = texts.message(loc, "updated", account=debrief.account, when=when)
    elif created:
        head = texts.message(loc, "saved", account=debrief.account, when=when)
    else:
        head = texts.message(loc, "already_saved")
    replies = [
        Reply(kind="saved", title=texts.message(loc, "saved_title"), text=head),
        coaching(ctx=ctx, rep=rep, debrief=debrief, history=history),
    ]
    if offers_recap(debrief):  # the customer forgets too: a recap draft to send them
        replies.append(recap_reply(texts, locale=loc, tz=rep.timezone, now=ctx.clock(), debrief=debrief,
                                   rep_name=rep.name))
    return [*replies, what_next(ctx=ctx, rep=rep, debrief=debrief)]


def stored_values(stored: StoredDebrief) -> dict[str, Any]:
    """A stored debrief as field values keyed like dialogs.checklist.FIELDS (to edit it)."""
    values: dict[str, Any] = {}
    for p in POINTS:
        answer = stored.answers.get(p)
        values[f"rating:{p}"] = answer.rating if answer else None
        values[f"note:{p}"] = answer.note if answer else None
    for f in FIELDS:
        if not f.key.startswith(("rating:", "note:")):
            values[f.key] = getattr(stored.debrief, f.key)
    return values


# -- history -------------------------------------------------------------------------------------
HISTORY_SIZE = 5


async def history(*, ctx: CoachContext, rep: Rep) -> Reply:
    texts, loc = ctx.texts, rep.locale
    async with ctx.db() as session:
        rows = await latest_debriefs(session=session, person_id=rep.id, limit=HISTORY_SIZE)
    if not rows:
        return Reply(kind="history", text=texts.message(loc, "history_empty"),
                     buttons=(Button(texts.message(loc, "button_debrief"), "debrief"),))
    items, buttons = [], []
    now = ctx.clock()
    for number, row in enumerate(rows, start=1):
        ratings = {p: a.rating for p, a in row.answers.items()}
        weak = weakest_points(ratings, limit=1)
        items.append(texts.message(
            loc, "history_row", number=number,
            when=format_when(row.debrief.created_at, locale=loc, tz=rep.timezone),
            account=row.account_name,
            outcome=texts.outcome(loc, row.debrief.outcome),
            weakest=texts.point(loc, weak[0], "title") if weak else texts.message(loc, "history_none_weak"),
        ))
        if now - row.debrief.created_at <= timedelta(days=ctx.edit_window_days):
            buttons.append(Button(texts.message(loc, "button_edit", number=number), f"edit {number}"))
    return Reply(
        kind="history",
        title=texts.message(loc, "history_title"),
        items=tuple(items),
        text=texts.message(loc, "history_edit_hint", days=ctx.edit_window_days) if buttons else "",
        buttons=tuple(buttons),
    )
