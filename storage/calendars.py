"""Calendar meetings and feeds: accounts by e-mail domain, meetings a calendar import retires,
demo meetings inserted once, the iCalendar feeds replicas poll and the recurring series they
re-expand (both taken by compare-and-set claims)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.engine import dialect_insert, session_dialect
from storage.models import Account, Meeting, not_null, utcnow
from storage.planning_models import CalendarFeed, CalendarSeries

FEED_FIELDS = {"etag", "last_modified", "next_poll_at", "last_polled_at", "last_status", "last_error"}


# -- accounts by domain --------------------------------------------------------------------------
async def account_by_domain(*, session: AsyncSession, workspace_id: int, domain: str) -> int | None:
    found = await session.scalar(
        sa.select(col(Account.id))
        .where(col(Account.workspace_id) == workspace_id, col(Account.domain) == domain)
        .limit(1)
    )
    return None if found is None else int(found)


async def claim_domain(*, session: AsyncSession, account_id: int, domain: str) -> None:
    """Give the account this e-mail domain, unless it already has one."""
    await session.execute(
        sa.update(Account)
        .where(col(Account.id) == account_id, col(Account.domain).is_(None))
        .values(domain=domain)
    )


async def account_name(*, session: AsyncSession, account_id: int) -> str | None:
    return await session.scalar(sa.select(col(Account.name)).where(col(Account.id) == account_id))


# -- meetings ------------------------------------------------------------------------------------
async def cancel_vanished(
    *,
    session: AsyncSession,
    person_id: int,
    source: str,
    seen: Collection[str],
    since: datetime,
    until: datetime,
) -> list[Meeting]:
    """Cancel the person's open meetings of `source` starting in [since, until) whose external uid
    is not in `seen` (gone from the calendar); returns them, cancelled, for re-planning."""
    gone = (
        await session.scalars(
            sa.select(Meeting).where(
                col(Meeting.person_id) == person_id,
                col(Meeting.source) == source,
                col(Meeting.cancelled).is_(False),
                col(Meeting.starts_at) >= since,
                col(Meeting.starts_at) < until,
                col(Meeting.external_uid).not_in(seen) if seen else sa.true(),
            )
        )
    ).all()
    for meeting in gone:
        meeting.cancelled = True
    return list(gone)


async def cancel_twins(*, session: AsyncSession, meeting: Meeting, window: timedelta) -> list[int]:
    """Cancel the open meetings typed by hand or taken from a debrief with the same person and
    account starting within `window` of `meeting`; returns their ids."""
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
    return [not_null(twin.id) for twin in twins]


async def add_meeting_once(
    *,
    session: AsyncSession,
    workspace_id: int,
    person_id: int,
    account_id: int,
    starts_at: datetime,
    ends_at: datetime,
    source: str,
    external_uid: str,
    title: str,
    now: datetime,
) -> None:
    """Insert a meeting unless (person, source, external uid) exists: nothing is changed then."""
    await session.execute(
        dialect_insert(session_dialect(session), Meeting)
        .values(
            workspace_id=workspace_id,
            person_id=person_id,
            account_id=account_id,
            starts_at=starts_at,
            ends_at=ends_at,
            source=source,
            external_uid=external_uid,
            title=title,
            cancelled=False,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["person_id", "source", "external_uid"])
    )


# -- feeds ---------------------------------------------------------------------------------------
async def add_feed(*, session: AsyncSession, person_id: int, url: str, now: datetime) -> int:
    """Register a feed URL for a person once (a repeat returns the same id); due at once."""
    insert = dialect_insert(session_dialect(session), CalendarFeed).values(
        person_id=person_id, url=url, next_poll_at=now, created_at=now
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["person_id", "url"], set_={"url": insert.excluded.url}
    ).returning(col(CalendarFeed.id))
    return not_null((await session.execute(stmt)).scalar_one())


async def get_feed(*, session: AsyncSession, feed_id: int) -> CalendarFeed | None:
    return await session.get(CalendarFeed, feed_id)


async def record_poll(*, session: AsyncSession, feed_id: int, **values: Any) -> None:
    """What a poll found: status, validators (ETag / Last-Modified), error, next poll."""
    unknown = set(values) - FEED_FIELDS
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    await session.execute(sa.update(CalendarFeed).where(col(CalendarFeed.id) == feed_id).values(**values))


async def claim_due_feeds(
    *, session: AsyncSession, now: datetime, next_poll_at: datetime, limit: int
) -> list[int]:
    """Feeds due at `now`, each moved to `next_poll_at` by compare-and-set on its due time, so
    each is taken by exactly one replica; returns the ids this caller took."""
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
            .values(next_poll_at=next_poll_at)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            mine.append(not_null(feed_id))
    return mine


# -- recurring series kept beyond the horizon ----------------------------------------------------
@dataclass(frozen=True)
class KeptSeries:
    id: int
    person_id: int
    source: str
    uid: str
    ical: str


async def keep_series(
    *, session: AsyncSession, person_id: int, source: str, uid: str, ical: str, next_expand_at: datetime
) -> None:
    """Store (or replace) one series' iCalendar text, next re-expanded at `next_expand_at`."""
    insert = dialect_insert(session_dialect(session), CalendarSeries).values(
        person_id=person_id, source=source, uid=uid[:255], ical=ical, next_expand_at=next_expand_at,
        created_at=utcnow(),
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["person_id", "source", "uid"],
            set_={"ical": insert.excluded.ical, "next_expand_at": insert.excluded.next_expand_at},
        )
    )


async def drop_series(
    *, session: AsyncSession, person_id: int, source: str, keep: Collection[str] = ()
) -> int:
    """Delete the person's series of `source` whose uid is not in `keep`; returns how many."""
    result = await session.execute(
        sa.delete(CalendarSeries).where(
            col(CalendarSeries.person_id) == person_id,
            col(CalendarSeries.source) == source,
            col(CalendarSeries.uid).not_in([u[:255] for u in keep]) if keep else sa.true(),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_series(*, session: AsyncSession, series_id: int) -> None:
    await session.execute(sa.delete(CalendarSeries).where(col(CalendarSeries.id) == series_id))


async def count_series(*, session: AsyncSession, person_id: int) -> int:
    found = await session.scalar(
        sa.select(sa.func.count())
        .select_from(CalendarSeries)
        .where(col(CalendarSeries.person_id) == person_id)
    )
    return int(found or 0)


async def claim_due_series(
    *, session: AsyncSession, now: datetime, next_expand_at: datetime, limit: int
) -> list[KeptSeries]:
    """Series due for re-expansion at `now`, each moved to `next_expand_at` by compare-and-set on
    its due time (one replica takes each); returns the ones this caller took."""
    due = (
        await session.execute(
            sa.select(CalendarSeries)
            .where(col(CalendarSeries.next_expand_at) <= now)
            .order_by(col(CalendarSeries.next_expand_at))
            .limit(limit)
        )
    ).scalars().all()
    mine = []
    for row in due:
        taken = await session.execute(
            sa.update(CalendarSeries)
            .where(col(CalendarSeries.id) == row.id, col(CalendarSeries.next_expand_at) == row.next_expand_at)
            .values(next_expand_at=next_expand_at)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            mine.append(KeptSeries(not_null(row.id), row.person_id, row.source, row.uid, row.ical))
    return mine
