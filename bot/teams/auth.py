"""Bot Framework authentication for the coach: botbuilder's own JWT validation inbound, and
connector clients (with botbuilder's own credentials) reused per service URL outbound.

Inbound requests are validated exactly as the stock CloudAdapter does
(`ConfigurationBotFrameworkAuthentication`); only what it builds per turn for sending (a connector
client, a user-token client) is replaced by pooled equivalents, and the signing keys are fetched off
the event loop (bot/teams/botbuilder_internals.py).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from bot.config import Settings
from bot.teams.botbuilder_internals import fetch_signing_keys_in_a_thread
from bot.teams.connector import ConnectorPool, TeamsConnectorClient

# Off: botbuilder's create_user_token_client per turn (bench/bench_teams.py --without token-client):
# 3.3-5.7 instead of 0.6-2.8 ms bot CPU/turn, 60-86% of the speed-up. Public API either way.
REUSE_USER_TOKEN_CLIENT = True


def bot_configuration(settings: Settings) -> SimpleNamespace:
    """The configuration object botbuilder's factories read (APP_ID, APP_PASSWORD, ...)."""
    password = settings.microsoft_app_password
    return SimpleNamespace(
        APP_ID=settings.microsoft_app_id or "",
        APP_PASSWORD=password.get_secret_value() if password else "",
        APP_TYPE=settings.microsoft_app_type or "MultiTenant",
        APP_TENANTID=settings.microsoft_app_tenant_id or "",
    )


def app_id_of(claims: ClaimsIdentity) -> str:
    # As botbuilder's _BuiltinBotFrameworkAuthentication.get_app_id: audience, else appid claim.
    return (claims.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
            or claims.get_claim_value(AuthenticationConstants.APP_ID_CLAIM) or "")


class PooledConnectorFactory(ConnectorFactory):
    """Hands out the pool's connector client for a service URL, with credentials made once."""

    def __init__(self, auth: CoachBotAuthentication, app_id: str) -> None:
        self._auth = auth
        self._app_id = app_id

    async def create(self, service_url: str, audience: str | None = None) -> TeamsConnectorClient:
        scope = audience or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        credentials = await self._auth.credentials(self._app_id, scope)
        return self._auth.pool.client(service_url, credentials, scope)


class CoachBotAuthentication(BotFrameworkAuthentication):
    def __init__(self, settings: Settings, pool: ConnectorPool) -> None:
        fetch_signing_keys_in_a_thread()
        configuration = bot_configuration(settings)
        self.pool = pool
        self.credentials_factory = ConfigurationServiceClientCredentialFactory(configuration)
        self._inner = ConfigurationBotFrameworkAuthentication(
            configuration, credentials_factory=self.credentials_factory
        )
        self._credentials: dict[tuple[str, str], Any] = {}
        self._factories: dict[str, PooledConnectorFactory] = {}
        self._token_clients: dict[str, UserTokenClient] = {}

    async def credentials(self, app_id: str, scope: str) -> Any:
        key = (app_id, scope)
        if key not in self._credentials:
            self._credentials[key] = await self.credentials_factory.create_credentials(
                app_id, scope, AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX, True
            )
        return self._credentials[key]

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        # CloudAdapter passes "" for a missing header; botbuilder treats only None as "no header".
        try:
            result = await self._inner.authenticate_request(activity, auth_header or None)
        except PermissionError:
            raise
        except Exception as exc:  # a malformed token, an unknown key: unauthenticated all the same
            raise PermissionError(f"invalid token ({type(exc).__name__})") from exc
        result.connector_factory = self.create_connector_factory(result.claims_identity)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> PooledConnectorFactory:
        app_id = app_id_of(claims_identity)
        factory = self._factories.get(app_id)
        if factory is None:
            factory = self._factories[app_id] = PooledConnectorFactory(self, app_id)
        return factory

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        # The stock path builds a msrest TokenApiClient per turn; the coach never signs users in
        # (no OAuth prompt), so botbuilder's own client, made once per app id, is plenty.
        if not REUSE_USER_TOKEN_CLIENT:
            return await self._inner.create_user_token_client(claims_identity)
        app_id = app_id_of(claims_identity)
        client = self._token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[app_id] = client
        return client

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
