"""Time rules for scheduled messages, in the person's own IANA timezone.

All arithmetic on wall-clock times happens on local dates and times and is converted to UTC once,
through zoneinfo, so a "60 minutes before 09:00" nudge is 08:00 local on both sides of a DST change.
Rules: a pre-meeting nudge that would land in quiet hours moves *earlier* (to the last minutes
before quiet hours start); prompts after a meeting that would land in quiet hours or on a
non-working day move *later* (to the end of quiet hours on the next working day); the preparation
goes out on a working morning one or two working days before the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far before quiet hours start a nudge moved out of them is sent.
QUIET_MARGIN = timedelta(minutes=15)
# The end of the working day, for the one debrief reminder.
END_OF_DAY = time(17, 0)
# Morning time for follow-through prompts.
MORNING = time(9, 0)


@dataclass(frozen=True)
class SchedulePolicy:
    """The organisation's scheduling settings (app.yaml: nudge, quiet_hours, working_days)."""

    lead_minutes: int = 60
    prompt_delay_minutes: int = 10
    prepare_days: int = 1  # working days between the preparation message and the meeting
    quiet_start: time = time(20, 0)
    quiet_end: time = time(7, 30)
    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    internal_domains: tuple[str, ...] = field(default_factory=tuple)

    def is_working_day(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.working_days

    def in_quiet_hours(self, local: time) -> bool:
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end


def at_local(day: date, clock: time, tz: str) -> datetime:
    """The UTC instant of a local wall-clock time on a day (a non-existent time moves forward)."""
    zone = ZoneInfo(tz)
    local = datetime.combine(day, clock, tzinfo=zone)
    # Round-trip through UTC normalises times in a spring-forward gap.
    return local.astimezone(UTC)


def local_of(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def nudge_due(starts_at: datetime, *, tz: str, policy: SchedulePolicy) -> datetime:
    """The lead time before the meeting, in local wall-clock terms, moved earlier out of quiet hours."""
    start_local = local_of(starts_at, tz)
    wall = start_local.replace(tzinfo=None) - timedelta(minutes=policy.lead_minutes)
    # In a spring-forward gap the wall-clock time does not exist; never less lead than asked.
    due = min(at_local(wall.date(), wall.time(), tz), starts_at - timedelta(minutes=policy.lead_minutes))
    local = local_of(due, tz)
    if not policy.in_quiet_hours(local.time()):
        return due
    # Quiet hours began on this local day (evening part) or the day before (morning part).
    day = local.date()
    if policy.quiet_start > policy.quiet_end and local.time() < policy.quiet_end:
        day -= timedelta(days=1)
    quiet_began = datetime.combine(day, policy.quiet_start) - QUIET_MARGIN
    return at_local(quiet_began.date(), quiet_began.time(), tz)


def next_allowed(moment: datetime, *, tz: str, policy: SchedulePolicy) -> datetime:
    """The first moment at or after `moment` outside quiet hours, on a working day."""
    local = local_of(moment, tz)
    for _ in range(15):
        if policy.is_working_day(local.date()) and not policy.in_quiet_hours(local.time()):
            return local.astimezone(UTC)
        # jump to the end of quiet hours on this day, or on the next day
        day = local.date()
        if not policy.is_working_day(day) or local.time() >= policy.quiet_end:
            day += timedelta(days=1)
        local = local_of(at_local(day, policy.quiet_end, tz), tz)
    return moment


def prompt_due(ends_at: datetime, *, tz: str, policy: SchedulePolicy) -> datetime:
    """When to ask for the debrief: meeting end + delay, pushed later out of quiet hours."""
    return next_allowed(ends_at + timedelta(minutes=policy.prompt_delay_minutes), tz=tz, policy=policy)


def reminder_due(prompt_at: datetime, *, tz: str, policy: SchedulePolicy) -> datetime:
    """The one end-of-working-day reminder after a debrief prompt (the next working day's end
    when the prompt itself came after the end of the day)."""
    local = local_of(prompt_at, tz)
    day = local.date()
    if local.time() >= END_OF_DAY or not policy.is_working_day(day):
        day += timedelta(days=1)
        while not policy.is_working_day(day):
            day += timedelta(days=1)
    due = at_local(day, END_OF_DAY, tz)
    return due if due > prompt_at else prompt_at + timedelta(hours=1)


def follow_through_due(step_due: date, *, tz: str, policy: SchedulePolicy) -> datetime:
    """The morning of the first working day after the promised date."""
    day = step_due + timedelta(days=1)
    while not policy.is_working_day(day):
        day += timedelta(days=1)
    return next_allowed(at_local(day, MORNING, tz), tz=tz, policy=policy)


def prepare_due(starts_at: datetime, *, tz: str, policy: SchedulePolicy, now: datetime) -> datetime | None:
    """The preparation message: the morning of the `prepare_days`-th working day before the
    meeting's day, moved later out of quiet hours; as soon as allowed when that moment has passed
    (a meeting sooner than that: the same day). None when it could not go out before the nudge,
    which then carries what matters."""
    day = local_of(starts_at, tz).date()
    counted = 0
    for _ in range(7 * max(1, policy.prepare_days)):
        if counted >= policy.prepare_days:
            break
        day -= timedelta(days=1)
        counted += policy.is_working_day(day)
    due = next_allowed(at_local(day, MORNING, tz), tz=tz, policy=policy)
    if due < now:
        due = next_allowed(now, tz=tz, policy=policy)
    return due if due < nudge_due(starts_at, tz=tz, policy=policy) else None


def local_today(now: datetime, tz: str) -> date:
    return local_of(now, tz).date()
