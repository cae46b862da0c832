"""Calendar events turned into customer meetings (an attendee outside `internal_domains`; the
account from their domain, or the title for webmail) and the messages planned around them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduling.ical import CalendarEvent, occurrences, read_calendar
from dialogs.context import CoachContext
from dialogs.meetings import meeting_prefix, plan_meeting
from dialogs.timing import SchedulePolicy
from storage import calendars, outbox
from storage.accounts import get_or_create_account
from storage.meetings import SAME_MEETING, InviteFlags, upsert_meeting
from storage.models import Meeting, Person, not_null
from storage.people import get_person

PAST = timedelta(days=1)
HORIZON = timedelta(days=90)
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
        name = await calendars.account_name(session=session, account_id=account_id)
        result.accounts.add(str(name))
        await plan_meeting(session=session, meeting=meeting, tz=tz, policy=policy, now=now)
    if complete:
        gone = await calendars.cancel_vanished(
            session=session,
            person_id=not_null(person.id),
            source=source,
            seen=seen,
            since=now,
            until=now + HORIZON,
        )
        for meeting in gone:
            result.cancelled += 1
            await plan_meeting(session=session, meeting=meeting, tz=tz, policy=policy, now=now)
    return result


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
