"""Salesforce: the web-server flow with PKCE and the JWT bearer flow, a debrief as a completed Task
on the Opportunity plus a Task for the next step, an expired session refreshed once, the org's
request limit backed off, and a closed-won Opportunity read back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import create_app
from bot.config import OrgConfig, Settings
from bot.crm.install import install_grant
from bot.crm.runtime import CRM
from bot.scheduling.calendar import import_calendar
from storage import crm, crm_outcomes
from storage.crm_models import CrmStatus
from storage.models import Person
from tests.bot.crm.conftest import (
    SECRET_KEY,
    coach_crm_poll,
    crm_writes,
    due_now,
    file,
    ics,
    interval_passed,
    tick,
)
from tests.conftest import LiveApp
from tests.factories import make_person, make_settings
from tests.fakes.salesforce_api import FakeSalesforce
from tests.serving import serve


@pytest.fixture
async def salesforce() -> AsyncIterator[FakeSalesforce]:
    fake = await FakeSalesforce().start()
    yield fake
    await fake.close()


@pytest.fixture
def key_pair(tmp_path: Path) -> tuple[Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "server.key"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return pem, public


@pytest.fixture
def crm_settings() -> dict[str, Any]:
    return {"salesforce_client_id": "3MVG9-app", "salesforce_client_secret": "s3cret"}


@pytest.fixture
def settings(
    tmp_path: Path, org: OrgConfig, salesforce: FakeSalesforce, crm_settings: dict[str, Any]
) -> Settings:
    return make_settings(
        tmp_path, org=org, secret_key=SECRET_KEY, salesforce_login_url=salesforce.url, **crm_settings
    )


@pytest.fixture
async def acme(live_app: LiveApp, salesforce: FakeSalesforce, rep: Person) -> dict[str, str]:
    account = salesforce.add("Account", Name="ACME Holding", Website="https://www.acme.com/")
    salesforce.add("Account", Name="Acme", Website="acmebakery.nl")  # the same name, another company
    user = salesforce.add("User", Email="sanne@ourco.nl", IsActive=True)
    opp = salesforce.add(
        "Opportunity",
        Name="Acme pilot",
        AccountId=account,
        IsClosed=False,
        IsWon=False,
        CloseDate="2026-12-31",
        OwnerId=user,
    )
    assert rep.id is not None
    await import_calendar(ctx=live_app.coach, person_id=rep.id, data=ics("sanne@ourco.nl", "jan@acme.com"))
    return {"account": account, "user": user, "opportunity": opp}


async def outcomes_read_back(live: LiveApp, rep: Person) -> list[crm_outcomes.OutcomeRow]:
    """The won and lost deals stored for the rep, closed within two days of now."""
    assert rep.id is not None
    now = live.coach.clock()
    async with live.coach.db() as session:
        return await crm_outcomes.crm_outcomes_for(session, [rep.id], now - timedelta(days=2),
                                                   now + timedelta(days=2))


async def connect_by_oauth(live_app: LiveApp, rep: Person, http: aiohttp.ClientSession) -> None:
    grant = install_grant(live_app.app[CRM].box, crm_id="salesforce", workspace_id=rep.workspace_id)
    async with http.get(f"{live_app.url}/crm/salesforce/install", params={"grant": grant}) as resp:
        assert resp.status == 200, await resp.text()
        assert "Salesforce is now connected" in await resp.text()


async def test_pkce_install_then_a_debrief_is_a_completed_task_and_a_next_step_task(
    live_app: LiveApp,
    salesforce: FakeSalesforce,
    rep: Person,
    acme: dict[str, str],
    http: aiohttp.ClientSession,
) -> None:
    await connect_by_oauth(live_app, rep, http)
    [exchange] = [c for c in salesforce.calls if c.path == "/services/oauth2/token"]
    assert exchange.body["grant_type"] == "authorization_code" and len(exchange.body["code_verifier"]) >= 43
    await file(
        live_app,
        rep,
        account="Acme",
        customer_questions="Can it run on-premise?",
        answers_given="Not yet; EU cloud only.",
    )
    note, task = sorted(salesforce.tasks(), key=lambda t: t["Status"])
    assert note["Status"] == "Completed" and note["WhatId"] == acme["opportunity"]
    assert note["OwnerId"] == acme["user"] and note["Subject"].startswith("Debrief Acme")
    assert (
        "Can it run on-premise?" in note["Description"] and "Not yet; EU cloud only." in note["Description"]
    )
    assert task["Status"] == "Not Started" and task["ActivityDate"] == "2026-12-07"
    assert (
        task["Subject"].startswith("Next step with Acme: Pilot proposal")
        and task["WhatId"] == acme["opportunity"]
    )
    async with live_app.coach.db() as session:
        conn = await crm.connection_of(session=session, workspace_id=rep.workspace_id)
    assert conn is not None and conn.external_org == salesforce.org_id and conn.instance_url == salesforce.url


async def test_an_expired_session_is_refreshed_once_and_written_once(
    live_app: LiveApp,
    salesforce: FakeSalesforce,
    rep: Person,
    acme: dict[str, str],
    http: aiohttp.ClientSession,
) -> None:
    await connect_by_oauth(live_app, rep, http)
    salesforce.expire_sessions()
    await file(live_app, rep, account="Acme")
    grants = [c.body["grant_type"] for c in salesforce.calls if c.path == "/services/oauth2/token"]
    assert grants == ["authorization_code", "refresh_token"]
    assert len(salesforce.tasks()) == 2


async def test_a_revoked_refresh_token_marks_the_connection_broken(
    live_app: LiveApp,
    salesforce: FakeSalesforce,
    rep: Person,
    acme: dict[str, str],
    http: aiohttp.ClientSession,
) -> None:
    await connect_by_oauth(live_app, rep, http)
    salesforce.expire_sessions()
    salesforce.refresh_tokens.clear()
    await file(live_app, rep, account="Acme")
    async with live_app.coach.db() as session:
        conn = await crm.connection_of(session=session, workspace_id=rep.workspace_id)
    assert conn is not None and conn.status == CrmStatus.BROKEN and "invalid_grant" in (conn.reason or "")
    assert not salesforce.tasks()


async def test_the_request_limit_backs_off_and_writes_once(
    live_app: LiveApp,
    salesforce: FakeSalesforce,
    rep: Person,
    acme: dict[str, str],
    http: aiohttp.ClientSession,
) -> None:
    await connect_by_oauth(live_app, rep, http)
    salesforce.limit_next(1)
    await file(live_app, rep, account="Acme")
    [row] = await crm_writes(live_app)
    assert row["status"] == "pending" and "REQUEST_LIMIT_EXCEEDED" in row["last_error"]
    assert row["due_at"] > (live_app.coach.clock() + timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    await due_now(live_app, rep)
    await file(live_app, rep, account="Acme", customer_questions="(the second meeting)")
    assert len(salesforce.tasks()) == 4  # each debrief: one completed Task and one next-step Task


@pytest.fixture
def jwt_settings(key_pair: tuple[Path, str]) -> dict[str, Any]:
    return {
        "salesforce_client_id": "3MVG9-app",
        "salesforce_username": "coach@ourco.nl",
        "salesforce_private_key_file": str(key_pair[0]),
    }


async def test_jwt_server_install_and_a_closed_won_opportunity_comes_back(
    tmp_path: Path,
    org: OrgConfig,
    salesforce: FakeSalesforce,
    key_pair: tuple[Path, str],
    jwt_settings: dict[str, Any],
) -> None:
    salesforce.public_key = key_pair[1]
    app = create_app(
        make_settings(
            tmp_path, org=org, secret_key=SECRET_KEY, salesforce_login_url=salesforce.url, **jwt_settings
        )
    )
    runner, url = await serve(app)
    try:
        live = LiveApp(app, url)
        rep = await make_person(live.coach.db, user_id="U1", email="sanne@ourco.nl")
        account = salesforce.add("Account", Name="O'Brien & Co_", Website="obrien.example")
        opp = salesforce.add("Opportunity", Name="Renewal", AccountId=account, IsClosed=False, IsWon=False)
        await tick(live)
        [grant] = [c.body["grant_type"] for c in salesforce.calls if c.path == "/services/oauth2/token"]
        assert grant == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        await file(live, rep, account="O'Brien & Co_")  # quotes and wildcards escaped in SOQL
        assert {t["WhatId"] for t in salesforce.tasks()} == {opp}
        salesforce.close_opportunity(opp, won=True)
        await interval_passed(live)
        await tick(live)
        [row] = await outcomes_read_back(live, rep)
        assert row.outcome == "won"
    finally:
        await runner.cleanup()


async def test_coach_crm_poll_reads_a_closed_won_opportunity_with_a_refreshed_session(
    run_coach: Any,
    live_app: LiveApp,
    salesforce: FakeSalesforce,
    rep: Person,
    acme: dict[str, str],
    http: aiohttp.ClientSession,
) -> None:
    await connect_by_oauth(live_app, rep, http)
    await file(live_app, rep, account="Acme")
    salesforce.close_opportunity(acme["opportunity"], won=True)
    salesforce.expire_sessions()
    env = {
        "SALESFORCE_CLIENT_ID": "3MVG9-app",
        "SALESFORCE_CLIENT_SECRET": "s3cret",
        "SALESFORCE_LOGIN_URL": salesforce.url,
    }
    result = await coach_crm_poll(run_coach, live_app, "--json", **env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"workspace_id": rep.workspace_id, "crm": "salesforce", "closed_deals": 1, "won": 1, "lost": 0,
         "error": None}
    ]
    grants = [c.body["grant_type"] for c in salesforce.calls if c.path == "/services/oauth2/token"]
    assert grants == ["authorization_code", "refresh_token"]  # the stored refresh token, refreshed once
    [row] = await outcomes_read_back(live_app, rep)
    assert row.outcome == "won" and row.person_id == rep.id
    salesforce.refresh_tokens.clear()  # the connected app's access revoked in Salesforce
    salesforce.expire_sessions()
    refused = await coach_crm_poll(run_coach, live_app, **env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert refused.stdout.startswith(f"workspace {rep.workspace_id} (salesforce): could not read the deals: ")
    assert "invalid_grant" in refused.stdout
