"""Calendar feeds: iCalendar URLs polled with conditional GET (ETag / Last-Modified) and imported
when they changed; any replica may poll a due feed, and each due feed is taken by one replica."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from bot import log_messages as msg
from bot.config import OrgConfig
from bot.scheduling.calendar import MAX_BYTES, check_size, expand_due_series, import_calendar
from bot.scheduling.ical import CalendarError, shutdown_pool
from dialogs.context import CoachContext
from storage import calendars

log = logging.getLogger("coach.calendar")

FEED_INTERVAL = timedelta(minutes=15)
FEED_RETRY = timedelta(minutes=30)
FEED_TIMEOUT = aiohttp.ClientTimeout(total=30)


async def add_feed(*, session: AsyncSession, person_id: int, url: str) -> int:
    if not url.startswith(("https://", "http://", "webcal://")):
        raise CalendarError("a calendar feed must be an http(s) or webcal URL")
    url = "https://" + url[len("webcal://") :] if url.startswith("webcal://") else url
    return await calendars.add_feed(session=session, person_id=person_id, url=url, now=datetime.now(UTC))


async def poll_feed(
    *, ctx: CoachContext, feed_id: int, http: aiohttp.ClientSession, max_bytes: int = MAX_BYTES
) -> int | None:
    """Fetch one feed (conditional GET) and import it when it changed. Returns the HTTP status.
    A feed over `max_bytes` (calendar.max_feed_bytes) is refused: its last_error says why."""
    async with ctx.db() as session:
        feed = await calendars.get_feed(session=session, feed_id=feed_id)
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
                check_size(response.content_length or 0, max_bytes)  # refused before reading
                body = await response.content.read(max_bytes + 1)
                await import_calendar(
                    ctx=ctx,
                    person_id=feed.person_id,
                    data=body,
                    source=f"feed:{feed.id}",
                    complete=True,
                    max_bytes=max_bytes,
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
        error = str(exc) if isinstance(exc, CalendarError) else repr(exc)
        values.update(last_error=error[:2000], next_poll_at=now + FEED_RETRY)
    async with ctx.db() as session, session.begin():
        await calendars.record_poll(session=session, feed_id=feed_id, **values)
    return status


async def claim_due_feeds(*, ctx: CoachContext, limit: int = 20) -> list[int]:
    """Feeds due for a poll, each taken by exactly one replica (compare-and-set on next_poll_at)."""
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        return await calendars.claim_due_feeds(
            session=session, now=now, next_poll_at=now + FEED_INTERVAL, limit=limit
        )


async def poll_feeds_forever(
    ctx: CoachContext, org: OrgConfig, stop: asyncio.Event, every: float = 60.0
) -> None:
    """Poll due feeds and re-expand due recurring series until `stop`; then stop the parsing
    processes (started on the first parse)."""
    max_bytes = org.calendar.max_feed_bytes
    try:
        async with aiohttp.ClientSession(headers={"User-Agent": "ClosingCoach/0.1"}) as http:
            while not stop.is_set():
                try:
                    for feed_id in await claim_due_feeds(ctx=ctx):
                        await poll_feed(ctx=ctx, feed_id=feed_id, http=http, max_bytes=max_bytes)
                    await expand_due_series(ctx=ctx)
                except Exception as exc:  # keep polling after a database hiccup
                    log.warning(msg.FEED_FAILED.format(id="*", error=repr(exc)))
                try:
                    await asyncio.wait_for(stop.wait(), timeout=every)
                except TimeoutError:
                    pass
    finally:
        await asyncio.to_thread(shutdown_pool)
