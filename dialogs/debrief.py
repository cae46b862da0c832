"""Storing a debrief, correcting one, and the coaching feedback that answers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.checklist import POINTS, weakest_points
from dialogs.context import CoachContext
from dialogs.meetings import on_debrief_stored
from dialogs.messages import Button, Reply
from dialogs.text import format_clock, format_duration, format_when, weekday_name
from dialogs.timing import SchedulePolicy
from dialogs.validation import CleanDebrief, Locality
from storage import repository as repo
from storage.errors import EditWindowClosed
from storage.models import Person, utcnow


@dataclass(frozen=True)
class Rep:
    """The person a dialog talks to, with their effective language and timezone."""

    id: int
    workspace_id: int
    name: str
    locale: str
    timezone: str
    manager_name: str | None
    # The row load_rep read, kept so the same session does not read it again (the identity map
    # holds rows weakly); None when the Rep was built some other way.
    person: Person | None = field(default=None, compare=False, repr=False)

    def locality(self, now: datetime) -> Locality:
        return Locality(locale=self.locale, timezone=self.timezone, now=now)


async def load_rep(*, session: AsyncSession, ctx: CoachContext, person_id: int) -> Rep:
    person = await repo.get_person(session=session, person_id=person_id)
    manager: Person | None = None
    if person.manager_id is not None:
        manager = await session.get(Person, person.manager_id)
    return _rep(ctx, person, manager)


def _rep(ctx: CoachContext, person: Person, manager: Person | None) -> Rep:
    assert person.id is not None
    return Rep(
        id=person.id,
        workspace_id=person.workspace_id,
        name=person.display_name,
        locale=person.locale if person.locale in ("en", "nl") else ctx.default_locale,
        timezone=person.timezone or ctx.default_timezone,
        manager_name=(manager.display_name or manager.email or "") if manager else None,
        person=person,
    )


@dataclass(frozen=True)
class SubmitResult:
    debrief_id: int
    created: bool
    replies: list[Reply]


def _columns(debrief: CleanDebrief) -> tuple[dict[str, Any], list[repo.AnswerRow]]:
    answers = [repo.AnswerRow(p, debrief.ratings[p], debrief.notes.get(p)) for p in POINTS]
    return dict(debrief.fields), answers


async def store_debrief(
    *,
    session: AsyncSession,
    rep: Rep,
    debrief: CleanDebrief,
    idempotency_key: str,
    created_at: datetime | None = None,
    schedule: SchedulePolicy | None = None,
    account_id: int | None = None,
) -> tuple[int, bool]:
    """Write the debrief inside the caller's transaction; a repeated key returns the first one.

    `account_id`, when the caller already looked the account up in this transaction, saves the
    lookup.

    `created_at` is the dialog clock's now (CoachContext.clock), so the edit window and history
    are measured on the same clock that stamped the debrief. A new debrief also plans what follows
    (issue 5): the next meeting and its nudge, the follow-through check, tactic feedback.
    """
    if account_id is None:
        account_id = await repo.get_or_create_account(
            session=session, workspace_id=rep.workspace_id, name=debrief.account
        )
    fields, answers = _columns(debrief)
    debrief_id, created = await repo.create_debrief(
        session=session,
        workspace_id=rep.workspace_id,
        person_id=rep.id,
        account_id=account_id,
        idempotency_key=idempotency_key,
        fields=fields,
        answers=answers,
        created_at=created_at,
    )
    if created:  # issue 5 hook: meetings, nudges and follow-through from this debrief
        await on_debrief_stored(
            session=session, person=await _person(session, rep),
            tz=rep.timezone, debrief_id=debrief_id, account_id=account_id, fields=fields,
            policy=schedule or SchedulePolicy(), now=created_at or utcnow(),
        )
    return debrief_id, created


async def _person(session: AsyncSession, rep: Rep) -> Person:
    if rep.person is not None and rep.person in session:
        return rep.person
    return await repo.get_person(session=session, person_id=rep.id)


async def store_correction(
    *, session: AsyncSession, ctx: CoachContext, rep: Rep, debrief_id: int, debrief: CleanDebrief
) -> datetime:
    """Replace a recent debrief's answers; returns its (kept) original time."""
    stored = await repo.get_debrief(session=session, debrief_id=debrief_id, person_id=rep.id)
    check_edit_window(ctx, stored.debrief.created_at)
    fields, answers = _columns(debrief)
    await repo.update_debrief(
        session=session, debrief_id=debrief_id, person_id=rep.id, fields=fields, answers=answers,
        updated_at=ctx.clock(),
    )
    return stored.debrief.created_at


