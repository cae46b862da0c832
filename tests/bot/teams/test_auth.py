"""Who may POST to /api/messages: JWT-validated with an app id, loopback only without one."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import create_app
from bot.config import OrgConfig, Settings
from storage.models import Person, Workspace
from tests.bot.teams.conftest import TeamsConversation, TeamsUser, count
from tests.conftest import LiveApp
from tests.factories import make_settings
from tests.fakes.connector import FakeConnector
from tests.serving import serve

APP_ID = "6f1d3e5a-0000-4000-8000-00000000c0ac"


class TestWithAnAppId:
    @pytest.fixture
    def settings(self, tmp_path: Path, org: OrgConfig) -> Settings:
        return make_settings(tmp_path, org=org,
                             microsoft_app_id=APP_ID, microsoft_app_password="test-password-not-used")

    async def assert_nothing_stored(self, rep: TeamsUser) -> None:
        assert await count(rep.live, Workspace) == 0
        assert await count(rep.live, Person) == 0
        assert await count(rep.live, TeamsConversation) == 0
        assert rep.connector.calls == []

    async def test_unsigned_activity_gets_401_and_changes_nothing(self, rep: TeamsUser) -> None:
        resp = await rep.post(rep.activity(text="debrief Acme"))
        assert resp.status == 401
        await self.assert_nothing_stored(rep)

    async def test_malformed_bearer_token_gets_401(self, rep: TeamsUser) -> None:
        for header in ("Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"):
            resp = await rep.post(rep.activity(text="debrief Acme"), headers={"Authorization": header})
            assert resp.status == 401, header
        await self.assert_nothing_stored(rep)

    async def test_token_signed_by_someone_else_gets_401(self, rep: TeamsUser) -> None:
        # A well-formed JWT for our app id and this service URL, but not issued by the Bot
        # Framework: botbuilder refuses the issuer before it would look up any signing key.
        now = int(time.time())
        forged = jwt.encode({"iss": "https://evil.example", "aud": APP_ID, "serviceurl": rep.connector.url,
                             "iat": now, "nbf": now, "exp": now + 600},
                            rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256")
        headers = {"Authorization": f"Bearer {forged}"}
        resp = await rep.post(rep.activity(text="debrief Acme"), headers=headers)
        assert resp.status == 401
        await self.assert_nothing_stored(rep)


class TestEmulatorMode:
    """No app id: the Emulator (on this machine) is served; anyone else is refused."""

    async def test_loopback_is_served(self, rep: TeamsUser) -> None:
        assert await rep.say("help") == 201
        assert len(rep.connector.sent()) == 1

    @pytest.fixture
    async def lan_app(self, settings: Settings) -> AsyncIterator[LiveApp]:
        """The same app on a non-loopback address of this machine (skips where there is none)."""
        address = _lan_address()
        if address is None:
            pytest.skip("this machine has no non-loopback IPv4 address to test from")
        app = create_app(settings)
        runner, url = await serve(app, address)
        yield LiveApp(app, url)
        await runner.cleanup()

    async def test_other_addresses_get_401_and_change_nothing(
        self, lan_app: LiveApp, http: aiohttp.ClientSession, connector: FakeConnector
    ) -> None:
        rep = TeamsUser(lan_app, http, connector)
        resp = await rep.post(rep.activity(text="debrief Acme"))
        assert resp.status == 401
        assert await count(lan_app, Person) == 0
        assert connector.calls == []


def _lan_address() -> str | None:
    """An IPv4 address of this machine other than loopback (the one a default route would use)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address


class TestSigningKeys:
    """botbuilder fetches the Bot Framework's signing keys with blocking `requests`; the coach runs
    that fetch in a thread (one at a time), and tokens signed with the fetched keys still validate."""

    async def test_keys_are_fetched_off_the_event_loop_once_and_tokens_validate(
        self, monkeypatch: pytest.MonkeyPatch, org: OrgConfig, tmp_path: Path
    ) -> None:
        from botframework.connector.auth import (
            AuthenticationConstants,
            ChannelValidation,
            JwtTokenExtractor,
        )
        from jwt.algorithms import RSAAlgorithm

        from bot.teams import auth as teams_auth
        from bot.teams import botbuilder_internals
        from bot.teams.connector import ConnectorPool

        teams_auth.CoachBotAuthentication(make_settings(
            tmp_path, database_url="sqlite+aiosqlite://", org=org,
            microsoft_app_id=APP_ID), ConnectorPool())  # installs the threaded refresh
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "k1", "endorsements": ["msteams"]}
        fetched: list[tuple[str, str]] = []

        class Answer:
            def __init__(self, body: dict[str, object]) -> None:
                self.body = body

            def raise_for_status(self) -> None:
                pass

            def json(self) -> dict[str, object]:
                return self.body

        def fake_get(url: str, timeout: float) -> Answer:
            fetched.append((url, threading.current_thread().name))
            time.sleep(0.05)
            return Answer({"jwks_uri": "https://keys.example/"} if url != "https://keys.example/"
                          else {"keys": [jwk]})

        monkeypatch.setattr(botbuilder_internals.requests, "get", fake_get)
        monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
        extractor = JwtTokenExtractor(ChannelValidation.TO_BOT_FROM_CHANNEL_TOKEN_VALIDATION_PARAMETERS,
                                      AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
                                      AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS)
        now = int(time.time())
        token = jwt.encode({"iss": AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER, "aud": APP_ID,
                            "serviceurl": "https://smba.example/", "iat": now, "nbf": now, "exp": now + 600},
                           key, algorithm="RS256", headers={"kid": "k1"})
        identities = await asyncio.gather(*(
            extractor.get_identity_from_auth_header(f"Bearer {token}", "msteams") for _ in range(5)))
        assert all(i is not None and i.get_claim_value("aud") == APP_ID for i in identities)
        assert len(fetched) == 2  # the OpenID document and the keys, once for the five turns
        assert all(thread != threading.main_thread().name for _, thread in fetched)
