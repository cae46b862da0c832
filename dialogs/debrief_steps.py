"""Answering a debrief's checklist questions in the chat, one at a time, and storing the result.

The questions are exactly `checklist_path.questions(answers)` (the rules in
prompts/checklist_rules.yaml); what is stored is `settle(answers)`. Every move of the dialog is a
versioned write (storage.dialog_state), so a double click or a retried request applies once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialogs.checklist import FIELDS, FIELDS_BY_KEY
from dialogs.checklist_path import questions, settle
from dialogs.coaching import coaching_history
from dialogs.context import CoachContext
from dialogs.debrief import Rep, feedback, store_correction, store_debrief
from dialogs.debrief_questions import (
    CHANGE,
    KEEP,
    KIND,
    KNOWN_ACCOUNT,
    NEW_ACCOUNT,
    SKIP,
    display,
    question,
    to_json,
    values_of,
)
from dialogs.messages import Button, Reply
from dialogs.text import format_when
from dialogs.validation import FieldError, assemble, clean_field
from storage.debriefs import DebriefMoment
from storage.dialog_state import clear_dialog, save_dialog
from storage.errors import EditWindowClosed
from storage.models import DialogState

SKIP_WORDS = {SKIP, "skip", "overslaan", "-", "n/a", "nvt", "n.v.t."}
# Button values of other questions: never an answer typed into a text field.
_FOREIGN_BUTTONS = {NEW_ACCOUNT, KNOWN_ACCOUNT, CHANGE}

Echo = tuple[str, str, Any]  # (field, what the rep typed, the moment understood)


def next_field(data: dict[str, Any]) -> str | None:
    """The next question to ask, or None when the debrief is complete.

    A correction (`asked_before`: what the stored debrief was asked) also asks a field its new
    answers make apply that the stored debrief never asked (an outcome changed from lost to next
    step asks about the next step), once.
    """
    values = values_of(data.get("answers", {}))
    keys, _ = questions(values)
    before = data.get("asked_before")
    asked = set(data.get("asked", ()))
    for key in keys:
        if key not in values:
            return key
        if before is not None and key not in before and key not in asked:
            return key
    return None


def stale(
    ctx: CoachContext, rep: Rep, state: DialogState, key: str = "stale_click", text: str = ""
) -> list[Reply]:
    """A button or word that does not answer the open question: say so, ask it again."""
    account = state.data.get("account") or ""
    said = ctx.texts.message(rep.locale, key, account=account, text=text[:60])
    return [Reply(kind="info", text=said), question(ctx, rep, state)]


async def answer_field(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState, text: str
) -> list[Reply]:
    f = FIELDS_BY_KEY[state.step]
    data = dict(state.data)
    folded = text.casefold()
    original = data.get("original")
    echo: Echo | None = None
    if folded.split(" ", 1)[0] in _FOREIGN_BUTTONS:
        return stale(ctx, rep, state)
    if folded == KEEP:
        if original is None or original.get(f.key) in (None, ""):
            return stale(ctx, rep, state)
        stored = original[f.key]
    elif folded in SKIP_WORDS and not f.required:
        stored = None
    else:
        try:
            value = clean_field(f, text, texts=ctx.texts, loc=rep.locality(ctx.clock()))
        except FieldError as exc:
            return [Reply(kind="error", text=exc.text), question(ctx, rep, state)]
        if f.kind in ("date", "datetime"):
            echo = (f.key, text, value)
        stored = to_json(value)
    data["answers"] = {**data.get("answers", {}), f.key: stored}
    data["asked"] = [*(k for k in data.get("asked", ()) if k != f.key), f.key]
    data["answered_at"] = {**data.get("answered_at", {}), f.key: state.version}
    return await advance(ctx, rep, channel, state, data, echo=echo)


async def change(ctx: CoachContext, rep: Rep, channel: str, state: DialogState, text: str) -> list[Reply]:
    """`/change <field> <answer>`, a date echo's button: ask that field again (and what came
    after), as long as the answer it echoed is the field's answer still."""
    words = text.split()
    field, answer = (words[1], words[2]) if len(words) == 3 else ("", "")
    data = dict(state.data)
    asked = list(data.get("asked", ()))
    if field not in asked or answer != _answer_mark(data, field):
        return stale(ctx, rep, state)
    dropped = set(asked[asked.index(field):])
    data["answers"] = {k: v for k, v in data["answers"].items() if k not in dropped}
    data["asked"] = [k for k in asked if k not in dropped]
    return await move(ctx, rep, channel, state, data, field)


async def advance(
    ctx: CoachContext,
    rep: Rep,
    channel: str,
    state: DialogState,
    data: dict[str, Any],
    *,
    lead: tuple[Reply, ...] = (),
    echo: Echo | None = None,
) -> list[Reply]:
    """Ask the next question the answers call for, or store the debrief when none is left."""
    step = next_field(data)
    if step is None:
        return await finish(ctx, rep, channel, state, data, lead=lead, echo=echo)
    replies = list(lead)
    if echo is not None:
        replies.append(_echo(ctx, rep, echo, f"{CHANGE} {echo[0]} {_answer_mark(data, echo[0])}"))
    return [*replies, *await move(ctx, rep, channel, state, data, step)]