def check_edit_window(ctx: CoachContext, created_at: datetime) -> None:
    if ctx.clock() - created_at > timedelta(days=ctx.edit_window_days):
        raise EditWindowClosed("debrief is outside the edit window", created_at=created_at)


async def submit_debrief(
    *, ctx: CoachContext, person_id: int, debrief: CleanDebrief, idempotency_key: str
) -> SubmitResult:
    """Store a validated debrief once (in one transaction) and answer with coaching."""
    async with ctx.db() as session, session.begin():
        # the rep, their manager and the account in one query: the write path is round-trip bound
        person, manager, account_id = await repo.person_with_account(
            session=session, person_id=person_id, account_name=debrief.account
        )
        rep = _rep(ctx, person, manager)
        debrief_id, created = await store_debrief(
            session=session, rep=rep, debrief=debrief, idempotency_key=idempotency_key,
            created_at=ctx.clock(), schedule=ctx.schedule, account_id=account_id,
        )
    replies = feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=ctx.clock(), created=created)
    return SubmitResult(debrief_id, created, replies)


async def submit_correction(
    *, ctx: CoachContext, person_id: int, debrief_id: int, debrief: CleanDebrief
) -> SubmitResult:
    async with ctx.db() as session, session.begin():
        rep = await load_rep(session=session, ctx=ctx, person_id=person_id)
        created_at = await store_correction(
            session=session, ctx=ctx, rep=rep, debrief_id=debrief_id, debrief=debrief
        )
    replies = feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=created_at, corrected=True)
    return SubmitResult(debrief_id, False, replies)


# -- coaching --------------------------------------------------------------------------------
def tip_variant(point: str, debrief: CleanDebrief) -> str:
    f = debrief.fields
    if point == "opening" and f.get("agenda_set_by") == "customer_formal":
        return "formal_agenda"
    if point == "situation" and f.get("supplier_check") == "not_asked":
        return "supplier_not_asked"
    if point == "concessions" and f.get("concessions_given") and not f.get("concessions_got"):
        return "nothing_back"
    return "default"


def coaching(*, ctx: CoachContext, rep: Rep, debrief: CleanDebrief) -> Reply:
    """One or two tips aimed at the weakest points; praise when all five went well."""
    texts, loc = ctx.texts, rep.locale
    weak = weakest_points(debrief.ratings, limit=2)
    if not weak:
        return Reply(kind="tips", title=texts.message(loc, "tips_title"),
                     items=(texts.praise(loc, account=debrief.account),))
    items: list[str] = []
    for point in weak:
        tip, say = texts.tip(loc, point, tip_variant(point, debrief), account=debrief.account)
        title = texts.point(loc, point, "title")
        items.append(texts.message(loc, "tip_line", title=title, tip=tip))
        if say:
            items.append(texts.message(loc, "say_line", say=say))
    return Reply(kind="tips", title=texts.message(loc, "tips_title"), items=tuple(items),
                 meta={"points": weak})


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
    next_at = debrief.fields.get("next_meeting_at") if debrief is not None else None
    if isinstance(next_at, datetime) and next_at > ctx.clock():  # issue 5: the pre-meeting nudge
        lines.append(texts.message(
            loc, "next_nudge", account=debrief.account if debrief else "",
            lead=format_duration(ctx.schedule.lead_minutes, locale=loc),
            when=format_when(next_at, locale=loc, tz=rep.timezone),
        ))
    return Reply(kind="info", text="\n".join(lines))


def feedback(
    *,
    ctx: CoachContext,
    rep: Rep,
    debrief: CleanDebrief,
    saved_at: datetime,
    created: bool = True,
    corrected: bool = False,
) -> list[Reply]:
    texts, loc = ctx.texts, rep.locale
    when = format_when(saved_at, locale=loc, tz=rep.timezone)
    if corrected:
        head = texts.message(loc, "updated", account=debrief.account, when=when)
    elif created:
        head = texts.message(loc, "saved", account=debrief.account, when=when)
    else:
        head = texts.message(loc, "already_saved")
    return [
        Reply(kind="saved", title=texts.message(loc, "saved_title"), text=head),
        coaching(ctx=ctx, rep=rep, debrief=debrief),
        what_next(ctx=ctx, rep=rep, debrief=debrief),
    ]


# -- history -------------------------------------------------------------------------------------
HISTORY_SIZE = 5


async def history(*, ctx: CoachContext, rep: Rep) -> Reply:
    texts, loc = ctx.texts, rep.locale
    async with ctx.db() as session:
        rows = await repo.latest_debriefs(session=session, person_id=rep.id, limit=HISTORY_SIZE)
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
