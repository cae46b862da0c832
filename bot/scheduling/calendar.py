"""Calendars: iCalendar files and URL feeds turned into customer meetings (and their nudges).

Parsing uses icalendar + recurring-ical-events: RRULE with EXDATE, moved occurrences
(RECURRENCE-ID), VTIMEZONE/TZID including Windows names, floating times (read in the rep's zone),
all-day events (kept out of meetings: they have no start to prepare for), STATUS:CANCELLED and
METHOD:CANCEL. A meeting is a customer meeting when an attendee's domain is outside
`internal_domains`; the account comes from that domain, or from the title for webmail addresses.
Feeds are polled with conditional GET (ETag / Last-Modified); any replica may poll a due feed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import recurring_ical_events
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot import log_messages as msg
from bot.config import OrgConfig
from dialogs.context import CoachContext
from dialogs.meetings import meeting_prefix, plan_meeting
from dialogs.timing import SchedulePolicy
from storage import outbox
from storage.accounts import get_or_create_account
from storage.engine import session_insert
from storage.errors import CoachError
from storage.meetings import InviteFlags, upsert_meeting
from storage.models import Account, Meeting, Person, not_null
from storage.people import get_person
from storage.planning_models import CalendarFeed

log = logging.getLogger("coach.calendar")

PAST = timedelta(days=1)
HORIZON = timedelta(days=90)
FEED_INTERVAL = timedelta(minutes=15)
FEED_RETRY = timedelta(minutes=30)
FEED_TIMEOUT = aiohttp.ClientTimeout(total=30)
FEED_MAX_BYTES = 10 * 1024 * 1024
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
    accounts: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "meetings": self.meetings,
            "created": self.created,
            "updated": self.updated,
            "cancelled": self.cancelled,
            "skipped_internal": self.internal,
            "skipped_all_day": self.all_day,
            "accounts": sorted(self.accounts),
        }


async def _account_for(
    session: AsyncSession, person: Person, event: CalendarEvent, customers: list[str]
) -> int:
    webmail = [c for c in customers if domain_of(c) in WEBMAIL]
    company = [c for c in customers if domain_of(c) not in WEBMAIL]
    if company:
        domain = domain_of(company[0])
        found = await session.scalar(
            sa.select(col(Account.id))
            .where(col(Account.workspace_id) == person.workspace_id, col(Account.domain) == domain)
            .limit(1)
        )
        if found is not None:
            return int(found)
        account_id = await get_or_create_account(
            session=session, workspace_id=person.workspace_id, name=name_from_domain(domain)
        )
        await session.execute(
            sa.update(Account)
            .where(col(Account.id) == account_id, col(Account.domain).is_(None))
            .values(domain=domain)
        )
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
    internal = [*policy.internal_domains, *([domain_of(person.email)] if person.email else [])]
    seen: set[str] = set()
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
        name = await session.scalar(sa.select(col(Account.name)).where(col(Account.id) == account_id))
        result.accounts.add(str(name))
        await plan_meeting(session=session, meeting=meeting, tz=tz, policy=policy, now=now)
    if complete:
        gone = (
            await session.scalars(
                sa.select(Meeting).where(
                    col(Meeting.person_id) == person.id,
                    col(Meeting.source) == source,
                    col(Meeting.cancelled).is_(False),
                    col(Meeting.starts_at) >= now,
                    col(Meeting.starts_at) < now + HORIZON,
                    col(Meeting.external_uid).not_in(seen) if seen else sa.true(),
                )
            )
        ).all()
        for meeting in gone:
            meeting.cancelled = True
            result.cancelled += 1
            await plan_meeting(session=session, meeting=meeting, tz=tz, policy=policy, now=now)
    return result


async def _retire_duplicates(
    session: AsyncSession, meeting: Meeting, tz: str, policy: SchedulePolicy, now: datetime
) -> None:
    """The calendar knows best: a meeting typed by hand or taken from a debrief near the same time
    with the same account is the same meeting; retire it so the rep gets one nudge."""
    window = timedelta(hours=2)
    twins = (
        await session.scalars(
            sa.select(Meeting).where(
                col(Meeting.person_id) == meeting.person_id,
                col(Meeting.account_id) == meeting.account_id,
                col(Meeting.source).in_(("debrief", "manual")),
                col(Meeting.cancelled).is_(False),
                col(Meeting.starts_at).between(meeting.starts_at - window, meeting.starts_at + window),
            )
        )
    ).all()
    for twin in twins:
        twin.cancelled = True
        assert twin.id is not None
        await outbox.cancel_prefix(
            session=session,
            prefix=meeting_prefix(twin.id),
            reason=f"same meeting as calendar meeting {meeting.id}",
        )


async def import_calendar(
    *,
    ctx: CoachContext,
    person_id: int,
    data: bytes | str,
    source: str = "ics",
    complete: bool = False,
) -> ImportResult:
    """Parse and import one calendar for one person, in one transaction."""
    cal = read_calendar(data)
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        person = await get_person(session=session, person_id=person_id)
        tz = person.timezone or ctx.default_timezone
        events = occurrences(cal, now - PAST, now + HORIZON, tz=tz)
        return await import_events(
            session=session,
            person=person,
            events=events,
            policy=ctx.schedule,
            tz=tz,
            now=now,
            source=source,
            complete=complete,
        )


# -- feeds ----------------------------------------------------------------------------------------
async def add_feed(*, session: AsyncSession, person_id: int, url: str) -> int:
    if not url.startswith(("https://", "http://", "webcal://")):
        raise CalendarError("a calendar feed must be an http(s) or webcal URL")
    url = "https://" + url[len("webcal://") :] if url.startswith("webcal://") else url
    stmt = session_insert(session, CalendarFeed).values(
        person_id=person_id, url=url, next_poll_at=datetime.now(UTC), created_at=datetime.now(UTC)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["person_id", "url"], set_={"url": stmt.excluded.url}
    ).returning(col(CalendarFeed.id))
    return int((await session.execute(stmt)).scalar_one())


async def poll_feed(*, ctx: CoachContext, feed_id: int, http: aiohttp.ClientSession) -> int | None:
    """Fetch one feed (conditional GET) and import it when it changed. Returns the HTTP status."""
    async with ctx.db() as session:
        feed = await session.get(CalendarFeed, feed_id)
    if feed is None:
        return None
    headers = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    now = ctx.clock()
    values: dict[str, Any] = {"last_polled_at": now, "next_poll_at": now + FEED_INTERVAL}
    status: int | None = None
    try:
        async with http.get(feed.url, headers=headers, timeout=FEED_TIMEOUT) as response:
            status = response.status
            values["last_status"] = status
            if status == 200:
                body = await response.content.read(FEED_MAX_BYTES + 1)
                if len(body) > FEED_MAX_BYTES:
                    raise CalendarError("feed larger than 10 MB")
                await import_calendar(
                    ctx=ctx, person_id=feed.person_id, data=body, source=f"feed:{feed.id}", complete=True
                )
                values.update(
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    last_error=None,
                )
            elif status != 304:
                values.update(last_error=f"HTTP {status}", next_poll_at=now + FEED_RETRY)
    except (aiohttp.ClientError, TimeoutError, CalendarError) as exc:
        log.warning(msg.FEED_FAILED.format(id=feed.id, error=repr(exc)))
        values.update(last_error=repr(exc)[:2000], next_poll_at=now + FEED_RETRY)
    async with ctx.db() as session, session.begin():
        await session.execute(sa.update(CalendarFeed).where(col(CalendarFeed.id) == feed_id).values(**values))
    return status


async def claim_due_feeds(*, ctx: CoachContext, limit: int = 20) -> list[int]:
    """Feeds due for a poll, each taken by exactly one replica (compare-and-set on next_poll_at)."""
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        due = (
            await session.execute(
                sa.select(col(CalendarFeed.id), col(CalendarFeed.next_poll_at))
                .where(col(CalendarFeed.next_poll_at) <= now)
                .order_by(col(CalendarFeed.next_poll_at))
                .limit(limit)
            )
        ).all()
        mine = []
        for feed_id, next_at in due:
            taken = await session.execute(
                sa.update(CalendarFeed)
                .where(col(CalendarFeed.id) == feed_id, col(CalendarFeed.next_poll_at) == next_at)
                .values(next_poll_at=now + FEED_INTERVAL)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                mine.append(not_null(feed_id))
    return mine


async def poll_feeds_forever(
    ctx: CoachContext, org: OrgConfig, stop: asyncio.Event, every: float = 60.0
) -> None:
    async with aiohttp.ClientSession(headers={"User-Agent": "ClosingCoach/0.1"}) as http:
        while not stop.is_set():
            try:
                for feed_id in await claim_due_feeds(ctx=ctx):
                    await poll_feed(ctx=ctx, feed_id=feed_id, http=http)
            except Exception as exc:  # keep polling after a database hiccup
                log.warning(msg.FEED_FAILED.format(id="*", error=repr(exc)))
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except TimeoutError:
                pass
