"""The open question of a debrief in the chat, as a reply: which customer, which known account,
a checklist field, or which part of a stored debrief to change.

The dialog state says which question is open (`DialogState.step`) and what was answered
(`data`); this module only renders. What a question accepts is in dialogs/debrief_steps.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dialogs.checklist import FIELDS_BY_KEY, POINTS, ChecklistField
from dialogs.checklist_path import form_fields
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.messages import Button, Reply
from dialogs.text import format_day, format_when, join
from storage.models import DialogState

KIND = "debrief"
ACCOUNT_STEP = "account"
CONFIRM_STEP = "account_close"  # a typed name close to a known account: which one is meant
PART_STEP = "edit_part"  # which part of a stored debrief to change
SKIP = "/skip"
KEEP = "/keep"
NEW_ACCOUNT = "/new"  # keep the typed name as a new account
KNOWN_ACCOUNT = "/known"  # "/known 2": the second known account offered
CHANGE = "/change"  # "/change <field> <draft>": ask a typed date again
# The parts of a stored debrief an edit asks again: each point, the outcome, the next meeting.
PARTS: tuple[str, ...] = (*POINTS, "outcome", "next_meeting_at")


def token(state: DialogState) -> str:
    """What a question's buttons echo back, so a button of an earlier question is recognised."""
    return f"{state.step}@{state.version}"


def question(ctx: CoachContext, rep: Rep, state: DialogState) -> Reply:
    if state.step == ACCOUNT_STEP:
        t, loc = ctx.texts, rep.locale
        return Reply(kind="question", text=t.message(loc, "ask_account"), expect=token(state),
                     buttons=(Button(t.message(loc, "button_cancel"), "cancel"),),
                     meta={"field": state.step})
    if state.step == CONFIRM_STEP:
        return _close_account(ctx, rep, state)
    if state.step == PART_STEP:
        return _parts(ctx, rep, state)
    return _field(ctx, rep, state, FIELDS_BY_KEY[state.step])


def _field(ctx: CoachContext, rep: Rep, state: DialogState, f: ChecklistField) -> Reply:
    t, loc = ctx.texts, rep.locale
    title: str | None = None
    lines: list[str] = []
    if f.is_rating:
        assert f.point is not None
        title = t.message(loc, "point_heading", number=POINTS.index(f.point) + 1,
                          title=t.point(loc, f.point, "title"))
        lines += [t.point(loc, f.point, "question"), t.point(loc, f.point, "hint")]
    else:
        lines.append(t.field_question(loc, f.key))
        if f.kind in ("date", "datetime"):
            example_key = "datetime_example" if f.kind == "datetime" else "date_example"
            lines.append(t.message(loc, "datetime_hint", example=t.message(loc, example_key)))
        if not f.required:
            lines.append(t.message(loc, "optional_hint"))
    buttons = [Button(t.choice(loc, f.key, c), c) for c in f.choices]
    original = state.data.get("original")
    if original is not None and original.get(f.key) not in (None, ""):
        lines.append(t.message(loc, "current_value", value=display(ctx, rep, f, original[f.key])))
        buttons.append(Button(t.message(loc, "button_keep"), KEEP))
    if not f.required:
        buttons.append(Button(t.message(loc, "button_skip"), SKIP))
    return Reply(kind="question", title=title, text=join("\n", lines), buttons=tuple(buttons),
                 expect=token(state), meta={"field": f.key})


def _close_account(ctx: CoachContext, rep: Rep, state: DialogState) -> Reply:
    t, loc = ctx.texts, rep.locale
    typed, close = str(state.data["account_typed"]), list(state.data["account_close"])
    key = "account_close_one" if len(close) == 1 else "account_close_many"
    buttons = [Button(name, f"{KNOWN_ACCOUNT} {i}") for i, name in enumerate(close, start=1)]
    buttons.append(Button(t.message(loc, "button_new_account", typed=typed), NEW_ACCOUNT))
    return Reply(kind="question", text=t.message(loc, key, typed=typed, known=close[0]),
                 buttons=tuple(buttons), expect=token(state), meta={"field": state.step})


# -- the stored debrief and its parts -----------------------------------------------------------------
def part_label(ctx: CoachContext, loc: str, part: str) -> str:
    if part in POINTS:
        return ctx.texts.point(loc, part, "title")
    return ctx.texts.message(loc, f"edit_part_{part}")


def offered_parts(original: dict[str, Any]) -> tuple[str, ...]:
    """The parts a stored debrief can change: the next meeting only where it applies."""
    applies = form_fields(values_of(original))
    return tuple(p for p in PARTS if p in POINTS or p == "outcome" or p in applies)


def summary_lines(ctx: CoachContext, rep: Rep, original: dict[str, Any]) -> list[str]:
    t, loc = ctx.texts, rep.locale
    lines = [
        t.message(loc, "edit_summary_point", number=i, title=t.point(loc, p, "title"),
                  rating=display(ctx, rep, FIELDS_BY_KEY[f"rating:{p}"], original.get(f"rating:{p}")))
        for i, p in enumerate(POINTS, start=1)
    ]
    lines.append(t.message(loc, "edit_summary_outcome",
                           outcome=display(ctx, rep, FIELDS_BY_KEY["outcome"], original.get("outcome"))))
    if "next_meeting_at" in offered_parts(original):
        meeting = display(ctx, rep, FIELDS_BY_KEY["next_meeting_at"], original.get("next_meeting_at"))
        lines.append(t.message(loc, "edit_summary_meeting", when=meeting))
    return lines


def _parts(ctx: CoachContext, rep: Rep, state: DialogState) -> Reply:
    t, loc = ctx.texts, rep.locale
    original = dict(state.data["original"])
    when = format_when(datetime.fromisoformat(state.data["edit_when"]), locale=loc, tz=rep.timezone)
    buttons = [Button(part_label(ctx, loc, p), p) for p in offered_parts(original)]
    buttons.append(Button(t.message(loc, "button_cancel"), "cancel"))
    return Reply(
        kind="question",
        title=t.message(loc, "edit_summary_title", account=state.data["account"], when=when),
        items=tuple(summary_lines(ctx, rep, original)),
        text=t.message(loc, "edit_choose"),
        buttons=tuple(buttons),
        expect=token(state),
        meta={"field": state.step},
    )


# -- values as the dialog state keeps them (JSON) ---------------------------------------------------
def display(ctx: CoachContext, rep: Rep, f: ChecklistField, raw: Any) -> str:
    value = from_json(f, raw)
    if value in (None, ""):
        return ctx.texts.message(rep.locale, "no_value")
    if f.kind in ("rating", "choice"):
        return ctx.texts.choice(rep.locale, f.key, value)
    if isinstance(value, datetime):
        return format_when(value, locale=rep.locale, tz=rep.timezone)
    if isinstance(value, date):
        return format_day(value, locale=rep.locale)
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


def to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def from_json(f: ChecklistField, raw: Any) -> Any:
    if raw is None:
        return None
    if f.kind == "datetime" and isinstance(raw, str):
        return datetime.fromisoformat(raw)
    if f.kind == "date" and isinstance(raw, str):
        return date.fromisoformat(raw)
    return raw


def values_of(answers: dict[str, Any]) -> dict[str, Any]:
    """Stored-form answers (JSON) as field values; a key stays missing when it was not answered."""
    return {k: from_json(FIELDS_BY_KEY[k], v) for k, v in answers.items() if k in FIELDS_BY_KEY}
