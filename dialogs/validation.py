"""Cleaning and checking what a rep typed or picked, field by field, with localised errors."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.checklist import (
    ACCOUNT_LIMIT,
    FIELDS,
    NOTE_LIMIT,
    POINTS,
    ChecklistField,
)
from dialogs.dates import parse_due_date, parse_meeting_time
from dialogs.text import LOCALES, Texts, format_choices, format_when
from storage.errors import CoachError

# Control characters except newline and tab; also the Unicode "format" class (bidi overrides,
# zero-width joiners) which can disguise text, and lone surrogates (a JSON "\ud800"), which no
# database or encoder can store.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_DROPPED_CATEGORIES = {"Cf", "Cs"}
# How far from today a date may lie (either way): further is a typo, and would not survive the
# arithmetic of nudges and reminders (year 9999 plus a day does not exist).
DATE_REACH_YEARS = 10
# An id typed or sent by a button: a positive whole number a database column can hold.
_ID = re.compile(r"[0-9]{1,18}")


class FieldError(CoachError):
    """A localised reason why one field's answer was refused."""

    def __init__(self, field_key: str, text: str) -> None:
        super().__init__(text, field=field_key)
        self.field_key = field_key
        self.text = text


def clean_text(value: str) -> str:
    """Strip control and invisible formatting characters; normalise newlines; trim."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    if not value.isascii():  # formatting characters (Cf) are all outside ASCII
        value = "".join(ch for ch in value if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    return value.strip()


@dataclass
class CleanDebrief:
    """A complete, checked debrief ready to store."""

    account: str
    ratings: dict[str, str]
    notes: dict[str, str | None] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Locality:
    locale: str
    timezone: str
    now: datetime


def clean_account(raw: str, *, texts: Texts, loc: Locality) -> str:
    name = " ".join(clean_text(raw).split())
    if not name:
        raise FieldError("account", texts.message(loc.locale, "account_empty"))
    if len(name) > ACCOUNT_LIMIT:
        raise FieldError(
            "account",
            texts.message(loc.locale, "account_too_long", length=len(name), limit=ACCOUNT_LIMIT),
        )
    return name


def parse_id(text: str) -> int | None:
    """The id in `text` (ASCII digits, at most 18 of them), or None for anything else."""
    text = text.strip().lstrip("#")
    return int(text) if _ID.fullmatch(text) else None


def within_reach(day: date, now: datetime) -> bool:
    """Whether `day` lies at most DATE_REACH_YEARS from `now`, either way."""
    return abs((day - now.date()).days) <= DATE_REACH_YEARS * 366


def _within_reach(day: date, text: str, f: ChecklistField, *, texts: Texts, loc: Locality) -> None:
    if not within_reach(day, loc.now):
        raise FieldError(f.key, texts.message(loc.locale, "far_date", text=text[:80],
                                              years=DATE_REACH_YEARS))


def match_choice(f: ChecklistField, raw: str, *, texts: Texts) -> str | None:
    """The choice key for what was typed or clicked: the key, a label in any locale, or its number."""
    typed = " ".join(raw.split()).casefold()
    if not typed:
        return None
    return _choices(texts, f).get(typed)


@functools.cache
def _choices(texts: Texts, f: ChecklistField) -> dict[str, str]:
    """Every way to say each choice of a field (key, number, label in either locale) -> its key.
    The first choice that claims a word keeps it."""
    words: dict[str, str] = {}
    for i, choice in enumerate(f.choices, start=1):
        labels = (texts.choice(loc, f.key, choice).casefold() for loc in LOCALES)
        for word in (choice.casefold(), str(i), *labels):
            words.setdefault(word, choice)
    if f.is_rating:  # "y", "j", "n": the short words of prompts/<locale>/checklist.yaml
        for loc in LOCALES:
            for choice, typed in (texts.data(loc, "checklist").get("rating_shortcuts") or {}).items():
                for word in typed if choice in f.choices else ():
                    words.setdefault(str(word).casefold(), choice)
    return words


def clean_field(f: ChecklistField, raw: Any, *, texts: Texts, loc: Locality) -> Any:
    """The stored value for one field, or None when an optional field is left empty."""
    if raw is None or (isinstance(raw, str) and not clean_text(raw)):
        if f.required:
            return _require(f, texts=texts, loc=loc)
        return None
    if f.kind in ("rating", "choice"):
        choice = match_choice(f, str(raw), texts=texts)
        if choice is None:
            return _require(f, texts=texts, loc=loc)
        return choice
    if f.kind == "text":
        text = clean_text(str(raw))
        if len(text) > NOTE_LIMIT:
            raise FieldError(
                f.key, texts.message(loc.locale, "too_long", length=len(text), limit=NOTE_LIMIT)
            )
        return text
    if f.kind == "date":
        text = raw.isoformat() if isinstance(raw, date) else clean_text(str(raw))
        day = raw if isinstance(raw, date) else _typed_date(text, loc)
        if day is None:
            example = texts.message(loc.locale, "date_example")
            raise FieldError(f.key, texts.message(loc.locale, "bad_date", text=text[:80], example=example))
        _within_reach(day, text, f, texts=texts, loc=loc)
        return day
    # datetime: an aware datetime, or natural language in the rep's language and timezone
    if isinstance(raw, datetime):
        moment, text = raw.astimezone(UTC), raw.date().isoformat()
    else:
        text = clean_text(str(raw))
        parsed = parse_meeting_time(text, locale=loc.locale, tz=loc.timezone, now=loc.now)
        if parsed is None:
            example = texts.message(loc.locale, "datetime_example")
            raise FieldError(
                f.key, texts.message(loc.locale, "bad_datetime", text=text[:80], example=example)
            )
        moment = parsed
    _within_reach(moment.date(), text, f, texts=texts, loc=loc)
    if moment < loc.now:
        when = format_when(moment, locale=loc.locale, tz=loc.timezone)
        raise FieldError(f.key, texts.message(loc.locale, "past_datetime", when=when))
    return moment


def _typed_date(text: str, loc: Locality) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return parse_due_date(text, locale=loc.locale, tz=loc.timezone, now=loc.now)


def combine_date_time(day: str | None, clock: str | None, *, tz: str) -> datetime | None:
    """Date and time pickers (ISO strings) in the person's timezone -> UTC; None if either is empty.
    ValueError when they do not read as a date and a time (or lie past year 9999 in UTC)."""
    if not day or not clock:
        return None
    local = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock[:5]))
    try:
        return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{day} {clock} is out of range") from None


def choice_list(labels: Iterable[str], *, texts: Texts, locale: str) -> str:
    """The options to pick from, readably: "Yes, Partly or No"; labels with a comma of their own
    in quotes ("“The customer, formally”, “I did, informally” or “Nobody really”")."""
    shown = list(labels)
    if any("," in label for label in shown):
        shown = [texts.message(locale, "quoted", text=label) for label in shown]
    return format_choices(shown, locale=locale)


def _require(f: ChecklistField, *, texts: Texts, loc: Locality) -> Any:
    labels = choice_list((texts.choice(loc.locale, f.key, c) for c in f.choices), texts=texts,
                         locale=loc.locale)
    raise FieldError(f.key, texts.message(loc.locale, "pick_one", choices=labels))


def validate_form(
    raw: dict[str, Any], *, texts: Texts, loc: Locality, account_required: bool = True
) -> tuple[CleanDebrief | None, dict[str, str]]:
    """Check a whole form at once (Slack modal, Teams card): every error, keyed by field."""
    errors: dict[str, str] = {}
    account = ""
    if account_required:
        try:
            account = clean_account(str(raw.get("account") or ""), texts=texts, loc=loc)
        except FieldError as exc:
            errors["account"] = exc.text
    values: dict[str, Any] = {}
    for f in FIELDS:
        try:
            values[f.key] = clean_field(f, raw.get(f.key), texts=texts, loc=loc)
        except FieldError as exc:
            errors[f.key] = exc.text
    if errors:
        return None, errors
    return assemble(account, values), {}


def assemble(account: str, values: dict[str, Any]) -> CleanDebrief:
    ratings = {p: values[f"rating:{p}"] for p in POINTS}
    notes = {p: values.get(f"note:{p}") for p in POINTS}
    cols = {
        k: v for k, v in values.items() if not k.startswith(("rating:", "note:"))
    }
    return CleanDebrief(account=account, ratings=ratings, notes=notes, fields=cols)
