"""A workspace's CRM connection made live on this replica: its tokens opened, refreshed ahead of
expiry or once after a 401 (another replica's fresher token adopted first), and the CrmApi of its
vendor. A third CRM adds its classifier, refresh and api here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.crm import hubspot, salesforce
from bot.crm.api import CrmApi, CrmUnauthorized
from bot.crm.tokens import Credentials, TokenBox, TokenUnreadable
from bot.crm.transport import Classifier, Throttle, Transport
from storage import crm
from storage.crm_models import CrmConnection
from storage.models import not_null

TOKEN, OAUTH, JWT = "token", "oauth", "jwt"  # where a connection's token comes from


@dataclass(frozen=True)
class Vendor:
    classify: Classifier


VENDORS = {hubspot.NAME: Vendor(hubspot.classify), salesforce.NAME: Vendor(salesforce.classify)}


class Connectors:
    """The live side of every CRM connection on this replica (one HTTP session, one throttle each)."""

    def __init__(
        self,
        *,
        settings: Settings,
        box: TokenBox,
        http: aiohttp.ClientSession,
        db: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.box = box
        self.http = http
        self.db = db
        self.clock = clock
        self.throttles: dict[int, Throttle] = {}

    def credentials(self, conn: CrmConnection) -> Credentials:
        if conn.crm == hubspot.NAME and conn.source == TOKEN:
            token = self.settings.hubspot_access_token
            if token is None:
                raise CrmUnauthorized("HUBSPOT_ACCESS_TOKEN is no longer set")
            return Credentials(token.get_secret_value())
        try:
            return self.box.open(conn.tokens)
        except TokenUnreadable as exc:
            raise CrmUnauthorized(exc.message) from None

    def api(self, conn: CrmConnection) -> CrmApi:
        """The CrmApi for this connection (raises CrmUnauthorized when its tokens can't be read)."""
        creds = self.credentials(conn)
        conn_id = not_null(conn.id)
        auth = ConnectionAuth(self, conn, creds)
        throttle = self.throttles.setdefault(conn_id, Throttle())
        transport = Transport(self.http, auth, VENDORS[conn.crm].classify, throttle)
        if conn.crm == hubspot.NAME:
            return hubspot.HubSpotApi(transport, self.settings.hubspot_api_url)
        instance = creds.instance_url or conn.instance_url or self.settings.salesforce_login_url
        return salesforce.SalesforceApi(transport, instance, self.settings.salesforce_api_version)

    def refresher(self, conn: CrmConnection) -> Callable[[Credentials], Awaitable[Credentials]]:
        s, now = self.settings, self.clock()
        secret = s.hubspot_client_secret.get_secret_value() if s.hubspot_client_secret else ""
        sf_secret = s.salesforce_client_secret.get_secret_value() if s.salesforce_client_secret else None

        async def cannot(_: Credentials) -> Credentials:
            raise CrmUnauthorized("the access token was refused and cannot be refreshed")

        async def hubspot_oauth(creds: Credentials) -> Credentials:
            return await hubspot.refresh(
                self.http,
                s.hubspot_api_url,
                client_id=s.hubspot_client_id or "",
                client_secret=secret,
                creds=creds,
                now=now,
            )

        async def salesforce_oauth(creds: Credentials) -> Credentials:
            return await salesforce.refresh(
                self.http,
                s.salesforce_login_url,
                client_id=s.salesforce_client_id or "",
                client_secret=sf_secret,
                creds=creds,
            )

        async def salesforce_jwt(_: Credentials) -> Credentials:
            creds, _org = await self.jwt_token()
            return creds

        if conn.crm == hubspot.NAME:
            return hubspot_oauth if conn.source == OAUTH else cannot
        return salesforce_jwt if conn.source == JWT else salesforce_oauth

    async def jwt_token(self) -> tuple[Credentials, str | None]:
        s = self.settings
        if not (s.salesforce_client_id and s.salesforce_username and s.salesforce_private_key_file):
            raise CrmUnauthorized("the Salesforce JWT settings are incomplete")
        try:
            key = await asyncio.to_thread(Path(s.salesforce_private_key_file).read_text, encoding="utf-8")
        except OSError as exc:
            raise CrmUnauthorized(f"SALESFORCE_PRIVATE_KEY_FILE cannot be read: {exc.strerror}") from None
        return await salesforce.jwt_bearer(
            self.http,
            s.salesforce_login_url,
            client_id=s.salesforce_client_id,
            username=s.salesforce_username,
            private_key=key,
            now=self.clock(),
        )


class ConnectionAuth:
    """The transport's tokens for one connection; a refreshed token is stored (sealed) for all."""

    def __init__(self, connectors: Connectors, conn: CrmConnection, creds: Credentials) -> None:
        self.c = connectors
        self.conn = conn
        self.creds = creds

    async def token(self) -> str:
        if self.creds.due_for_refresh(self.c.clock()):
            await self._renew(self.creds.access_token)
        return self.creds.access_token

    async def refresh(self, refused: str) -> str:
        await self._renew(refused)
        return self.creds.access_token

    async def _renew(self, refused: str) -> None:
        conn_id = not_null(self.conn.id)
        if self.conn.source != TOKEN:
            async with self.c.db() as session:
                row = await crm.connection_by_id(session=session, connection_id=conn_id)
            if row is not None and row.tokens:
                stored = self.c.credentials(row)
                if stored.access_token != refused and not stored.due_for_refresh(self.c.clock()):
                    self.creds = stored  # another replica refreshed it meanwhile
                    return
        self.creds = await self.c.refresher(self.conn)(self.creds)
        async with self.c.db() as session, session.begin():
            await crm.save_tokens(
                session=session,
                connection_id=conn_id,
                tokens=self.c.box.seal(self.creds),
                now=self.c.clock(),
                instance_url=self.creds.instance_url,
            )
