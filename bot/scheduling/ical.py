"""iCalendar files read into event occurrences (icalendar + recurring-ical-events): RRULE with EXDATE,
moved occurrences (RECURRENCE-ID), VTIMEZONE/TZID, floating times, all-day events and cancellations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
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
    events: list[CalendarEvent] = []
    for ev in found:
        if ev.name != "VEVENT":
            continue
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
        events.append(
            CalendarEvent(
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
        )
    return events
