"""Calendar events turned into customer meetings (an attendee outside `internal_domains`; the
account from their domain, or the title for webmail) and the messages planned around them.

A file keeps what it holds: the occurrences in the next 90 days (HORIZON) and every later single
meeting are stored; a recurring customer series with occurrences after the horizon is kept as its
own iCalendar text (storage: calendarseries) and re-expanded daily by `expand_due_series`, so its
later occurrences become meetings as they come within the horizon. Parsing runs off the event loop
(bot.scheduling.ical.parse_calendar); a calendar over `calendar.max_feed_bytes` is refused."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import log_messages as msg
from bot.scheduling.ical import (
    CalendarError,
    CalendarEvent,
    Series,
    Worker,
    expand_series,
    horizon_window,
    parse_calendar,
)
from dialogs.context import CoachContext
from dialogs.meetings import meeting_prefix, plan_meeting
from dialogs.timing import SchedulePolicy
from storage import calendars, outbox
from storage.accounts import get_or_create_account
from storage.meetings import SAME_MEETING, InviteFlags, upsert_meeting
from storage.models import Meeting, Person, not_null
from storage.people import get_person

log = logging.getLogger("coach.calendar")

PAST = timedelta(days=1)
HORIZON = timedelta(days=90)
EXPAND_EVERY = timedelta(days=1)  # a kept series is re-expanded daily
MAX_BYTES = 20 * 1024 * 1024  # calendar.max_feed_bytes's default
_FOREVER = timedelta(days=100 * 366)
CHUNK = 10  # events stored per transaction: others wait for the connection no longer
WEBMAIL = {
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "proton.me",
    "protonmail.com",
    "ziggo.nl",
    "kpnmail.nl",
    "hetnet.nl",
    "xs4all.nl",
    "planet.nl",
    "telenet.be",
    "gmx.de",
    "web.de",
}
_SUFFIXES = {"com", "nl", "be", "de", "org", "net", "io", "eu", "co", "uk", "fr", "ai", "biz", "info"}
_TITLE_PREFIX = re.compile(
    r"^\s*(?:(?:meeting|call|visit|demo|intro|kick-?off|afspraak|gesprek|overleg|bezoek|kennismaking)"
    r"\s+(?:with|met|bij|at)\s+|(?:re|fw|fwd|accepted|geaccepteerd)\s*:\s*)",
    re.I,
)
_TITLE_SPLIT = re.compile(r"\s+[-–|/]\s+|:\s+|\s+x\s+|\s+<>\s+")
_AGENDA = re.compile(
    r"\bagenda\b|\bagendapunten\b|\bpoints? to discuss\b|\btopics?\s*:|\bonderwerpen\s*:", re.I
)
_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+\S", re.M)


# -- customers and accounts -------------------------------------------------------------------------
def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def is_internal(email: str, internal: Iterable[str]) -> bool:
    domain = domain_of(email)
    return any(domain == d or domain.endswith("." + d) for d in internal)


def external_people(event: CalendarEvent, internal: Sequence[str]) -> list[str]:
    people = [*event.attendees, *([event.organiser] if event.organiser else [])]
    return [p for p in dict.fromkeys(people) if not is_internal(p, internal)]


def name_from_domain(domain: str) -> str:
    labels = [p for p in domain.split(".") if p]
    while len(labels) > 1 and labels[-1] in _SUFFIXES:
        labels.pop()
    return labels[-1].replace("-", " ").replace("_", " ").title() if labels else domain


def name_from_title(title: str) -> str:
    cleaned = _TITLE_PREFIX.sub("", title).strip()
    first = _TITLE_SPLIT.split(cleaned, maxsplit=1)[0].strip()
    return (first or cleaned or title or "?")[:200]


def formal_agenda(description: str) -> bool:
    return bool(_AGENDA.search(description)) or len(_NUMBERED.findall(description)) >= 2


@dataclass
class ImportResult:
    meetings: int = 0
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    internal: int = 0
    all_day: int = 0
    beyond: int = 0  # customer meetings after the horizon, stored as meetings
    series: int = 0  # recurring customer series kept, expanded as they come within the horizon
    accounts: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)  # the external uids of the events stored

    def add(self, other: ImportResult) -> None:
        for name in ("meetings", "created", "updated", "cancelled", "internal", "all_day", "beyond"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.accounts |= other.accounts
        self.seen |= other.seen

    def as_dict(self) -> dict[str, Any]:
        return {
            "meetings": self.meetings,
            "created": self.created,
            "updated": self.updated,
            "cancelled": self.cancelled,
            "skipped_internal": self.internal,
            "skipped_all_day": self.all_day,
            "beyond_horizon": self.beyond,
            "series_kept": self.series,
            "horizon_days": HORIZON.days,
            "accounts": sorted(self.accounts),
        }


async def _account_for(
    session: AsyncSession, person: Person, event: CalendarEvent, customers: list[str]
) -> int:
    webmail = [c for c in customers if domain_of(c) in WEBMAIL]
    company = [c for c in customers if domain_of(c) not in WEBMAIL]
    if company:
        domain = domain_of(company[0])
        found = await calendars.account_by_domain(
            session=session, workspace_id=person.workspace_id, domain=domain
        )
        if found is not None:
            return found
        account_id = await get_or_create_account(
            session=session, workspace_id=person.workspace_id, name=name_from_domain(domain)
        )
        await calendars.claim_domain(session=session, account_id=account_id, domain=domain)
        return account_id
    assert webmail or event.title
    return await get_or_create_account(
        session=session, workspace_id=person.workspace_id, name=name_from_title(event.title)
    )


async def import_events(
    *,
    session: AsyncSession,
    person: Person,
    events: Sequence[CalendarEvent],
    policy: SchedulePolicy,
    tz: str,
    now: datetime,
    source: str = "ics",
    complete: bool = False,
) -> ImportResult:
    """Store the customer meetings among `events` and (re)plan their messages. With `complete`
    (a feed: the whole calendar), future meetings of this source that vanished are cancelled."""
    result = ImportResult()
    internal = _internal(policy, person)
    seen = result.seen
    for event in events:
        if event.all_day:
            result.all_day += 1
            continue
        customers = external_people(event, internal)
        if not customers:
            result.internal += 1
            continue
        assert event.starts_at is not None
        account_id = await _account_for(session, person, event, customers)
        organiser_external = event.organiser is not None and not is_internal(event.organiser, internal)
        flags = InviteFlags(
            organiser=event.organiser,
            organiser_external=organiser_external,
            formal_agenda=formal_agenda(event.description),
        )
        meeting, changed = await upsert_meeting(
            session=session,
            person=person,
            account_id=account_id,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            source=source,
            external_uid=event.key,
            title=event.title,
            cancelled=event.cancelled,
            invite=flags,
        )
        seen.add(event.key)
        if event.cancelled:
            result.cancelled += 1
        else:
            result.meetings += 1
            await _retire_duplicates(session, meeting, tz, policy, now)
        if changed:
            result.created += 1 if meeting.created_at >= now - timedelta(seconds=5) else 0
            result.updated += 1
        name = await calendars.account_name(session=session, account_id=account_id)
        result.accounts.add(str(name))
        await plan_meeting(session=session, meeting=meeting, tz=tz, policy=policy, now=now)
    if complete:
        result.cancelled += await _cancel_vanished(session, person, source, seen, policy, tz, now)
    return result


async def _cancel_vanished(
    session: AsyncSession,
    person: Person,
    source: str,
    seen: set[str],
    policy: SchedulePolicy,
    tz: str,
    now: datetime,
) -> int:
    """Cancel the future meetings of `source` not in `seen` (gone from the calendar)."""
    gone = await calendars.cancel_vanished(
        session=session, person_id=not_null(person.id), source=source, seen=seen, since=now,
        until=now + _FOREVER,
    )
    for meeting in gone:
        await plan_meeting(session=session, meeting=meeting, tz=tz, policy=policy, now=now)
    return len(gone)


async def _retire_duplicates(
    session: AsyncSession, meeting: Meeting, tz: str, policy: SchedulePolicy, now: datetime
) -> None:
    """The calendar knows best: a meeting typed by hand or taken from a debrief near the same time
    with the same account is the same meeting; retire it so the rep gets one nudge."""
    for twin_id in await calendars.cancel_twins(session=session, meeting=meeting, window=SAME_MEETING):
        await outbox.cancel_prefix(
            session=session,
            prefix=meeting_prefix(twin_id),
            reason=f"same meeting as calendar meeting {meeting.id}",
        )


class CalendarTooLarge(CalendarError):
    """The calendar is over calendar.max_feed_bytes."""


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise CalendarTooLarge(
            f"calendar of {size / 1e6:.1f} MB refused: over the {max_bytes / 1e6:.1f} MB limit "
            "(calendar.max_feed_bytes in app.yaml)"
        )


def _customer(event: CalendarEvent, internal: Sequence[str]) -> bool:
    return not event.all_day and not event.cancelled and bool(external_people(event, internal))


async def import_calendar(
    *,
    ctx: CoachContext,
    person_id: int,
    data: bytes | str,
    source: str = "ics",
    complete: bool = False,
    max_bytes: int = MAX_BYTES,
    worker: Worker = "process",
) -> ImportResult:
    """Parse (off the event loop) and import one calendar for one person, CHUNK events a
    transaction (each re-import is idempotent), then what vanished and the series kept."""
    check_size(len(data), max_bytes)
    now = ctx.clock()
    async with ctx.db() as session:
        person = await get_person(session=session, person_id=person_id)
    tz = person.timezone or ctx.default_timezone
    parsed = await parse_calendar(data, horizon_window(now, PAST, HORIZON), tz=tz, worker=worker)
    events = [*parsed.events, *parsed.beyond]
    result = ImportResult()
    for at in range(0, len(events), CHUNK):  # short transactions: SQLite has one connection
        async with ctx.db() as session, session.begin():
            person = await get_person(session=session, person_id=person_id)
            result.add(await import_events(
                session=session, person=person, events=events[at : at + CHUNK], policy=ctx.schedule,
                tz=tz, now=now, source=source,
            ))
    async with ctx.db() as session, session.begin():
        person = await get_person(session=session, person_id=person_id)
        if complete:  # a feed is the whole calendar: meetings and series gone from it are not kept
            result.cancelled += await _cancel_vanished(
                session, person, source, result.seen, ctx.schedule, tz, now
            )
            await calendars.drop_series(
                session=session, person_id=person_id, source=source, keep=[s.uid for s in parsed.series]
            )
        result.series = await _keep_series(session, person, parsed.series, ctx.schedule, source, now)
    internal = _internal(ctx.schedule, person)
    result.beyond = sum(
        1 for e in parsed.beyond
        if e.starts_at is not None and e.starts_at >= now + HORIZON and _customer(e, internal)
    )
    return result


def _internal(policy: SchedulePolicy, person: Person) -> list[str]:
    return [*policy.internal_domains, *([domain_of(person.email)] if person.email else [])]


async def _keep_series(
    session: AsyncSession,
    person: Person,
    found: Sequence[Series],
    policy: SchedulePolicy,
    source: str,
    now: datetime,
) -> int:
    internal = _internal(policy, person)  # a series is kept even if its next occurrence is cancelled
    kept = [s for s in found if not s.later.all_day and external_people(s.later, internal)]
    for series in kept:
        await calendars.keep_series(
            session=session,
            person_id=not_null(person.id),
            source=source,
            uid=series.uid,
            ical=series.ical,
            next_expand_at=now + EXPAND_EVERY,
        )
    return len(kept)


async def expand_due_series(*, ctx: CoachContext, limit: int = 50, worker: Worker = "process") -> int:
    """Re-expand the kept series due (daily): their occurrences now within the horizon become
    meetings with their messages; a series with nothing left after the horizon is let go.
    Returns the number of meetings stored."""
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        due = await calendars.claim_due_series(
            session=session, now=now, next_expand_at=now + EXPAND_EVERY, limit=limit
        )
    stored = 0
    for series in due:
        async with ctx.db() as session:
            person = await get_person(session=session, person_id=series.person_id)
        tz = person.timezone or ctx.default_timezone
        try:
            [(events, later)] = await expand_series(
                [series.ical], horizon_window(now, PAST, HORIZON), tz=tz, worker=worker
            )
        except CalendarError as exc:
            log.warning(msg.SERIES_FAILED.format(id=series.id, uid=series.uid, error=exc.message))
            events, later = [], None
        async with ctx.db() as session, session.begin():
            person = await get_person(session=session, person_id=series.person_id)
            result = await import_events(
                session=session, person=person, events=events, policy=ctx.schedule, tz=tz, now=now,
                source=series.source,
            )
            if later is None:
                await calendars.delete_series(session=session, series_id=series.id)
        stored += result.meetings
    return stored
