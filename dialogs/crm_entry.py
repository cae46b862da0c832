"""A debrief as the CRM gets it, in the rep's language: the note (the date, the five points with
their ratings, the customer's questions with the answers given, concessions, the next step) and the
next step as a task. Plain lines of Text here; bot/crm renders them per CRM (HubSpot notes are HTML)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.checklist import POINTS
from dialogs.text import Texts, format_day, format_when
from storage.debriefs import StoredDebrief

CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}


def crm_name(crm_id: str) -> str:
    """The CRM as people call it."""
    return CRM_NAMES.get(crm_id, crm_id)


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    title: str
    intro: tuple[str, ...]
    sections: tuple[Section, ...]
    task: TaskText | None


@dataclass(frozen=True)
class TaskText:
    subject: str
    body: str
    due: date


def _rating(texts: Texts, locale: str, rating: str) -> str:
    """The checklist's own label for a rating ("none asked" included), or the value itself."""
    labels = texts.data(locale, "checklist").get("ratings") or {}
    return texts.rating(locale, rating) if rating in labels else rating


def compose(
    texts: Texts,
    *,
    locale: str,
    tz: str,
    stored: StoredDebrief,
    rep_name: str,
    include_notes: bool,
    today: date,
) -> Entry:
    """The note and the task of one debrief; `today` names the day of a correction."""
    d = stored.debrief

    def say(key: str, **values: Any) -> str:
        return texts.render(locale, "crm", key, **values)

    def text(value: Any) -> str:
        return str(value or "").strip()

    account = stored.account_name
    day = format_day(d.created_at.astimezone(_zone(tz)).date(), locale=locale)
    intro = [say("note_intro", rep=rep_name or "—", account=account, day=day)]
    if d.updated_at is not None:
        intro.append(say("note_edited", day=format_day(today, locale=locale)))
    sections: list[Section] = []

    points = []
    for point in POINTS:
        answer = stored.answers.get(point)
        if answer is not None:
            title = texts.point(locale, point, "title")
            points.append(say("point_line", title=title, rating=_rating(texts, locale, answer.rating)))
    if d.agenda_set_by:
        points.append(say("agenda_line", choice=texts.choice(locale, "agenda_set_by", d.agenda_set_by)))
    points.append(say("outcome_line", outcome=texts.outcome(locale, d.outcome)))
    sections.append(Section(say("points_title"), tuple(points)))

    asked = [say("questions_line", text=text(d.customer_questions))] if text(d.customer_questions) else []
    if text(d.answers_given):
        asked.append(say("answers_line", text=text(d.answers_given)))
    sections.append(Section(say("questions_title"), tuple(asked) or (say("no_questions"),)))

    situation = [say("tried_line", text=text(d.customer_tried))] if text(d.customer_tried) else []
    if d.supplier_check:
        situation.append(
            say("supplier_line", choice=texts.choice(locale, "supplier_check", d.supplier_check))
        )
    if situation:
        sections.append(Section(say("situation_title"), tuple(situation)))

    concessions = [
        say(key, text=text(value))
        for key, value in (
            ("asked_line", d.concessions_asked),
            ("given_line", d.concessions_given),
            ("got_line", d.concessions_got),
        )
        if text(value)
    ]
    sections.append(Section(say("concessions_title"), tuple(concessions) or (say("no_concessions"),)))

    due = format_day(d.next_step_due, locale=locale) if d.next_step_due else ""
    step = (
        [say("next_step_line", what=text(d.next_step_what), who=text(d.next_step_who), due=due)]
        if text(d.next_step_what)
        else []
    )
    if d.next_meeting_at is not None:
        step.append(say("next_meeting_line", when=format_when(d.next_meeting_at, locale=locale, tz=tz)))
    sections.append(Section(say("next_step_title"), tuple(step) or (say("no_next_step"),)))

    if include_notes:
        notes = [
            say("note_line", title=texts.point(locale, p, "title"), text=text(a.note))
            for p in POINTS
            if (a := stored.answers.get(p)) is not None and text(a.note)
        ]
        if notes:
            sections.append(Section(say("notes_title"), tuple(notes)))

    task = None
    if text(d.next_step_what):
        task = TaskText(
            subject=say("task_subject", account=account, what=text(d.next_step_what)),
            body=say("task_body", day=day, who=text(d.next_step_who)),
            due=d.next_step_due or _task_day(d.next_meeting_at, tz) or today,
        )
    return Entry(say("note_title", account=account, day=day), tuple(intro), tuple(sections), task)


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _task_day(moment: datetime | None, tz: str) -> date | None:
    return moment.astimezone(_zone(tz)).date() if moment is not None else None
