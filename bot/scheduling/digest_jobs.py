"""The digest's runtime side: team sync from app.yaml, weekly digests through the outbox, retention.

- `sync_teams`: app.yaml `teams:` → Person.manager_id / role and the Team row, for everyone the
  coach already knows (by e-mail, Slack user id or Teams aadObjectId); run at start and every tick,
  so people who talk to the coach later are linked within a tick.
- `due_digests` / `enqueue_due_digests`: each manager's latest scheduled moment (weekday and time
  in their own timezone, DST-correct) becomes one outbox row, kind "digest", dedup key
  `digest:<manager id>:<local date>`: replicas and restarts never send a week twice.
- `render_digest` / `render_team_notice`: renderers of the outbox kinds in `DIGEST_KINDS`.
- `run_retention`: deletes debriefs older than retention_days (daily, from the tick).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import log_messages as msg
from bot.config import WEEKDAYS, OrgConfig, PersonRef
from bot.delivery import Outgoing, to_outgoing
from bot.keys import COACH, SETTINGS
from dialogs import team
from dialogs.context import CoachContext
from dialogs.digest import compute_digests
from dialogs.digest_render import digest_replies
from dialogs.messages import Reply
from storage import data_rights, directory, outbox, sales_teams
from storage.digest_queries import Period
from storage.models import Person, Platform, Role
from storage.people import update_person

log = logging.getLogger("coach.digest")

DIGEST_KIND = "digest"
TICK_SECONDS = 300.0
DIGEST_VALID = timedelta(hours=24)  # a digest not sent within a day of its moment is skipped


# -- delivery ------------------------------------------------------------------------------------
async def render_digest(ctx: CoachContext, item: outbox.Item) -> Outgoing | None:
    end = datetime.fromisoformat(str(item.payload.get("period_end") or item.due_at.isoformat()))
    async with ctx.db() as session:
        digests = await compute_digests(
            session=session,
            period=Period.ending(end),
            manager_ids=[item.person_id],
            share_notes=ctx.share_notes,
            default_locale=ctx.default_locale,
            default_timezone=ctx.default_timezone,
            texts=ctx.texts,
        )
    if not digests or not digests[0].reps:
        return None  # no team any more: nothing to send
    replies = await asyncio.to_thread(digest_replies, ctx.texts, digests[0])
    return to_outgoing(replies)


async def render_team_notice(ctx: CoachContext, item: outbox.Item) -> list[Reply]:
    async with ctx.db() as session:
        person = await directory.person_by_id(session=session, person_id=item.person_id)
    locale = person.locale if person is not None and person.locale in ("en", "nl") else ctx.default_locale
    return team.notice_replies(ctx, locale=locale, payload=item.payload)


# The outbox kinds this module renders; the scheduler's registry adds them (bot.scheduling.scheduler).
DIGEST_KINDS = {DIGEST_KIND: render_digest, team.NOTICE_KIND: render_team_notice}


# -- teams from app.yaml -------------------------------------------------------------------------
def _matches(ref: PersonRef, person: Person, platform: str) -> bool:
    if ref.email and person.email and ref.email.casefold() == person.email.casefold():
        return True
    if ref.slack_user_id and platform == Platform.SLACK and person.platform_user_id == ref.slack_user_id:
        return True
    return bool(
        ref.aad_object_id
        and platform == Platform.TEAMS
        and person.platform_user_id.casefold() == ref.aad_object_id.casefold()
    )


async def sync_teams(*, session: AsyncSession, org: OrgConfig) -> int:
    """Link app.yaml's reps to their managers, per workspace; returns the number of links made."""
    refs = [r for t in org.teams for r in (t.manager, *t.reps)]
    if not refs:
        return 0
    emails = {r.email.casefold() for r in refs if r.email}
    ids = {r.slack_user_id for r in refs if r.slack_user_id} | {
        r.aad_object_id for r in refs if r.aad_object_id
    }
    rows = await directory.people_on_platforms(session=session, emails=emails, platform_user_ids=ids)
    links = 0
    for cfg in org.teams:
        for manager, platform in rows:
            if not _matches(cfg.manager, manager, platform):
                continue
            assert manager.id is not None
            if manager.role == Role.REP:
                await update_person(session=session, person_id=manager.id, role=Role.MANAGER)
            await sales_teams.upsert_team(
                session=session, workspace_id=manager.workspace_id, manager_id=manager.id, name=cfg.name
            )
            for ref in cfg.reps:
                for rep, rep_platform in rows:
                    if (
                        rep.workspace_id == manager.workspace_id
                        and rep.id != manager.id
                        and _matches(ref, rep, rep_platform)
                        and rep.manager_id != manager.id
                    ):
                        assert rep.id is not None
                        await sales_teams.set_manager(
                            session=session, person_id=rep.id, manager_id=manager.id
                        )
                        links += 1
    return links


