"""Adaptive Cards 1.5 (what Teams renders) for the debrief form and its read-only summary, and
the rendering of the dialogs' neutral replies as Teams messages.

Structure is code; every word comes from prompts/ (checklist.yaml, messages.yaml, teams.yaml).
Only the user values inside a rendered text are escaped (`escape.teams_text`), and only in
TextBlocks; the bot's wording goes as written. FactSets carry the bot's own values only (Teams on
Android shows entities there as typed). Lists are a literal "• ", emphasis is a TextBlock's
weight and size: no markdown built around user text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.schema import Activity, ActivityTypes, Attachment, TextFormatTypes

from bot.escape import teams_text
from dialogs.checklist import ACCOUNT_LIMIT, FIELDS_BY_KEY, NONE_ASKED, NOTE_LIMIT, POINTS, ChecklistField
from dialogs.checklist_path import RULES, form_fields
from dialogs.debrief import EDIT_OF
from dialogs.messages import Button, Reply, TextForm
from dialogs.text import Texts, format_day, format_when
from dialogs.validation import CleanDebrief

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SUBMIT_ACTION = "debrief"  # data.coach of the form's Action.Submit
ANSWER_ACTION = "answer"  # data.coach of a reply's button (a typed answer, with its question token)
FORM_ACTION = "form"  # data.coach of a reply's TextForm submit: data.command + the input's text
FORM_INPUT = "form_text"  # id prefix of a TextForm's input (one per form on a card)
MEETING_DATE = "next_meeting_at_date"
MEETING_TIME = "next_meeting_at_time"


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


class Card(dict[str, Any]):
    """A finished card. It is never changed once built, so copying an activity (botbuilder
    deep-copies every one it sends) need not copy the card's few hundred values."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Card:
        return self


def attachment(card: dict[str, Any]) -> Attachment:
    return Attachment(content_type=CARD_CONTENT_TYPE, content=Card(card))


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _error(text: str) -> dict[str, Any]:
    return _text(teams_text(text), color="attention", size="small", spacing="none")


# -- the debrief form ---------------------------------------------------------------------------
# Two cards, on the rules every channel follows (prompts/checklist_rules.yaml): the first asks the
# five ratings and the outcome; its button puts the second in its place, with exactly the details
# those answers make useful (`form_fields`) and the ratings still open to change; saving stores
# `settle(...)` of what was sent. Not Action.ToggleVisibility: in Adaptive Cards 1.5 an
# Input.ChoiceSet has no change event and a toggle cannot read an input, so a "details" toggle
# could only reveal every detail of a point whatever its rating: asking what does not apply, and
# dropping what was typed there on saving.
RATINGS_STEP: tuple[str, ...] = tuple(form_fields({}))  # the five ratings and the outcome
IMPLIED_RATINGS = frozenset(f"rating:{point}" for point in RULES.implied)  # the outcome can answer
# Typed answers a redrawn card keeps in its button's data while their input is not shown.
KEEPABLE = frozenset({*FIELDS_BY_KEY, MEETING_DATE, MEETING_TIME} - {"next_meeting_at"})


def new_debrief_card(texts: Texts, locale: str, *, key: str, account: str) -> dict[str, Any]:
    """The first card: the same for everyone in a language but for the account and the card key,
    so it is rendered once per language and filled in per request."""
    card: dict[str, Any] = json.loads(_blank_form(texts, locale))
    card["body"][2]["value"] = account
    card["actions"][0]["data"]["key"] = key
    return card


@lru_cache(maxsize=16)
def _blank_form(texts: Texts, locale: str) -> str:
    card = debrief_card(texts, locale, key="")
    assert card["body"][2]["id"] == "account"
    return json.dumps(card)


@dataclass(frozen=True)
class EditOf:
    """The stored debrief a pair of cards corrects: its id (the cards' only reference to it,
    checked against the sender on every submit), its customer, and when it was filed."""

    debrief_id: int
    account: str
    created_at: datetime
    when: str  # created_at as the rep reads it


# The wording of a card that corrects a stored debrief, instead of a new one's.
_EDIT_WORDING = {"card_title": "edit_title", "card_intro": "edit_intro",
                 "details_intro": "edit_details_intro", "details_changed": "edit_details_changed",
                 "fix_errors": "edit_fix_errors", "submit": "edit_submit"}


