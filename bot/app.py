"""The aiohttp app factory: one application serving every channel, health and metrics."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import log_messages as msg
from bot.config import Settings
from bot.crm.runtime import crm_status_line
from bot.crm.runtime import setup as setup_crm
from bot.delivery import SENDERS
from bot.demo import seed_demo
from bot.keys import COACH, DB, ENGINE, METRICS, SETTINGS, TEXTS
from bot.metrics import Metrics
from bot.scheduling.digest_jobs import digest_jobs_ctx
from bot.scheduling.kinds import renderers, schedule_policy
from bot.scheduling.scheduler import RENDERERS, scheduler_ctx
from bot.slack.mode import slack_mode
from bot.slack.runtime import setup as setup_slack
from bot.teams.mode import teams_mode
from bot.teams.runtime import setup as setup_teams
from bot.webchat.routes import setup as setup_webchat
from dialogs.context import CoachContext
from dialogs.text import Texts, default_texts
from storage import migrate
from storage.engine import create_engine, ping, session_factory

log = logging.getLogger("coach")

# Re-exported for tests and tools that build an app and read what it holds.
__all__ = ["COACH", "DB", "ENGINE", "METRICS", "SETTINGS", "TEXTS", "channel_status", "create_app"]


def coach_context(settings: Settings, db: async_sessionmaker[AsyncSession], texts: Texts) -> CoachContext:
    org = settings.org
    return CoachContext(
        db=db,
        default_locale=org.default_locale,
        default_timezone=org.default_timezone,
        edit_window_days=org.edit_window_days,
        share_notes=org.share_notes,
        digest_weekday=org.digest.weekday,
        digest_time=org.digest.time,
        nudge_lead_minutes=org.nudge.lead_minutes,
        schedule=schedule_policy(org),
        texts=texts,
    )


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    pool = {} if settings.is_sqlite else {"pool_size": settings.database_pool_size}
    engine = create_engine(settings.database_url, **pool)
    if settings.is_sqlite:
        # The embedded default migrates itself; PostgreSQL is migrated with `coach db upgrade`.
        await migrate.upgrade(engine)
    app[ENGINE] = engine
    app[DB] = session_factory(engine)
    app[COACH] = coach_context(settings, app[DB], app[TEXTS])
    if settings.demo:
        summary = await seed_demo(app[COACH], settings)
        log.info(msg.DEMO_SEEDED.format(**summary))
    yield
    await engine.dispose()


async def healthz(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(ping(request.app[ENGINE]), timeout=2)
    except Exception as exc:  # any failure to answer means unhealthy
        log.warning(msg.DB_UNREACHABLE.format(error=type(exc).__name__))
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "up"})


# Collect the young generation every 20,000 net allocations instead of 700: a turn allocates
# thousands of short-lived objects, nearly all freed by reference counting, and at 700 the collector
# ran several times per turn, scanning every request in flight each time (about a fifth of the CPU).
GC_YOUNG_THRESHOLD = 20_000


async def _freeze_gc(_: web.Application) -> AsyncIterator[None]:
    """Everything loaded by now (modules, models, prompts, botbuilder's schema classes) lives as long
    as the app: move it out of the collector's reach, so a full collection under load scans only
    what requests created instead of pausing every request for tens of milliseconds. (No collection
    first: it would cost every start, tests included, ~0.1 s for the little startup garbage it frees.)"""
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def create_app(settings: Settings, *, texts: Texts | None = None) -> web.Application:
    """Build the application for these settings; tests pass their own."""
    metrics = Metrics()
    app = web.Application(middlewares=[metrics.middleware], client_max_size=256 * 1024)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[TEXTS] = texts or default_texts()
    app[SENDERS] = {}
    app[RENDERERS] = renderers()
    app.cleanup_ctx.append(_database)
    if slack_mode(settings):
        setup_slack(app)  # POST /slack/events (+ OAuth install); its context runs after the DB
    app.cleanup_ctx.append(digest_jobs_ctx)  # team sync, weekly digests, retention
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics.handle)
    if settings.org.server.webchat:
        setup_webchat(app)
    setup_teams(app)  # POST /api/messages: with an app id, or the Emulator (loopback) if turned on
    setup_crm(app)  # CRM writes (an outbox action), installs, deal read-back; before the scheduler
    # The outbox scheduler and calendar feeds; last, so every channel's sender is running.
    app.cleanup_ctx.append(scheduler_ctx)
    app.cleanup_ctx.append(_freeze_gc)  # last: after every context above has started
    return app


def channel_status(settings: Settings, host: str, port: int) -> list[str]:
    """One line per channel saying whether it is on, for `coach serve`."""
    lines = []
    if settings.org.server.webchat:
        lines.append(msg.WEBCHAT_ON.format(
            host=host, port=port, loopback_only=not settings.org.server.webchat_public))
    else:
        lines.append(msg.WEBCHAT_OFF.format(config=settings.config_path))
    mode = slack_mode(settings)
    lines.append(msg.SLACK_ON.format(mode=mode) if mode else msg.SLACK_OFF)
    lines.append(_teams_status(settings))
    lines.append(crm_status_line(settings))
    return lines


def _teams_status(settings: Settings) -> str:
    mode = teams_mode(settings)
    if mode == "off":
        return msg.TEAMS_OFF
    if mode == "emulator":
        return msg.TEAMS_EMULATOR
    if settings.microsoft_app_password or settings.microsoft_app_type.lower() == "userassignedmsi":
        return msg.TEAMS_ON.format(app_id=settings.microsoft_app_id)
    return msg.TEAMS_NO_PASSWORD.format(app_id=settings.microsoft_app_id)
