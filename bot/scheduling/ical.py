"""iCalendar files read into event occurrences (icalendar + recurring-ical-events): RRULE with EXDATE,
moved occurrences (RECURRENCE-ID), VTIMEZONE/TZID, floating times, all-day events and cancellations.

Parsing is pure Python and holds the GIL (a 5 MB Exchange export takes seconds), so `parse_calendar`
runs it in a small process pool, started on first use and shut down with the app (`shutdown_pool`):
bytes go in, plain tuples come out. `parse_sync` is the same work on the calling thread."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import astuple, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from storage.errors import CoachError


class CalendarError(CoachError):
    """The calendar data cannot be read."""


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence of a calendar event."""

    key: str  # UID plus the occurrence's RECURRENCE-ID (or start): stable across re-imports
    uid: str
    starts_at: datetime | None  # UTC; None for all-day events
    ends_at: datetime | None
    day: date | None  # the date of an all-day event
    title: str
    description: str
    organiser: str | None
    attendees: tuple[str, ...]
    cancelled: bool

    @property
    def all_day(self) -> bool:
        return self.starts_at is None


def read_calendar(data: bytes | str) -> icalendar.Calendar:
    try:
        return icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError) as exc:
        raise CalendarError(f"not an iCalendar file: {exc}") from None


def _utc(value: Any, tz: str) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: the rep's own wall clock
            value = value.replace(tzinfo=ZoneInfo(tz))
        return value.astimezone(UTC)
    return None


def _email(value: Any) -> str | None:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.lower() if "@" in text else None


def _stamp(value: Any) -> str:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).strftime("%Y%m%dT%H%M%S")
    return value.strftime("%Y%m%d") if isinstance(value, date) else str(value)


def occurrences(
    cal: icalendar.Calendar,
    start: date | datetime | tuple[int, ...],
    end: date | datetime | tuple[int, ...],
    *,
    tz: str = "UTC",
) -> list[CalendarEvent]:
    """Every event occurrence between start and end, with recurrences expanded."""
    method_cancel = str(cal.get("METHOD", "")).upper() == "CANCEL"
    try:
        found = recurring_ical_events.of(cal, skip_bad_series=True).between(start, end)
    except Exception as exc:  # recurring_ical_events raises its own types for broken series
        raise CalendarError(f"cannot expand the calendar: {exc}") from None
    return [_to_event(ev, method_cancel, tz) for ev in found if ev.name == "VEVENT"]


def _to_event(ev: Any, method_cancel: bool, tz: str) -> CalendarEvent:
    uid = str(ev.get("UID", "")) or f"nouid:{_stamp(ev.get('DTSTART').dt)}"
    rid = ev.get("RECURRENCE-ID")
    start_value = ev.get("DTSTART").dt
    key = f"{uid}#{_stamp(rid.dt if rid is not None else start_value)}"
    end_prop = ev.get("DTEND")
    end_value = end_prop.dt if end_prop is not None else None
    all_day = not isinstance(start_value, datetime)
    attendees = ev.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    return CalendarEvent(
        key=key[:255],
        uid=uid,
        starts_at=None if all_day else _utc(start_value, tz),
        ends_at=None if all_day else _utc(end_value, tz),
        day=start_value if all_day else None,
        title=str(ev.get("SUMMARY", "")).strip(),
        description=str(ev.get("DESCRIPTION", "")),
        organiser=_email(ev.get("ORGANIZER")),
        attendees=tuple(e for e in (_email(a) for a in attendees) if e),
        cancelled=method_cancel or str(ev.get("STATUS", "")).upper() == "CANCELLED",
    )


# -- a whole file: the occurrences in a window, the single events after it, the series kept --------
@dataclass(frozen=True)
class Series:
    """A recurring series with occurrences after the window: its own iCalendar text (the master,
    its moved occurrences and time zones), kept to be expanded as its occurrences come near."""

    uid: str
    ical: str
    later: CalendarEvent  # its first occurrence after the window (who attends, all-day or not)


@dataclass(frozen=True)
class Parsed:
    """`events` in [start, end); `beyond`: single events starting at or after end; `series`."""

    events: list[CalendarEvent]
    beyond: list[CalendarEvent] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)


Window = tuple[datetime, datetime]
Worker = Literal["process", "thread", "inline"]
_KEEP_AHEAD = timedelta(days=3 * 366)  # a series with nothing in the 3 years after the window is done
_LONGEST = timedelta(days=31)  # a single event starting longer before the window is not in it


def _recurring(ev: Any) -> bool:
    return ev.get("RRULE") is not None or ev.get("RDATE") is not None


def _sub_calendar(cal: icalendar.Calendar, parts: list[Any]) -> icalendar.Calendar:
    sub = icalendar.Calendar()
    for key in ("VERSION", "PRODID", "METHOD"):
        if cal.get(key) is not None:
            sub.add(key, cal.get(key))
    for tz in cal.walk("VTIMEZONE"):
        sub.add_component(tz)
    for part in parts:
        sub.add_component(part)
    return sub