def shown_inputs(keys: tuple[str, ...]) -> set[str]:
    """The input ids a card showing these fields has (the next meeting is a date and a time)."""
    ids = set(keys) - {"next_meeting_at"}
    return ids | ({MEETING_DATE, MEETING_TIME} if "next_meeting_at" in keys else set())


def debrief_card(
    texts: Texts, locale: str, *, key: str, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, shown: tuple[str, ...] = RATINGS_STEP, changed: bool = False,
    edit: EditOf | None = None,
) -> dict[str, Any]:
    """A debrief card showing the fields `shown` (in the rules' order), refilled with `values`
    and `errors` after a submit; what `values` holds for an input not shown rides along in the
    button's data, so a later card can show it again. `edit`: the card corrects that stored
    debrief (its customer is fixed, named in the title; the button's data carries its id)."""
    values, errors = values or {}, errors or {}
    wording = _EDIT_WORDING if edit is not None else {}
    account = teams_text(edit.account) if edit is not None else ""

    def t(k: str, **kw: Any) -> str:
        return texts.render(locale, "teams", wording.get(k, k), **kw)

    details = shown != RATINGS_STEP
    intro = ("details_changed" if changed else "details_intro") if details else "card_intro"
    body: list[dict[str, Any]] = [
        _text(t("card_title", account=account), size="large", weight="bolder"),
        _text(t(intro, when=edit.when if edit else ""), isSubtle=True, spacing="small"),
    ]
    if errors:
        body.append(_text(t("fix_errors", count=len(errors)), color="attention", weight="bolder"))
    if edit is None:
        body.append({
            "type": "Input.Text", "id": "account", "label": t("account_label"),
            "placeholder": t("account_placeholder"), "maxLength": ACCOUNT_LIMIT, "isRequired": True,
            "errorMessage": t("account_required"), "value": str(values.get("account") or ""),
        })
    if "account" in errors:
        body.append(_error(errors["account"]))
    current: str | None = None
    for field_key in shown:
        f = FIELDS_BY_KEY[field_key]
        group = f.point if field_key != "outcome" else "outcome"
        if group != current:
            current = group
            items: list[dict[str, Any]] = []
            if f.point is not None and field_key != "outcome":
                number = POINTS.index(f.point) + 1
                items += [
                    _text(texts.message(locale, "point_heading", number=number,
                                        title=texts.point(locale, f.point, "title")), weight="bolder"),
                    _text(texts.point(locale, f.point, "hint"), isSubtle=True, size="small", spacing="none"),
                ]
            body.append({"type": "Container", "separator": True, "spacing": "medium", "items": items})
        body[-1]["items"] += _inputs(texts, locale, f, values, errors)
    kept = {k: str(v)[:NOTE_LIMIT] for k, v in values.items()
            if k in KEEPABLE and k not in shown_inputs(shown) and isinstance(v, str) and v}
    data: dict[str, Any] = {"coach": SUBMIT_ACTION, "key": key, "shown": list(shown)}
    if kept:
        data["kept"] = kept
    if edit is not None:
        data["edit"] = edit.debrief_id
    submit = {"type": "Action.Submit", "title": t("submit" if details else "next"), "style": "positive",
              "data": data}
    return _card(body, [submit])


