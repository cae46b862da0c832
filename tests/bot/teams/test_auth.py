"""Who may POST to /api/messages: JWT-validated with an app id; without one nobody (404), unless the
local Emulator is turned on, which serves this machine's Emulator only (no browser page, no
DNS-rebinding host, no reply to a server the caller names)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import channel_status, create_app
from bot.config import OrgConfig, Settings
from storage.models import Person, Workspace
from tests.bot.teams.conftest import TeamsConversation, TeamsUser, count, emulator_on
from tests.conftest import CoachRun, LiveApp
from tests.factories import make_settings
from tests.fakes.connector import FakeConnector, start_connector
from tests.serving import serve

APP_ID = "6f1d3e5a-0000-4000-8000-00000000c0ac"

# What a page in a browser (another site, or a DNS-rebinding name for 127.0.0.1) can send, and an
# activity naming a server of the caller's as the place for replies.
CROSS_SITE: dict[str, dict[str, Any]] = {
    "text_plain_posing_as_json": {"headers": {"Content-Type": "text/plain; x=application/json"}},
    "origin_of_another_site": {"headers": {"Origin": "https://evil.example"}},
    "dns_rebinding_host": {"headers": {"Host": "evil.example"}},
    "rebinding_host_with_port": {"headers": {"Host": "evil.example:3978"}},
    "replies_to_another_server": {"service_url": "https://evil.example/"},
    "replies_to_a_lookalike": {"service_url": "http://localhost.evil.example:8080/"},
    "replies_behind_userinfo": {"service_url": "http://localhost@evil.example/"},
    "no_service_url": {"service_url": None},
}


async def post_raw(rep: TeamsUser, case: dict[str, Any], **fields: object) -> aiohttp.ClientResponse:
    """POST an activity as raw bytes with exactly these headers (and serviceUrl) changed."""
    activity = rep.activity(**{"text": "debrief Acme", **fields})
    if "service_url" in case:
        activity["serviceUrl"] = case["service_url"]
        if case["service_url"] is None:
            del activity["serviceUrl"]
    headers = {"Content-Type": "application/json", **case.get("headers", {})}
    async with rep.http.post(f"{rep.live.url}/api/messages", data=json.dumps(activity).encode(),
                             headers=headers) as resp:
        await resp.read()
        return resp


async def assert_nothing_stored(rep: TeamsUser, *connectors: FakeConnector) -> None:
    assert await count(rep.live, Workspace) == 0
    assert await count(rep.live, Person) == 0
    assert await count(rep.live, TeamsConversation) == 0
    for fake in (rep.connector, *connectors):
        assert fake.calls == []


class TestWithAnAppId:
    @pytest.fixture
    def settings(self, tmp_path: Path, org: OrgConfig) -> Settings:
        return make_settings(tmp_path, org=org,
                             microsoft_app_id=APP_ID, microsoft_app_password="test-password-not-used")

    async def assert_nothing_stored(self, rep: TeamsUser) -> None:
        await assert_nothing_stored(rep)

    @pytest.mark.parametrize("case", CROSS_SITE)
    async def test_cross_site_and_rebinding_unsigned_get_401(self, rep: TeamsUser, case: str) -> None:
        resp = await post_raw(rep, CROSS_SITE[case])
        assert resp.status == 401
        await self.assert_nothing_stored(rep)

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


class TestOffWithoutAnAppId:
    """No app id and the Emulator not turned on (every Slack-only or web-chat-only install)."""

    @pytest.fixture
    def settings(self, tmp_path: Path, org: OrgConfig) -> Settings:
        return make_settings(tmp_path, org=org)

    async def test_a_well_formed_local_activity_gets_404_and_changes_nothing(self, rep: TeamsUser) -> None:
        resp = await rep.post(rep.activity(text="debrief Acme"))
        assert resp.status == 404
        await assert_nothing_stored(rep)

    @pytest.mark.parametrize("case", CROSS_SITE)
    async def test_cross_site_and_rebinding_requests_get_404(self, rep: TeamsUser, case: str) -> None:
        resp = await post_raw(rep, CROSS_SITE[case])
        assert resp.status == 404
        await assert_nothing_stored(rep)


class TestEmulatorMode:
    """server.teams_emulator on (the conftest's settings): the Emulator on this machine is served;
    anyone else, and anything a browser page could send, is refused."""

    async def test_loopback_is_served(self, rep: TeamsUser) -> None:
        assert await rep.say("help") == 201
        assert len(rep.connector.sent()) == 1

    @pytest.mark.parametrize("headers", [
        {"Content-Type": "application/json; charset=utf-8"},
        {"Host": "localhost:3978"},
        {"Host": "LOCALHOST"},
        {"Host": "[::1]:3978"},
        {"Host": "127.0.0.1"},
    ])
    async def test_what_the_emulator_sends_is_served(self, rep: TeamsUser, headers: dict[str, str]) -> None:
        resp = await post_raw(rep, {"headers": headers})
        assert resp.status == 201
        assert await count(rep.live, Person) == 1
        assert len(rep.connector.sent()) == 1  # the card, to the Emulator's own (loopback) URL

    @pytest.mark.parametrize(("case", "status"), [
        ("text_plain_posing_as_json", 415),
        ("origin_of_another_site", 403),
        ("dns_rebinding_host", 403),
        ("rebinding_host_with_port", 403),
        ("replies_to_another_server", 403),
        ("replies_to_a_lookalike", 403),
        ("replies_behind_userinfo", 403),
        ("no_service_url", 400),  # not a Bot Framework activity at all
    ])
    async def test_cross_site_and_rebinding_requests_are_refused(
        self, rep: TeamsUser, case: str, status: int
    ) -> None:
        resp = await post_raw(rep, CROSS_SITE[case])
        assert resp.status == status
        await assert_nothing_stored(rep)

    async def test_even_a_local_origin_is_refused(self, rep: TeamsUser) -> None:
        resp = await post_raw(rep, {"headers": {"Origin": rep.live.url}})
        assert resp.status == 403
        await assert_nothing_stored(rep)

    async def test_no_reply_goes_to_a_server_on_another_address(
        self, rep: TeamsUser, live_app: LiveApp
    ) -> None:
        """A real server on this machine's LAN address (not loopback) as the serviceUrl: refused, and
        that server hears nothing; a rep's history can't be sent to a server the caller names."""
        address = _lan_address()
        if address is None:
            pytest.skip("this machine has no non-loopback IPv4 address to test from")
        elsewhere, runner = await start_connector(address)
        try:
            assert await rep.say("help") == 201  # the rep has a history with the bot
            before = len(rep.connector.calls)
            resp = await post_raw(rep, {"service_url": elsewhere.url}, text="history")
            assert resp.status == 403
            assert elsewhere.calls == []
            assert len(rep.connector.calls) == before
        finally:
            await runner.cleanup()

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


class TestWhatTheStartUpLineSays:
    def teams_line(self, settings: Settings) -> str:
        (line,) = [line for line in channel_status(settings, "127.0.0.1", 3978) if line.startswith("Teams:")]
        return line

    def test_off_without_an_app_id(self, org: OrgConfig) -> None:
        line = self.teams_line(make_settings(org=org))
        assert line.startswith("Teams: off") and "--teams-emulator" in line

    def test_emulator_when_turned_on(self, org: OrgConfig) -> None:
        line = self.teams_line(make_settings(org=emulator_on(org)))
        assert line.startswith("Teams: Emulator mode") and "loopback only" in line

    def test_on_with_an_app_id_the_emulator_setting_aside(self, org: OrgConfig) -> None:
        settings = make_settings(org=emulator_on(org), microsoft_app_id=APP_ID,
                                 microsoft_app_password="test-password-not-used")
        assert self.teams_line(settings) == f"Teams: on at POST /api/messages (app id {APP_ID})"


def test_the_app_yaml_setting_turns_the_emulator_on(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("server:\n  teams_emulator: true\n", encoding="utf-8")
    settings = Settings.load({"COACH_CONFIG": str(tmp_path / "app.yaml")})
    assert settings.org.server.teams_emulator is True
    assert Settings.load({"COACH_CONFIG": os.devnull}).org.server.teams_emulator is False


@pytest.mark.parametrize("flag", [True, False])
async def test_coach_serve_teams_emulator_flag(
    flag: bool, run_coach: CoachRun, tmp_path: Path, http: aiohttp.ClientSession, connector: FakeConnector
) -> None:
    """`coach serve --teams-emulator` serves the Emulator; without the flag the endpoint is absent."""
    args = [*run_coach.command(), "serve", "--port", "0", *(["--teams-emulator"] if flag else [])]
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=tmp_path, env=run_coach.env(COACH_CONFIG=os.devnull),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(60):
            while "is listening on" not in (lines[-1] if lines else ""):
                lines.append((await proc.stdout.readline()).decode().rstrip("\n"))
                assert lines[-1] or proc.returncode is None, lines
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", lines[-1])
        assert port is not None, lines
        (teams,) = [line for line in lines if line.startswith("Teams:")]
        assert teams.startswith("Teams: Emulator mode" if flag else "Teams: off"), teams
        rep = TeamsUser(LiveApp(web.Application(), f"http://127.0.0.1:{port.group(1)}"), http, connector)
        resp = await rep.post(rep.activity(text="help"))
        assert resp.status == (201 if flag else 404)
        assert len(connector.sent()) == (1 if flag else 0)
    finally:
        proc.terminate()
        await proc.wait()
