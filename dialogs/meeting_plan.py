"""Planning one meeting the rep named in the chat, whether typed whole (`meeting Acme tomorrow
10:00`) or answered to "which customer?": the meeting stored, its messages planned, the reply."""

from __future__ import annotations

from datetime import datetime

from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.meetings import add_meeting
from dialogs.messages import Button, Reply
from dialogs.text import format_duration, format_when
from dialogs.validation import DATE_REACH_YEARS, within_reach
from storage.accounts import get_or_create_account
from storage.meetings import meeting_near
from storage.models import not_null
from storage.people import get_person


def nudge_text(ctx: CoachContext, rep: Rep, key: str, kind: str = "info", **values: object) -> Reply:
    return Reply(kind=kind, text=ctx.texts.render(rep.locale, "nudge", key, **values))


def refused_moment(ctx: CoachContext, rep: Rep, when: datetime, typed: str) -> Reply | None:
    """Why no meeting can be planned at `when` (passed, or too far off), or None."""
    now = ctx.clock()
    if not within_reach(when.date(), now):  # year 9999: no nudge could be planned around it
        return Reply(kind="error", text=ctx.texts.message(rep.locale, "far_date", text=typed[:80],
                                                          years=DATE_REACH_YEARS))
    if when <= now:
        return nudge_text(ctx, rep, "meeting_past", "error",
                          when=format_when(when, locale=rep.locale, tz=rep.timezone))
    return None


async def plan(ctx: CoachContext, rep: Rep, account: str, when: datetime) -> list[Reply]:
    """The meeting with `account` at `when` stored with its messages (once: a second time says it
    is known), answered with what was planned and a button to cancel it."""
    t, loc, now = ctx.texts, rep.locale, ctx.clock()
    async with ctx.db() as session, session.begin():
        await get_person(session=session, person_id=rep.id)  # NotFound once erased; add_meeting uses it
        account_id = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name=account)
        known = await meeting_near(session=session, person_id=rep.id, account_id=account_id, starts_at=when)
        if known is not None:
            shown = format_when(known.starts_at, locale=loc, tz=rep.timezone)
            return [nudge_text(ctx, rep, "meeting_known", account=account, when=shown)]
        added = await add_meeting(
            session=session, person_id=rep.id, account_id=account_id, starts_at=when, source="manual",
            external_uid=f"manual:{account_id}:{when:%Y%m%dT%H%M}", tz=rep.timezone,
            policy=ctx.schedule, now=now,
        )
    saved = nudge_text(ctx, rep, "meeting_saved", "saved", account=account,
                       when=format_when(when, locale=loc, tz=rep.timezone),
                       lead=format_duration(ctx.schedule.lead_minutes, locale=loc))
    cancel = Button(t.render(loc, "meetings", "button_cancel_this"), f"meeting cancel m{not_null(added.id)}")
    return [Reply(kind=saved.kind, text=saved.text, buttons=(cancel,))]
