"""Connecting a workspace's CRM by OAuth: `GET /crm/hubspot/install`, `GET /crm/salesforce/install`
(the web-server flow with PKCE) and their callbacks. An install link carries a grant that
`coach crm connect` signs for one workspace (valid an hour), so nobody can point a workspace's
debriefs at a CRM of their own; the OAuth state is signed too (and holds the PKCE verifier, sealed),
so any replica can finish what another started."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from aiohttp import web

from bot import log_messages as msg
from bot.config import Settings
from bot.crm import hubspot, salesforce
from bot.crm.connectors import OAUTH, Connectors
from bot.crm.tokens import TokenBox
from bot.delivery import DeliveryError
from dialogs.crm_entry import crm_name
from dialogs.text import Texts
from storage import crm

log = logging.getLogger("coach.crm")
GRANT_SECONDS = 3600
STATE_SECONDS = 600


def install_grant(box: TokenBox, *, crm_id: str, workspace_id: int) -> str:
    return box.sign({"crm": crm_id, "w": workspace_id, "n": secrets.token_hex(8)})


class InstallRoutes:
    def __init__(
        self, *, settings: Settings, box: TokenBox, connectors: Connectors, texts: Texts, on_connected: Any
    ) -> None:
        self.s = settings
        self.box = box
        self.c = connectors
        self.texts = texts
        self.on_connected = on_connected  # called with (workspace id, crm) after a connection is stored

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/crm/hubspot/install", self.hubspot_install)
        app.router.add_get("/crm/hubspot/oauth_callback", self.hubspot_callback)
        app.router.add_get("/crm/salesforce/install", self.salesforce_install)
        app.router.add_get("/crm/salesforce/oauth_callback", self.salesforce_callback)

    def _page(self, key: str, status: int, **values: Any) -> web.Response:
        text = self.texts.render(self.s.org.default_locale, "crm", key, **values)
        body = f"<!doctype html><meta charset='utf-8'><title>Closing Coach</title><p>{_escape(text)}</p>"
        return web.Response(text=body, status=status, content_type="text/html")

    def _redirect_uri(self, request: web.Request, crm_id: str) -> str:
        base = self.s.org.crm.public_url or f"{request.scheme}://{request.host}"
        return f"{base.rstrip('/')}/crm/{crm_id}/oauth_callback"

    def _granted(self, request: web.Request, crm_id: str) -> int | None:
        grant = self.box.verify(request.query.get("grant", ""), max_age=GRANT_SECONDS)
        if grant is None or grant.get("crm") != crm_id or not isinstance(grant.get("w"), int):
            log.warning(msg.CRM_INSTALL_REFUSED.format(reason=f"{crm_id}: no valid grant"))
            return None
        return _int(grant["w"])

    def _state(self, request: web.Request, crm_id: str) -> dict[str, object] | None:
        state = self.box.verify(request.query.get("state", ""), max_age=STATE_SECONDS)
        if state is None or state.get("crm") != crm_id or not isinstance(state.get("w"), int):
            log.warning(msg.CRM_INSTALL_REFUSED.format(reason=f"{crm_id}: bad or stale OAuth state"))
            return None
        return state

    async def hubspot_install(self, request: web.Request) -> web.StreamResponse:
        if not (self.s.hubspot_client_id and self.s.hubspot_client_secret):
            raise web.HTTPNotFound()
        workspace_id = self._granted(request, hubspot.NAME)
        if workspace_id is None:
            return self._page("install_refused", 403)
        state = self.box.sign({"crm": hubspot.NAME, "w": workspace_id})
        raise web.HTTPFound(
            hubspot.authorize_url(
                self.s.hubspot_app_url,
                client_id=self.s.hubspot_client_id,
                redirect_uri=self._redirect_uri(request, hubspot.NAME),
                state=state,
            )
        )

    async def hubspot_callback(self, request: web.Request) -> web.StreamResponse:
        if not (self.s.hubspot_client_id and self.s.hubspot_client_secret):
            raise web.HTTPNotFound()
        state = self._state(request, hubspot.NAME)
        if state is None:
            return self._page("install_refused", 403)
        if "code" not in request.query:
            return self._page(
                "install_failed", 400, crm="HubSpot", reason=request.query.get("error", "no code")
            )
        try:
            creds = await hubspot.exchange_code(
                self.c.http,
                self.s.hubspot_api_url,
                client_id=self.s.hubspot_client_id,
                client_secret=self.s.hubspot_client_secret.get_secret_value(),
                redirect_uri=self._redirect_uri(request, hubspot.NAME),
                code=request.query["code"],
                now=self.c.clock(),
            )
        except DeliveryError as exc:
            return self._page("install_failed", 502, crm="HubSpot", reason=exc.message)
        portal = await hubspot.portal_of(self.c.http, self.s.hubspot_api_url, creds.access_token)
        return await self._store(_int(state["w"]), hubspot.NAME, self.box.seal(creds), None, portal)

    async def salesforce_install(self, request: web.Request) -> web.StreamResponse:
        if not self.s.salesforce_client_id:
            raise web.HTTPNotFound()
        workspace_id = self._granted(request, salesforce.NAME)
        if workspace_id is None:
            return self._page("install_refused", 403)
        verifier, challenge = salesforce.pkce_pair()
        state = self.box.sign({"crm": salesforce.NAME, "w": workspace_id, "v": verifier})
        raise web.HTTPFound(
            salesforce.authorize_url(
                self.s.salesforce_login_url,
                client_id=self.s.salesforce_client_id,
                redirect_uri=self._redirect_uri(request, salesforce.NAME),
                state=state,
                challenge=challenge,
            )
        )

    async def salesforce_callback(self, request: web.Request) -> web.StreamResponse:
        if not self.s.salesforce_client_id:
            raise web.HTTPNotFound()
        state = self._state(request, salesforce.NAME)
        if state is None:
            return self._page("install_refused", 403)
        if "code" not in request.query:
            return self._page(
                "install_failed",
                400,
                crm="Salesforce",
                reason=request.query.get("error_description") or request.query.get("error", "no code"),
            )
        secret = self.s.salesforce_client_secret
        try:
            creds, org = await salesforce.exchange_code(
                self.c.http,
                self.s.salesforce_login_url,
                client_id=self.s.salesforce_client_id,
                client_secret=secret.get_secret_value() if secret else None,
                redirect_uri=self._redirect_uri(request, salesforce.NAME),
                code=request.query["code"],
                verifier=str(state.get("v") or ""),
            )
        except DeliveryError as exc:
            return self._page("install_failed", 502, crm="Salesforce", reason=exc.message)
        return await self._store(
            _int(state["w"]),
            salesforce.NAME,
            self.box.seal(creds),
            creds.instance_url,
            org,
        )

    async def _store(
        self, workspace_id: int, crm_id: str, tokens: str, instance_url: str | None, org: str | None
    ) -> web.Response:
        async with self.c.db() as session, session.begin():
            await crm.connect(
                session=session,
                workspace_id=workspace_id,
                crm=crm_id,
                source=OAUTH,
                tokens=tokens,
                now=self.c.clock(),
                instance_url=instance_url,
                external_org=org,
            )
        log.info(msg.CRM_CONNECTED.format(workspace=workspace_id, crm=crm_id, source=OAUTH))
        self.on_connected(workspace_id, crm_id)
        return self._page("install_connected", 200, crm=crm_name(crm_id), workspace=str(workspace_id))


def _int(value: object) -> int:
    """A workspace id from a signed value (checked to be an int when it was verified)."""
    assert isinstance(value, int)
    return value


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
