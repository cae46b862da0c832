"""The CRM side of the app: on only with COACH_SECRET_KEY and a CRM credential; registers the
write action and the two messages with the outbox scheduler, the install routes, and a background
tick that connects the environment's credential, refreshes who has a CRM, and reads deal stages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import aiohttp
from aiohttp import web

from bot import log_messages as msg
from bot.config import Settings
from bot.crm import hubspot, salesforce
from bot.crm.api import CrmUnauthorized
from bot.crm.connectors import JWT, TOKEN, Connectors
from bot.crm.install import InstallRoutes
from bot.crm.matching import Matcher
from bot.crm.outcomes import read_outcomes
from bot.crm.sync import CrmSync
from bot.crm.tokens import TokenBox
from bot.delivery import DeliveryError
from bot.keys import COACH, SETTINGS, TEXTS
from bot.scheduling.scheduler import ACTIONS, RENDERERS, wake_scheduler
from dialogs import crm_choice
from dialogs.context import CoachContext
from storage import crm, crm_outcomes
from storage.crm_models import CrmConnection, CrmStatus

log = logging.getLogger("coach.crm")
TICK_SECONDS = 60.0


def crm_ways(settings: Settings) -> list[str]:
    """How this configuration can connect a CRM (empty: it can't)."""
    ways = []
    if settings.hubspot_access_token:
        ways.append("HubSpot private-app token")
    if settings.hubspot_client_id and settings.hubspot_client_secret:
        ways.append("HubSpot OAuth at /crm/hubspot/install")
    if settings.salesforce_client_id:
        ways.append("Salesforce OAuth at /crm/salesforce/install")
        if settings.salesforce_username and settings.salesforce_private_key_file:
            ways.append("Salesforce JWT bearer")
    return ways


def crm_status_line(settings: Settings) -> str:
    if settings.secret_key is None:
        return msg.CRM_OFF_NO_KEY
    ways = crm_ways(settings)
    return msg.CRM_ON.format(ways=", ".join(ways)) if ways else msg.CRM_OFF_NOTHING


def crm_on(settings: Settings) -> bool:
    return settings.secret_key is not None and bool(crm_ways(settings))


class CrmRuntime:
    def __init__(self, app: web.Application, http: aiohttp.ClientSession) -> None:
        settings = app[SETTINGS]
        assert settings.secret_key is not None
        self.app = app
        self.settings = settings
        self.ctx: CoachContext = app[COACH]
        self.box = TokenBox(settings.secret_key.get_secret_value())
        self.connectors = Connectors(
            settings=settings, box=self.box, http=http, db=self.ctx.db, clock=self.ctx.clock
        )
        self.matcher = Matcher(db=self.ctx.db, clock=self.ctx.clock, wake=self.wake)
        self.sync = CrmSync(
            connectors=self.connectors,
            matcher=self.matcher,
            include_notes=settings.org.crm.include_notes,
            wake=self.wake,
        )
        self.routes = InstallRoutes(
            settings=settings,
            box=self.box,
            connectors=self.connectors,
            texts=app[TEXTS],
            on_connected=self.connected,
        )
        self.environment_tried = False

    def wake(self) -> None:
        wake_scheduler(self.app)

    def connected(self, workspace_id: int, crm_id: str) -> None:
        self.ctx.crm_of[workspace_id] = crm_id

    async def tick(self) -> None:
        """Connect the environment's credential, refresh who has a CRM, read deal stages when due:
        each connection's poll of an interval is claimed in the database, so one replica polls it."""
        await self.connect_from_environment()
        now = self.ctx.clock()
        every = timedelta(minutes=self.settings.org.crm.poll_minutes)
        async with self.ctx.db() as session, session.begin():
            crm_of = await crm.connected_crms(session=session)
            due = await crm_outcomes.claim_due_polls(session=session, now=now, polled_before=now - every)
            connections = [c for c in await crm.all_connections(session=session) if c.id in due]
        self.ctx.crm_of.clear()
        self.ctx.crm_of.update(crm_of)
        for conn in connections:
            await self.poll(conn)
        cutoff = self.ctx.clock() - timedelta(days=self.settings.org.retention_days)
        async with self.ctx.db() as session, session.begin():
            await crm_outcomes.delete_outcomes_before(session=session, cutoff=cutoff)

    async def poll(self, conn: CrmConnection) -> None:
        """One claimed read-back; a failure waits for the next interval (the watermark stays)."""
        try:
            await read_outcomes(self.ctx, self.connectors, conn)
        except DeliveryError as exc:
            if isinstance(exc, CrmUnauthorized):
                await self.sync.broken(self.ctx, conn, exc.message)
            log.warning(
                msg.CRM_POLL_FAILED.format(crm=conn.crm, workspace=conn.workspace_id, error=exc.message)
            )

    async def connect_from_environment(self) -> None:
        """A server-wide credential (HUBSPOT_ACCESS_TOKEN, the Salesforce JWT settings) connects its
        workspace once it exists; on start it also retries a connection it left broken (a restart
        is how a new token arrives). An OAuth install of that workspace wins."""
        s = self.settings
        jwt_ready = bool(s.salesforce_client_id and s.salesforce_username and s.salesforce_private_key_file)
        if not (s.hubspot_access_token or jwt_ready):
            return
        crm_id, source = (hubspot.NAME, TOKEN) if s.hubspot_access_token else (salesforce.NAME, JWT)
        async with self.ctx.db() as session:
            workspace_id, reason = await crm.server_workspace(session=session, named=s.org.crm.workspace)
            existing = (
                None
                if workspace_id is None
                else await crm.connection_of(session=session, workspace_id=workspace_id)
            )
        if workspace_id is None:
            log.debug(msg.CRM_TOKEN_WORKSPACE.format(crm=crm_id, reason=reason))
            return
        retry = (
            not self.environment_tried
            and existing is not None
            and existing.source == source
            and existing.status == CrmStatus.BROKEN
        )
        self.environment_tried = True
        if existing is not None and not retry:
            return
        tokens, instance, org = "", None, None
        if source == JWT:
            try:
                creds, org = await self.connectors.jwt_token()
            except DeliveryError as exc:
                log.warning(msg.CRM_POLL_FAILED.format(crm=crm_id, workspace=workspace_id, error=exc.message))
                return
            tokens, instance = self.box.seal(creds), creds.instance_url
        async with self.ctx.db() as session, session.begin():
            await crm.connect(
                session=session,
                workspace_id=workspace_id,
                crm=crm_id,
                source=source,
                tokens=tokens,
                now=self.ctx.clock(),
                instance_url=instance,
                external_org=org,
            )
        log.info(msg.CRM_CONNECTED.format(workspace=workspace_id, crm=crm_id, source="environment"))
        self.connected(workspace_id, crm_id)


CRM = web.AppKey("crm", CrmRuntime)


def setup(app: web.Application) -> None:
    """Mount the CRM when it is on (crm_on); call before the scheduler's context is added."""
    if not crm_on(app[SETTINGS]):
        return
    app[RENDERERS][crm.CRM_QUESTION] = crm_choice.render_question
    app[RENDERERS][crm.CRM_BROKEN] = crm_choice.render_broken
    app.cleanup_ctx.append(_crm_ctx)
    for path, name in ROUTES.items():
        app.router.add_get(path, _route(name))


# The install routes and the InstallRoutes method serving each (built once the app starts).
ROUTES = {
    "/crm/hubspot/install": "hubspot_install",
    "/crm/hubspot/oauth_callback": "hubspot_callback",
    "/crm/salesforce/install": "salesforce_install",
    "/crm/salesforce/oauth_callback": "salesforce_callback",
}


def _route(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]] = getattr(
            request.app[CRM].routes, name
        )
        return await handler(request)

    return handle


async def _crm_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as http:
        runtime = CrmRuntime(app, http)
        app[CRM] = runtime
        app.setdefault(ACTIONS, {})[crm.CRM_WRITE] = runtime.sync.write
        stop = asyncio.Event()
        task = asyncio.create_task(_ticks(runtime, stop), name="coach-crm")
        yield
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()


async def _ticks(runtime: CrmRuntime, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await runtime.tick()
        except Exception as exc:  # the database or the CRM is away: try again next tick
            log.warning(msg.CRM_TICK_FAILED.format(error=repr(exc)))
        try:
            await asyncio.wait_for(stop.wait(), timeout=TICK_SECONDS)
        except TimeoutError:
            pass