def _inputs(texts: Texts, locale: str, f: ChecklistField, values: dict[str, Any],
            errors: dict[str, str]) -> list[dict[str, Any]]:
    def t(k: str) -> str:
        return texts.render(locale, "teams", k)

    value = values.get(f.key)
    out: list[dict[str, Any]] = []
    if f.kind in ("rating", "choice"):
        label = (texts.point(locale, f.point, "question") if f.is_rating and f.point
                 else texts.field_question(locale, f.key))
        # A rating the outcome can answer (point 5 of a closed deal) is checked on the server only.
        required = f.required and f.key not in IMPLIED_RATINGS
        choice_set: dict[str, Any] = {
            "type": "Input.ChoiceSet", "id": f.key, "label": label,
            "style": "expanded" if f.is_rating else "compact",
            "choices": [{"title": texts.choice(locale, f.key, c), "value": c} for c in f.choices],
            "isRequired": required,
        }
        if required:
            choice_set["errorMessage"] = t("concessions_required" if NONE_ASKED in f.choices
                                           else "rating_required")
        if not f.is_rating:
            choice_set["placeholder"] = t("choice_placeholder")
        if value in f.choices:
            choice_set["value"] = value
        out.append(choice_set)
    elif f.kind == "text":
        label = t("note_label") if f.key.startswith("note:") else texts.field_question(locale, f.key)
        out.append({"type": "Input.Text", "id": f.key, "label": label, "isMultiline": True,
                    "maxLength": NOTE_LIMIT, "placeholder": t("text_placeholder"),
                    "value": str(value or "")})
    elif f.kind == "date":
        picker: dict[str, Any] = {"type": "Input.Date", "id": f.key,
                                  "label": texts.field_question(locale, f.key)}
        if _iso_date(value):
            picker["value"] = value
        out.append(picker)
    else:  # the next meeting: a date picker and a time picker, combined in the rep's timezone
        day, clock = values.get(MEETING_DATE), values.get(MEETING_TIME)
        date_input: dict[str, Any] = {"type": "Input.Date", "id": MEETING_DATE,
                                      "label": texts.field_question(locale, f.key)}
        time_input: dict[str, Any] = {"type": "Input.Time", "id": MEETING_TIME,
                                      "label": t("meeting_time_label")}
        if _iso_date(day):
            date_input["value"] = day
        if isinstance(clock, str) and len(clock) >= 5 and clock[2] == ":":
            time_input["value"] = clock[:5]
        out += [date_input, time_input]
    if f.key in errors:
        out.append(_error(errors[f.key]))
    return out


def _iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# -- the read-only summary that replaces the form -----------------------------------------------
def summary_card(texts: Texts, locale: str, *, debrief: CleanDebrief, saved_at: datetime,
                 timezone: str, corrected: bool = False) -> dict[str, Any]:
    def t(k: str, **kw: Any) -> str:
        return texts.render(locale, "teams", k, **kw)

    # The FactSet holds only the bot's values (ratings, dates, outcome); what the rep typed (notes,
    # the next step) follows as TextBlocks under a bold heading.
    facts = [{"title": texts.point(locale, point, "title"),
              "value": texts.rating(locale, debrief.ratings[point])} for point in POINTS]
    typed: list[dict[str, Any]] = []
    for point in POINTS:
        if note := debrief.notes.get(point):
            typed.append(_text(texts.point(locale, point, "title"), weight="bolder", spacing="small"))
            typed.append(_text(teams_text(note), spacing="none"))
    fields = debrief.fields
    if fields.get("next_step_what"):
        typed.append(_text(t("summary_next_step"), weight="bolder", spacing="small"))
        typed.append(_text(teams_text(str(fields["next_step_what"])), spacing="none"))
    meeting = fields.get("next_meeting_at")
    if isinstance(meeting, datetime):
        facts.append({"title": t("summary_next_meeting"),
                      "value": format_when(meeting, locale=locale, tz=timezone)})
    due = fields.get("next_step_due")
    if isinstance(due, date) and not fields.get("next_meeting_at"):
        facts.append({"title": texts.field_question(locale, "next_step_due"),
                      "value": format_day(due, locale=locale)})
    facts.append({"title": t("summary_outcome"), "value": texts.outcome(locale, fields["outcome"])})
    when = format_when(saved_at, locale=locale, tz=timezone)
    title = t("summary_updated_title" if corrected else "summary_title", account=debrief.account)
    return _card([
        _text(teams_text(title), size="large", weight="bolder"),
        {"type": "FactSet", "facts": facts},
        *typed,
        _text(t("summary_saved", when=when), isSubtle=True, size="small"),
    ])


# -- neutral replies as Teams messages ----------------------------------------------------------
def is_plain(reply: Reply) -> bool:
    """A reply of text only (no title, list, buttons or form): it can go as a plain message."""
    return bool(reply.text) and not (
        reply.title or reply.items or reply.groups or reply.buttons or reply.form)


