"""Understand the date and time of the next meeting as the rep types it, in Dutch (Netherlands and
Flanders) or English.

The whole phrase must be read, or nothing is: a word that is neither a date, a time nor a filler
word ("om", "at", "op"...) makes the answer None, so the dialog asks again with an example instead of
storing a guess. The readings, decided once:
- a weekday ("vrijdag", "Fri", "next Friday", "aanstaande vrijdag", "this Friday") is the first such
  day after today, never today itself ("vandaag"/"today" says today);
- "volgende week dinsdag" is the Tuesday of next week; "over twee weken op maandag" / "in two weeks
  on Monday" the Monday of the week two weeks from now; "over twee weken" alone is 14 days on;
- an hour from 1 to 6 without am/pm or a part of the day is in the afternoon (13:00-18:00), unless it
  is written with a leading zero ("05:30"); "half drie" is 2:30, so 14:30;
- numeric dates are day first ("4/12" is 4 December), also in English, except in an America/*
  timezone where they are month first;
- a date without a year that has passed less than 90 days ago stays in this year (the caller refuses
  it as past); one further back is next year's;
- a bare number is no time ("vrijdag 3" is refused: the 3rd or 3 o'clock?); "om 3", "3 uur",
  "at 3", "3pm" are;
- a weekday next to a date must be that date's weekday ("vrijdag 9 december 2026" is refused).
Dutch and English words are both read whatever the rep's language (reps mix them); the vocabulary
is in dialogs/date_words.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialogs import date_words as w

_ALT = "|".join
_WEEKDAY = _ALT(sorted(w.WEEKDAYS, key=len, reverse=True))
_MONTH = _ALT(sorted(w.MONTHS, key=len, reverse=True))
_DAYWORD = _ALT(sorted(w.DAY_OFFSETS, key=len, reverse=True))
_GLUED = re.compile(
    rf"\b(overmorgen|morgen|vandaag|{_ALT(d for d in w.WEEKDAYS if len(d) > 3)})"
    rf"({_ALT(sorted(w.GLUED_PARTS, key=len, reverse=True))})\b"
)
_NUMBER = re.compile(rf"\b({_ALT(sorted(w.NUMBERS, key=len, reverse=True))})\b")
_ORDINAL = r"(?:st|nd|rd|th|ste|de|e)?"


class _Refused(Exception):
    """The phrase is ambiguous or holds words that are no date or time."""


@dataclass
class _Parts:
    day: date | None = None  # an explicit or counted calendar day
    weekday: int | None = None
    weeks: int | None = None  # the week of "volgende week", "over twee weken op ..."
    counted: bool = False  # weeks counted from today ("over twee weken"), not named ("volgende week")
    hour: int | None = None
    minute: int = 0
    exact: bool = False  # a 24-hour clock ("14:00", "05:30"): no afternoon rule
    part: str | None = None


def normalise(text: str) -> str:
    """One spelling for what reps write many ways: lower case, digits for number words, "10:30" for
    "10u30", "10.30" and "10h30", the part of the day as its own word ("vrijdag middag")."""
    s = " ".join(text.casefold().replace("\u2019", "'").replace("\u2018", "'").split())
    s = re.sub(r"\ba\.m\.?|\bam\b", " am ", s)
    s = re.sub(r"\bp\.m\.?|\bpm\b", " pm ", s)
    s = re.sub(r"(\d)(am|pm)\b", r"\1 \2", s)
    s = re.sub(r"(?<=[a-zé])\.(?=\s|$)", " ", s)  # "vr.", "dec."
    s = re.sub(r"[,;!?()]", " ", s)
    s = re.sub(r"\b(\d{1,2})[uh](\d{2})\b", r"\1:\2", s)  # 10u30, 14h30
    s = re.sub(r"\b(\d{1,2})\s*[uh]\b", r"\1 uur", s)  # 10u, 14h
    s = re.sub(r"\b(\d{1,2})\.(\d{2})\b(?![./-]\d)", _dotted, s)  # 14.00, not 4.12
    for phrase, token in w.PART_PHRASES.items():
        s = re.sub(rf"(?<![\w']){re.escape(phrase)}\b", f" {token} ", s)
    s = _GLUED.sub(lambda m: f"{m.group(1)} {w.GLUED_PARTS[m.group(2)]}", s)
    s = _NUMBER.sub(lambda m: str(w.NUMBERS[m.group(1)]), s)
    return " ".join(s.split())


def _dotted(m: re.Match[str]) -> str:
    """A time for "14.00"; "4.12" could be 4 December too, so it is a time only after "om"/"at" or
    before "uur"."""
    before, after = m.string[: m.start()], m.string[m.end():]
    if not 1 <= int(m[2]) <= 12 or re.search(r"\b(?:om|at)\s*$", before) or re.match(r"\s*uur\b", after):
        return f"{m[1]}:{m[2]}"
    return m[0]


class _Reader:
    def __init__(self, text: str) -> None:
        self.s = f" {text} "
        self.p = _Parts()

    def take(self, pattern: str) -> re.Match[str] | None:
        """The one match of `pattern`, cut out of the text; two matches are ambiguous."""
        found = list(re.finditer(pattern, self.s))
        if len(found) > 1:
            raise _Refused
        if found:
            m = found[0]
            self.s = self.s[: m.start()] + " " + self.s[m.end():]
            return m
        return None

    def set_day(self, day: date) -> None:
        if self.p.day is not None:
            raise _Refused
        self.p.day = day

    def set_time(self, hour: int, minute: int, *, exact: bool = False) -> None:
        if self.p.hour is not None or not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise _Refused
        self.p.hour, self.p.minute, self.p.exact = hour, minute, exact

    def leftover(self) -> bool:
        return any(word not in w.FILLER for word in self.s.split())


def _date(y: int, m: int, d: int) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise _Refused from None


def _undated(m: int, d: int, today: date) -> date:
    """A day and month without a year: this year's, unless that is more than 90 days gone."""
    day = _date(today.year, m, d) if (m, d) != (2, 29) else _date(today.year + 1, m, d)
    return day if day >= today - timedelta(days=90) else _date(today.year + 1, m, d)