async def move(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState, data: dict[str, Any], step: str
) -> list[Reply]:
    """Save the dialog at `step` if nobody moved it since `state` was read; ask that question."""
    async with ctx.db() as session, session.begin():
        moved = await save_dialog(session=session, person_id=rep.id, channel=channel, kind=KIND,
                                  step=step, data=data, expected_version=state.version)
    if not moved:
        return [Reply(kind="info", text=ctx.texts.message(rep.locale, "busy"))]
    nxt = DialogState(person_id=rep.id, channel=channel, kind=KIND, step=step, data=data,
                      version=state.version + 1)
    return [question(ctx, rep, nxt)]


async def save_new(
    ctx: CoachContext, rep: Rep, channel: str, step: str, data: dict[str, Any]
) -> DialogState:
    """Start a dialog (replacing any draft on this channel) at `step`."""
    async with ctx.db() as session, session.begin():
        await save_dialog(session=session, person_id=rep.id, channel=channel, kind=KIND,
                          step=step, data=data, expected_version=None)
    return DialogState(person_id=rep.id, channel=channel, kind=KIND, step=step, data=data, version=1)


def _answer_mark(data: dict[str, Any], field: str) -> str:
    """Which answer of this draft a field holds: the draft and the dialog version it was given at."""
    return f"{str(data.get('draft_id', ''))[:8]}.{data.get('answered_at', {}).get(field, 0)}"


def _echo(ctx: CoachContext, rep: Rep, echo: Echo, button_value: str) -> Reply:
    """How a typed date was understood, with one tap to give it again."""
    t, loc = ctx.texts, rep.locale
    field, typed, value = echo
    when = display(ctx, rep, FIELDS_BY_KEY[field], to_json(value))
    return Reply(kind="info", text=t.message(loc, "date_echo", typed=typed[:80], when=when),
                 buttons=(Button(t.message(loc, "button_change_date"), button_value),),
                 meta={"echo": field})


def stored_answers(data: dict[str, Any]) -> dict[str, Any]:
    """Every field's value as stored: implied ratings filled in, what does not apply empty."""
    settled = settle(values_of(data["answers"]))
    return {f.key: settled.get(f.key) for f in FIELDS}


async def finish(
    ctx: CoachContext,
    rep: Rep,
    channel: str,
    state: DialogState,
    data: dict[str, Any],
    *,
    lead: tuple[Reply, ...] = (),
    echo: Echo | None = None,
) -> list[Reply]:
    debrief = assemble(data["account"], stored_answers(data))
    edit_of = data.get("edit_of")
    async with ctx.db() as session, session.begin():
        # Clearing the dialog at the version we read is the lock: a second, concurrent press of
        # the last button finds nothing to clear and stores nothing.
        if not await clear_dialog(
            session=session, person_id=rep.id, channel=channel, expected_version=state.version
        ):
            return [Reply(kind="info", text=ctx.texts.message(rep.locale, "already_saved"))]
        if edit_of is not None:
            debrief_id = int(edit_of)
            try:
                saved_at = await store_correction(
                    session=session, ctx=ctx, rep=rep, debrief_id=debrief_id, debrief=debrief
                )
            except EditWindowClosed as exc:
                # Nothing was written but the cleared dialog: the correction ends here.
                created_at = exc.details.get("created_at")
                when_at = created_at if isinstance(created_at, datetime) else ctx.clock()
                return [Reply(kind="error", text=ctx.texts.message(
                    rep.locale, "edit_window_closed", days=ctx.edit_window_days,
                    when=format_when(when_at, locale=rep.locale, tz=rep.timezone)))]
            earlier = await coaching_history(session=session, texts=ctx.texts, debrief=debrief,
                                             moment=DebriefMoment(debrief_id, rep.id, saved_at))
            replies = feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=saved_at, corrected=True,
                               history=earlier)
        else:
            debrief_id, created = await store_debrief(
                session=session, rep=rep, debrief=debrief,
                idempotency_key=f"{channel}:{data['draft_id']}", created_at=ctx.clock(),
                schedule=ctx.schedule,
            )
            earlier = await coaching_history(session=session, texts=ctx.texts, debrief=debrief,
                                             moment=DebriefMoment(debrief_id, rep.id, ctx.clock()))
            replies = feedback(ctx=ctx, rep=rep, debrief=debrief, saved_at=ctx.clock(), created=created,
                               history=earlier)
    if echo is not None:  # corrected as an edit of the stored debrief, that field only
        replies.insert(0, _echo(ctx, rep, echo, f"edit id:{debrief_id} {echo[0]}"))
    return [*lead, *replies]

