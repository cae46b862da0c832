"""Understand the date and time of the next meeting as the rep types it, in Dutch or English."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser

_WEEKDAYS = {
    "en": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "nl": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
}
_DAY_ALT = "|".join(d for days in _WEEKDAYS.values() for d in days)
# "volgende week dinsdag", "next week tuesday", "dinsdag volgende week"
_NEXT_WEEK_DAY = re.compile(
    rf"\b(?:(?:volgende|komende)\s+week|next\s+week)\s+(?:op\s+|on\s+)?({_DAY_ALT})\b"
    rf"|\b({_DAY_ALT})\s+(?:van\s+)?(?:volgende|komende|next)\s+week\b",
    re.I,
)
_NEXT_DAY = re.compile(rf"\b(?:volgende|komende|aanstaande|this|coming)\s+({_DAY_ALT})\b", re.I)
_UUR = re.compile(r"\b(?:om\s+)?(\d{1,2})(?:[.:](\d{2}))?\s*(?:uur|u)\b", re.I)
_OM_TIME = re.compile(r"\bom\s+(\d{1,2}[:.]\d{2})\b", re.I)
_OVER = re.compile(r"\bover\s+(\w+)\s+(dagen|dag|weken|week|maanden|maand)\b", re.I)
_NL_NUMBERS = {
    "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7,
    "acht": 8, "negen": 9, "tien": 10,
}
_NL_UNITS = {"dag": "days", "dagen": "days", "week": "weeks", "weken": "weeks",
             "maand": "months", "maanden": "months"}
_HAS_TIME = re.compile(
    r"\d{1,2}[:.]\d{2}|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.|uur|u|h)\b|\bnoon\b|\bmiddag\b", re.I
)


def _weekday_index(name: str) -> int:
    name = name.lower()
    for days in _WEEKDAYS.values():
        if name in days:
            return days.index(name)
    raise ValueError(name)


def normalise(text: str, *, base: datetime) -> str:
    """Rewrite the phrases dateparser does not know into ones it does."""
    text = " ".join(text.split())

    def next_week(m: re.Match[str]) -> str:
        day = _weekday_index(m.group(1) or m.group(2))
        monday = base.date() - timedelta(days=base.weekday()) + timedelta(days=7)
        return (monday + timedelta(days=day)).isoformat()

    text = _NEXT_WEEK_DAY.sub(next_week, text)
    text = _NEXT_DAY.sub(lambda m: m.group(1), text)
    text = _OM_TIME.sub(lambda m: m.group(1).replace(".", ":"), text)
    text = _UUR.sub(lambda m: f"{int(m.group(1)):02d}:{m.group(2) or '00'}", text)

    def over(m: re.Match[str]) -> str:
        word = m.group(1).lower()
        n = int(word) if word.isdecimal() else _NL_NUMBERS.get(word)
        return f"in {n} {_NL_UNITS[m.group(2).lower()]}" if n else m.group(0)

    return _OVER.sub(over, text)


def _parse(text: str, *, locale: str, tz: str, now: datetime) -> datetime | None:
    base_local = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    cleaned = normalise(text, base=base_local)
    languages = [locale, "en"] if locale != "en" else ["en", "nl"]
    try:
        return _dateparser(cleaned, languages, tz=tz, base=base_local)
    except (ValueError, OverflowError):  # "over 99999999999 dagen": a moment no calendar holds
        return None


def _dateparser(cleaned: str, languages: list[str], *, tz: str, base: datetime) -> datetime | None:
    return dateparser.parse(
        cleaned,
        languages=languages,
        settings={
            "TIMEZONE": tz,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": base,
            "DATE_ORDER": "MDY" if languages[0] == "en" else "DMY",
        },
    )


def parse_meeting_time(text: str, *, locale: str, tz: str, now: datetime | None = None) -> datetime | None:
    """A meeting moment in the rep's timezone, returned in UTC; None when no date *and* time is found."""
    now = now or datetime.now(UTC)
    if not _HAS_TIME.search(text):
        return None
    parsed = _parse(text, locale=locale, tz=tz, now=now)
    if parsed is None:
        return None
    # dateparser attaches a fixed offset; re-anchor on the zone so DST is right for that date.
    local = parsed.replace(tzinfo=None).replace(tzinfo=ZoneInfo(tz))
    try:
        return local.astimezone(UTC)
    except OverflowError:  # late on 31 December 9999, west of UTC
        return None


def parse_due_date(text: str, *, locale: str, tz: str, now: datetime | None = None) -> date | None:
    """A calendar date ("friday", "3 december", "over twee weken"); None when not understood."""
    now = now or datetime.now(UTC)
    parsed = _parse(text, locale=locale, tz=tz, now=now)
    return parsed.date() if parsed else None