# -- scheduling ----------------------------------------------------------------------------------
def last_occurrence(now: datetime, *, weekday: str, at: time, tz: str) -> datetime:
    """The latest local `weekday` `at` not after `now`, as UTC (wall-clock time across DST)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    days_back = (local.weekday() - WEEKDAYS.index(weekday)) % 7
    day = local.date() - timedelta(days=days_back)
    moment = datetime.combine(day, at, tzinfo=zone)
    if moment > now:
        moment = datetime.combine(day - timedelta(days=7), at, tzinfo=zone)
    return moment.astimezone(ZoneInfo("UTC"))


async def due_digests(
    *, session: AsyncSession, ctx: CoachContext, now: datetime
) -> list[tuple[int, str, datetime]]:
    """(manager id, dedup key, moment) of every manager with reps whose digest moment has come."""
    out = []
    for manager in await directory.managers_with_reps(session=session):
        tz = manager.timezone or ctx.default_timezone
        moment = last_occurrence(now, weekday=ctx.digest_weekday, at=ctx.digest_time, tz=tz)
        if now - moment < DIGEST_VALID:
            local_day: date = moment.astimezone(ZoneInfo(tz)).date()
            out.append((manager.id, f"{DIGEST_KIND}:{manager.id}:{local_day.isoformat()}", moment))
    return out


async def enqueue_due_digests(*, session: AsyncSession, ctx: CoachContext, now: datetime) -> int:
    due = await due_digests(session=session, ctx=ctx, now=now)
    if not due:
        return 0
    existing = await outbox.existing_keys(session=session, dedup_keys=[k for _, k, _ in due])
    added = 0
    for manager_id, key, moment in due:
        if key in existing:
            continue
        await outbox.enqueue(
            session=session,
            dedup_key=key,
            kind=DIGEST_KIND,
            person_id=manager_id,
            due_at=moment,
            expires_at=moment + DIGEST_VALID,
            payload={"period_end": moment.isoformat()},
        )
        added += 1
    return added


async def run_retention(*, session: AsyncSession, now: datetime, retention_days: int) -> int:
    return await data_rights.delete_debriefs_before(
        session=session, cutoff=now - timedelta(days=retention_days)
    )


async def tick(ctx: CoachContext, org: OrgConfig, *, retention: bool) -> dict[str, int]:
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        links = await sync_teams(session=session, org=org)
        queued = await enqueue_due_digests(session=session, ctx=ctx, now=now)
        deleted = (
            await run_retention(session=session, now=now, retention_days=org.retention_days)
            if retention
            else 0
        )
    return {"links": links, "digests": queued, "deleted": deleted}


async def digest_jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx entry: team sync at start, then the tick every few minutes; retention daily."""
    ctx, org = app[COACH], app[SETTINGS].org
    stop = asyncio.Event()

    async def loop() -> None:
        last_retention: date | None = None
        while not stop.is_set():
            today = ctx.clock().date()
            try:
                done = await tick(ctx, org, retention=last_retention != today)
                last_retention = today
                if any(done.values()):
                    log.info(msg.DIGEST_TICK.format(**done))
            except Exception as exc:  # the database is away: try again next tick
                log.warning(msg.DIGEST_TICK_FAILED.format(error=repr(exc)))
            try:
                await asyncio.wait_for(stop.wait(), timeout=TICK_SECONDS)
            except TimeoutError:
                pass

    task = asyncio.create_task(loop(), name="coach-digest-jobs")
    yield
    stop.set()
    try:
        await asyncio.wait_for(task, timeout=10)
    except (TimeoutError, asyncio.CancelledError):
        task.cancel()