def reply_blocks(reply: Reply) -> list[dict[str, Any]]:
    """A reply as TextBlocks: the title bold, a TextBlock per line, items after a literal "• "."""
    body: list[dict[str, Any]] = []
    if reply.title:
        body.append(_text(teams_text(reply.title), weight="bolder", size="medium"))
    body += [_text(line) for line in teams_text(reply.text).split("\n") if line.strip()]
    body += [_text(f"• {teams_text(item)}", spacing="small") for item in reply.items]
    for group in reply.groups:  # each topic its bold title over its items
        body.append(_text(teams_text(group.title), weight="bolder", spacing="medium"))
        body += [_text(f"• {teams_text(item)}", spacing="small") for item in group.items]
    return body


def with_edit_buttons(texts: Texts, locale: str, replies: list[Reply]) -> list[Reply]:
    """The replies, each that offers to correct a debrief (meta EDIT_OF: the tips) with an *Edit
    answers* button; it sends `edit id:<n>`, as if typed, which brings the cards filled in."""
    label = texts.render(locale, "teams", "edit_button")
    return [replace(r, buttons=(*r.buttons, Button(label, f"edit id:{int(str(r.meta[EDIT_OF]))}")))
            if EDIT_OF in r.meta else r for r in replies]


def replies_card(replies: list[Reply]) -> dict[str, Any]:
    """The replies of one answer as one card: each reply a section, every button at the bottom."""
    body: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for n, reply in enumerate(replies):
        blocks = reply_blocks(reply)
        if reply.form is not None:
            blocks += form_blocks(reply.form, f"{FORM_INPUT}:{n}")
        if blocks:
            body.append({"type": "Container", "items": blocks, "separator": bool(body),
                         "spacing": "medium" if body else "none"})
        for b in reply.buttons:
            if b.url:  # a link (a mailto: draft): Teams opens it, nothing comes back to the bot
                actions.append({"type": "Action.OpenUrl", "title": str(b.label), "url": b.url})
                continue
            value = {"coach": ANSWER_ACTION, "text": b.value, "expect": reply.expect}
            # Teams posts messageBack's text and value as a message; the Emulator posts the data as value.
            messageback = {"type": "messageBack", "text": b.value, "displayText": b.label, "value": value}
            actions.append({"type": "Action.Submit", "title": str(b.label),
                            "data": {**value, "msteams": messageback}})
    return _card(body or [_text(" ")], actions)


def form_blocks(form: TextForm, input_id: str) -> list[dict[str, Any]]:
    """A TextForm on a card: its label and hint as TextBlocks (escaped where they hold a name),
    the text in an input, and a submit that sends that input with the form's command."""
    blocks = [_text(teams_text(form.label), weight="bolder", spacing="medium")]
    if form.hint:
        blocks.append(_text(teams_text(form.hint), isSubtle=True, size="small", spacing="none"))
    return [
        *blocks,
        {"type": "Input.Text", "id": input_id, "value": form.text, "isMultiline": True,
         "maxLength": form.limit},
        {"type": "ActionSet", "actions": [{
            "type": "Action.Submit", "title": form.button,
            "data": {"coach": FORM_ACTION, "command": form.command, "input": input_id},
        }]},
    ]


def replies_activity(replies: list[Reply], *, locale: str | None = None) -> Activity:
    """One message for one answer. A lone text-only reply goes as `textFormat: plain` with the raw
    text (Teams formats nothing in it, so nothing is escaped); anything else — a title, a list,
    buttons, several replies (the tips after a debrief, a nudge, the digest) — as one card."""
    if len(replies) == 1 and is_plain(replies[0]):
        return Activity(type=ActivityTypes.message, text_format=TextFormatTypes.plain,
                        text=str(replies[0].text), locale=locale)
    return Activity(type=ActivityTypes.message, locale=locale,
                    attachments=[attachment(replies_card(replies))])


def reply_activity(reply: Reply, *, locale: str | None = None) -> Activity:
    return replies_activity([reply], locale=locale)


def local_date_time(moment: datetime, timezone: str) -> tuple[str, str]:
    """ISO date and HH:MM of a moment in the rep's timezone (to refill the pickers)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return local.date().isoformat(), local.strftime("%H:%M")