def _before(hour: int) -> int:
    return 12 if hour == 1 else hour - 1


def _read(text: str, *, today: date, month_first: bool) -> _Parts:
    r = _Reader(normalise(text))
    p = r.p
    if m := r.take(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"):
        r.set_day(_date(int(m[1]), int(m[2]), int(m[3])))
    if m := r.take(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b"):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        r.set_day(_date(y + 2000 if y < 100 else y, *((a, b) if month_first else (b, a))))
    if m := r.take(r"\b(\d{1,2})/(\d{1,2})\b"):
        a, b = int(m[1]), int(m[2])
        r.set_day(_undated(*((a, b) if month_first else (b, a)), today))
    if m := r.take(r"\b(\d{1,2}):(\d{2})(?:\s+uur)?(?:\s+(am|pm))?\b"):
        r.set_time(int(m[1]), int(m[2]), exact=int(m[1]) >= 13 or m[1].startswith("0"))
        p.part = w.PARTS[m[3]] if m[3] else None
    if m := r.take(r"\bhalf\s+(?:past\s+)(\d{1,2})\b"):
        r.set_time(int(m[1]), 30)
    minutes = _ALT([*w.MINUTE_WORDS, r"\d{1,2}"])
    if m := r.take(rf"\b({minutes})\s+({_ALT((*w.AFTER, *w.BEFORE))})\s+(half\s+)?(\d{{1,2}})\b"):
        n = w.MINUTE_WORDS.get(m[1]) or int(m[1])
        n = -n if m[2] in w.BEFORE else n
        hour, base = (_before(int(m[4])), 30) if m[3] else (int(m[4]), 0)
        if n < 0 and not m[3]:
            hour, base = _before(int(m[4])), 60
        r.set_time(hour, base + n)
    if m := r.take(r"\bhalf\s+(\d{1,2})\b"):
        r.set_time(_before(int(m[1])), 30)
    if m := r.take(r"\b(\d{1,2})\s+(?:uur|o'clock)\b|\b(\d{1,2})\s+(am|pm)\b|\b(noon|midday)\b"):
        if m[4]:
            r.set_time(12, 0, exact=True)
        else:
            r.set_time(int(m[1] or m[2]), 0, exact=bool(m[1] and int(m[1]) >= 13))
            p.part = w.PARTS[m[3]] if m[3] else p.part
    if m := r.take(rf"\b(\d{{1,2}}){_ORDINAL}\s+(?:of\s+|van\s+)?({_MONTH})(?:\s+(\d{{4}}))?\b"):
        r.set_day(_month_day(int(m[3] or 0), w.MONTHS[m[2]], int(m[1]), today))
    if m := r.take(rf"\b({_MONTH})\s+(\d{{1,2}}){_ORDINAL}(?:\s+(\d{{4}}))?\b"):
        r.set_day(_month_day(int(m[3] or 0), w.MONTHS[m[1]], int(m[2]), today))
    if m := r.take(r"\b(?:om|at|rond|around|about)\s+(\d{1,2})\b"):
        r.set_time(int(m[1]), 0, exact=int(m[1]) >= 13)
    if m := r.take(rf"\b(\d{{1,2}})\s+(?=(?:{_ALT(w.PARTS)})\b)"):  # "9 in the morning"
        r.set_time(int(m[1]), 0, exact=int(m[1]) >= 13)
    units = _ALT(w.UNITS)
    if m := r.take(rf"\b(?:over|in)\s+(\d{{1,2}}|a|an)\s+({units})\b"):
        n, unit = (1 if m[1] in ("a", "an") else int(m[1])), w.UNITS[m[2]]
        if unit == "weeks":
            p.weeks, p.counted = n, True
        elif unit == "days":
            r.set_day(today + timedelta(days=n))
        else:
            month = today.month - 1 + n
            r.set_day(_date(today.year + month // 12, month % 12 + 1, today.day))
    if m := r.take(rf"\b({_ALT(w.NEXT_WEEK)}|{_ALT(w.THIS_WEEK)})\b"):
        if p.weeks is not None:
            raise _Refused
        p.weeks = 1 if m[1] in w.NEXT_WEEK else 0
    if m := r.take(rf"\b({_DAYWORD})\b"):
        r.set_day(today + timedelta(days=w.DAY_OFFSETS[m[1]]))
    if m := r.take(rf"\b(?:(?:{_ALT(w.DAY_MODIFIERS)})\s+)?({_WEEKDAY})\b"):
        p.weekday = w.WEEKDAYS[m[1]]
    if m := r.take(rf"\b({_ALT(w.PARTS)})\b"):
        if p.part is not None:
            raise _Refused
        p.part = w.PARTS[m[1]]
    if r.leftover():
        raise _Refused
    return p


def _month_day(year: int, month: int, day: int, today: date) -> date:
    return _date(year, month, day) if year else _undated(month, day, today)


def _day_of(p: _Parts, today: date) -> date | None:
    if p.weeks is not None and p.day is None:
        if p.weekday is None:
            if not p.counted:
                raise _Refused  # "volgende week", "deze week": which day?
            return today + timedelta(weeks=p.weeks)
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=p.weeks)
        return monday + timedelta(days=p.weekday)
    if p.weeks is not None:
        raise _Refused  # "over twee weken" next to a date or "morgen"
    if p.day is not None:
        if p.weekday is not None and p.day.weekday() != p.weekday:
            raise _Refused
        return p.day
    if p.weekday is not None:
        return today + timedelta(days=(p.weekday - today.weekday() - 1) % 7 + 1)
    return None


def _clock(p: _Parts) -> time | None:
    if p.hour is None:
        return None
    hour, part = p.hour, p.part
    if part == "am" and 1 <= hour <= 12:
        hour = 0 if hour == 12 else hour
    elif part == "pm" and 1 <= hour <= 12:
        hour = 12 if hour == 12 else hour + 12
    elif part == "morning" and 1 <= hour <= 11:
        pass
    elif part == "afternoon" and (hour == 12 or 1 <= hour <= 6):
        hour = 12 if hour == 12 else hour + 12
    elif part == "evening" and 5 <= hour <= 11:
        hour += 12
    elif (part in ("afternoon", "pm") and 13 <= hour <= 18) or (part == "evening" and 17 <= hour <= 23):
        pass
    elif part is not None:
        raise _Refused  # "9 uur 's middags", "14:00 am": which one is meant?
    elif not p.exact and 1 <= hour <= 6:
        hour += 12  # business hours: "om 3 uur" is 15:00
    return time(hour, p.minute)


def _local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def parse_meeting_time(text: str, *, locale: str, tz: str, now: datetime | None = None) -> datetime | None:
    """A meeting moment in the rep's timezone, returned in UTC; None unless the whole phrase reads as
    one date and one time."""
    now = now or datetime.now(UTC)
    today = _local_today(now, tz)
    try:
        parts = _read(text, today=today, month_first=tz.startswith("America/"))
        day, clock = _day_of(parts, today), _clock(parts)
    except _Refused:
        return None
    if day is None or clock is None:
        return None
    # The zone of that day, not of today: the offset is right across a DST change.
    try:
        return datetime.combine(day, clock, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    except OverflowError:  # "0001-01-01 00:30" is before the first UTC moment
        return None


def parse_due_date(text: str, *, locale: str, tz: str, now: datetime | None = None) -> date | None:
    """A calendar date ("friday", "3 december", "over twee weken"); None when not understood."""
    now = now or datetime.now(UTC)
    today = _local_today(now, tz)
    try:
        parts = _read(text, today=today, month_first=tz.startswith("America/"))
        _clock(parts)
        return _day_of(parts, today)
    except _Refused:
        return None