def split_calendar(cal: icalendar.Calendar, start: datetime, end: datetime, *, tz: str) -> Parsed:
    """The occurrences in [start, end), the single events after it and the series that go on.
    Single events that start well before the window are left out before expanding (an export
    holds years of them); those after it are read as they are, without the expander."""
    by_uid: dict[str, list[Any]] = {}
    for ev in cal.walk("VEVENT"):
        by_uid.setdefault(str(ev.get("UID", "")), []).append(ev)
    window: list[Any] = []
    beyond: list[CalendarEvent] = []
    series: list[Series] = []
    cancel = str(cal.get("METHOD", "")).upper() == "CANCEL"
    early = start - _LONGEST
    for uid, parts in by_uid.items():
        if not uid or not any(_recurring(p) for p in parts):
            for part in parts:
                if _recurring(part) or not _after(part.get("DTSTART"), end, tz):
                    if _recurring(part) or _after(part.get("DTSTART"), early, tz):
                        window.append(part)
                elif part.get("DTSTART") is not None:
                    beyond.append(_to_event(part, cancel, tz))
            continue
        window.extend(parts)
        sub = _sub_calendar(cal, parts)
        later = _first_after(sub, end, tz)
        if later is not None:
            series.append(Series(uid=uid, ical=sub.to_ical().decode(), later=later))
    events = occurrences(_sub_calendar(cal, window), start, end, tz=tz)
    seen = {e.key for e in events}
    return Parsed(events=events, beyond=[e for e in beyond if e.key not in seen], series=series)


def _after(prop: Any, end: datetime, tz: str) -> bool:
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return bool(_utc(value, tz) >= end)  # type: ignore[operator]
    return isinstance(value, date) and value >= end.date()


def _first_after(sub: icalendar.Calendar, end: datetime, tz: str) -> CalendarEvent | None:
    cancel = str(sub.get("METHOD", "")).upper() == "CANCEL"
    try:
        found = recurring_ical_events.of(sub, skip_bad_series=True).between(end, end + _KEEP_AHEAD)
        later = [_to_event(ev, cancel, tz) for ev in found if ev.name == "VEVENT"]
    except Exception:  # a broken series: nothing to keep
        return None
    return min(later, key=lambda e: (e.starts_at or _day_start(e.day), e.key), default=None)


def _day_start(day: date | None) -> datetime:
    return datetime.combine(day or date.min, datetime.min.time(), UTC)


def _as_tuple(event: CalendarEvent) -> tuple[Any, ...]:
    return astuple(event)


def _parse_plain(data: bytes | str, start: datetime, end: datetime, tz: str) -> tuple[Any, ...]:
    """In the worker: everything as plain tuples (cheap to pickle back)."""
    parsed = split_calendar(read_calendar(data), start, end, tz=tz)
    return (
        [_as_tuple(e) for e in parsed.events],
        [_as_tuple(e) for e in parsed.beyond],
        [(s.uid, s.ical, _as_tuple(s.later)) for s in parsed.series],
    )


def _expand_plain(texts: list[str], start: datetime, end: datetime, tz: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for text in texts:
        cal = read_calendar(text)
        later = _first_after(cal, end, tz)
        out.append(
            ([_as_tuple(e) for e in occurrences(cal, start, end, tz=tz)], later and _as_tuple(later))
        )
    return out


def _event(values: tuple[Any, ...]) -> CalendarEvent:
    return CalendarEvent(*values)


def _from_plain(plain: tuple[Any, ...]) -> Parsed:
    events, beyond, series = plain
    return Parsed(
        events=[_event(e) for e in events],
        beyond=[_event(e) for e in beyond],
        series=[Series(uid=u, ical=t, later=_event(v)) for u, t, v in series],
    )


_POOL: ProcessPoolExecutor | None = None
# One core stays the app's: at most 2 parsing processes, and 1 on a 2-core machine.
POOL_WORKERS = max(1, min(2, (os.cpu_count() or 2) - 1))
WORKER_NICENESS = 10  # the parsers yield the CPU to the process answering requests


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:  # spawn: a fresh interpreter, not a fork of a process with threads running
        _POOL = ProcessPoolExecutor(
            POOL_WORKERS, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
        )
    return _POOL


def shutdown_pool() -> None:
    """Stop the parsing processes (the app's shutdown and the CLI's exit); the next parse starts
    them again."""
    global _POOL
    pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


async def _off_loop(worker: Worker, fn: Any, *args: Any) -> Any:
    if worker == "inline":
        return fn(*args)
    if worker == "thread":
        return await asyncio.to_thread(fn, *args)
    try:
        return await asyncio.get_running_loop().run_in_executor(_pool(), fn, *args)
    except BrokenProcessPool as exc:  # a worker died (killed, out of memory): start afresh next time
        shutdown_pool()
        raise CalendarError(f"the calendar parser stopped: {exc}") from None


async def parse_calendar(
    data: bytes | str, window: Window, *, tz: str, worker: Worker = "process"
) -> Parsed:
    """`split_calendar` of the file's bytes, away from the event loop."""
    return _from_plain(await _off_loop(worker, _parse_plain, data, *window, tz))


async def expand_series(
    texts: list[str], window: Window, *, tz: str, worker: Worker = "process"
) -> list[tuple[list[CalendarEvent], CalendarEvent | None]]:
    """Per stored series text: its occurrences in the window, and its first one after it."""
    found = await _off_loop(worker, _expand_plain, texts, *window, tz)
    return [([_event(e) for e in events], later and _event(later)) for events, later in found]


def horizon_window(now: datetime, past: timedelta, ahead: timedelta) -> Window:
    return now - past, now + ahead
