"""Correcting a stored debrief on the Teams cards: `edit 2`, `edit id:17` or the tips' *Edit
answers* bring the two debrief cards with the stored answers filled in (the first the ratings and
the outcome, the second their details), and Save stores the correction through
dialogs.debrief.submit_correction, its tips an outbox row as a new debrief's are.

Whose debrief it is comes only from the authenticated activity (the person its from.aadObjectId
names in its tenant, bot/teams/people.py). A card's data carries just the debrief's id, a
reference checked against that person, and the edit window, on every submit.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from bot.teams.cards import MEETING_DATE, MEETING_TIME, EditOf, debrief_card, local_date_time
from bot.teams.people import TeamsPerson
from dialogs.context import CoachContext
from dialogs.debrief import load_rep, stored_values, submit_correction
from dialogs.debrief_edit import editable, window_closed
from dialogs.messages import Reply
from dialogs.text import format_when
from dialogs.validation import CleanDebrief, parse_id
from storage.debriefs import StoredDebrief
from storage.errors import EditWindowClosed, NotFound

EDIT_KEY = "edit"  # the data of a correcting card's button: the id of the debrief it corrects


async def _editable(ctx: CoachContext, who: TeamsPerson, arg: str) -> StoredDebrief | list[Reply]:
    """The sender's own debrief `edit <arg>` names, if it can be corrected now; else why not."""
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=who.person_id)
    found = await editable(ctx, rep, arg)
    return _gone(ctx, who) if found is None else found


def _edit_of(found: StoredDebrief, who: TeamsPerson) -> EditOf:
    created_at = found.debrief.created_at
    assert found.debrief.id is not None
    return EditOf(found.debrief.id, found.account_name, created_at,
                  format_when(created_at, locale=who.locale, tz=who.timezone))


def _gone(ctx: CoachContext, who: TeamsPerson) -> list[Reply]:
    return [Reply(kind="error", text=ctx.texts.message(who.locale, "edit_gone"))]


async def edit_card(ctx: CoachContext, who: TeamsPerson, arg: str) -> dict[str, Any] | list[Reply]:
    """The first card of a correction, the stored answers filled in (the details ride along in
    its button's data, for the second card); else the answer why it cannot be corrected."""
    found = await _editable(ctx, who, arg)
    if isinstance(found, list):
        return found
    values = card_values(stored_values(found), who.timezone)
    return debrief_card(ctx.texts, who.locale, key=uuid.uuid4().hex, values=values,
                        edit=_edit_of(found, who))


async def checked_edit(
    ctx: CoachContext, who: TeamsPerson, data: dict[str, Any]
) -> EditOf | list[Reply] | None:
    """What a submitted card corrects: None for a new debrief's card; else the debrief its data
    names if it is the sender's and still in the edit window, or the answer why not."""
    if EDIT_KEY not in data:
        return None
    debrief_id = parse_id(str(data[EDIT_KEY]))
    if debrief_id is None:
        return _gone(ctx, who)
    found = await _editable(ctx, who, f"id:{debrief_id}")
    return found if isinstance(found, list) else _edit_of(found, who)


async def store(
    ctx: CoachContext, who: TeamsPerson, edit: EditOf, debrief: CleanDebrief, key: str
) -> list[Reply]:
    """Store the correction ([]: its tips follow through the outbox, once per card); else the
    answer why not (gone or someone else's since the card was checked, past the edit window)."""
    try:
        await submit_correction(ctx=ctx, person_id=who.person_id, debrief_id=edit.debrief_id,
                                debrief=debrief, tips_key=f"teams:{key}")
    except NotFound:
        return _gone(ctx, who)
    except EditWindowClosed:
        return [window_closed(ctx, edit.created_at, locale=who.locale, timezone=who.timezone)]
    return []


def card_values(values: dict[str, Any], timezone: str) -> dict[str, str]:
    """Stored field values as the cards' inputs hold them: text, ISO dates, and the next meeting
    as a date and a time in the rep's timezone."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, datetime):  # the next meeting
            out[MEETING_DATE], out[MEETING_TIME] = local_date_time(value, timezone)
        elif isinstance(value, date):
            out[key] = value.isoformat()
        elif isinstance(value, str) and value:
            out[key] = value
    return out
