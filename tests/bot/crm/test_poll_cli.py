"""`coach crm poll [--json]` as an operator runs it, against the fake HubSpot over HTTP: the won and
lost deals are read into storage and said; a revoked token or an unreachable HubSpot is one line
and exit code 1; the operator's poll ignores the replicas' claim and counts as the interval's poll."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from typing import Any

import pytest

from storage import crm, crm_outcomes
from storage.crm_models import CrmStatus
from storage.inbox import take_unseen
from storage.models import Person
from tests.bot.crm.conftest import coach_crm_poll, file, tick
from tests.conftest import LiveApp
from tests.fakes.hubspot_api import FakeHubSpot

DEAL_SEARCH = "/crm/v3/objects/deals/search"


async def hubspot_poll(
    run_coach: Any, live_app: LiveApp, hubspot_url: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return await coach_crm_poll(
        run_coach, live_app, *args, HUBSPOT_ACCESS_TOKEN="pat-test", HUBSPOT_API_URL=hubspot_url
    )


@pytest.fixture
async def closed(live_app: LiveApp, hubspot: FakeHubSpot, rep: Person) -> dict[str, str]:
    """Acme matched to its HubSpot company (a debrief filed), then one deal won and one lost there."""
    acme = hubspot.add_company("Acme", "acme.com")
    owner = hubspot.add_owner("sanne@ourco.nl")
    won = hubspot.add_deal("Acme pilot", acme, owner=owner)
    lost = hubspot.add_deal("Acme support", acme, owner=owner)
    await tick(live_app)  # connects HUBSPOT_ACCESS_TOKEN and reads the deals (none closed yet)
    await file(live_app, rep, account="Acme")
    hubspot.close_deal(won, won=True)
    hubspot.close_deal(lost, won=False)
    return {"won": won, "lost": lost}


async def outcomes(live_app: LiveApp, rep: Person) -> list[str]:
    """The rep's won / lost deals in storage (as the digest's win rate per deal reads them)."""
    assert rep.id is not None
    now = live_app.coach.clock()
    async with live_app.coach.db() as session:
        rows = await crm_outcomes.crm_outcomes_for(
            session, [rep.id], now - timedelta(days=1), now + timedelta(days=1)
        )
    return sorted(r.outcome for r in rows)


def searches(hubspot: FakeHubSpot) -> int:
    return len(hubspot.to("POST", DEAL_SEARCH))


async def test_poll_reads_the_won_and_lost_deals_and_says_so(
    run_coach: Any, live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, closed: dict[str, str]
) -> None:
    result = await hubspot_poll(run_coach, live_app, hubspot.url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"workspace {rep.workspace_id} (hubspot): 2 closed deals (1 won, 1 lost)\n"
    assert await outcomes(live_app, rep) == ["lost", "won"]


async def test_poll_json_reads_now_whatever_the_claim_and_counts_as_the_interval_poll(
    run_coach: Any, live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, closed: dict[str, str]
) -> None:
    await tick(live_app)
    before = searches(hubspot)  # a replica polled just now: the interval is taken
    result = await hubspot_poll(run_coach, live_app, hubspot.url, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"workspace_id": rep.workspace_id, "crm": "hubspot", "closed_deals": 2, "won": 1, "lost": 1,
         "error": None}
    ]
    assert searches(hubspot) == before + 1, "the operator's poll does not wait for the interval"
    assert await outcomes(live_app, rep) == ["lost", "won"]
    await tick(live_app)
    assert searches(hubspot) == before + 1, "the replicas' next poll is an interval after it"


async def test_a_revoked_token_is_one_clear_line_and_exit_code_1(
    run_coach: Any, live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, admin: Person,
    closed: dict[str, str],
) -> None:
    hubspot.revoke("pat-test")
    text = await hubspot_poll(run_coach, live_app, hubspot.url)
    assert text.returncode == 1 and "Traceback" not in text.stderr, text.stderr
    assert text.stdout == (
        f"workspace {rep.workspace_id} (hubspot): could not read the deals: "
        "the access token was refused and cannot be refreshed\n"
    )
    as_json = await hubspot_poll(run_coach, live_app, hubspot.url, "--json")
    assert as_json.returncode == 1 and "Traceback" not in as_json.stderr, as_json.stderr
    [row] = json.loads(as_json.stdout)
    assert row["closed_deals"] == 0 and "refused" in row["error"]
    assert await outcomes(live_app, rep) == []
    # as the background poll does: the connection is broken and the admin told, once for both runs
    async with live_app.coach.db() as session:
        conn = await crm.connection_of(session=session, workspace_id=rep.workspace_id)
    assert conn is not None and conn.status == CrmStatus.BROKEN and "refused" in (conn.reason or "")
    assert admin.id is not None
    async with live_app.coach.db() as session, session.begin():  # what the admin's web chat shows
        notices = await take_unseen(session=session, person_id=admin.id, limit=10, now=live_app.coach.clock())
    assert sum("HubSpot connection stopped working" in str(n) for n in notices) == 1


async def test_an_unreachable_hubspot_is_one_clear_line_and_exit_code_1(
    run_coach: Any, live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, closed: dict[str, str]
) -> None:
    result = await hubspot_poll(run_coach, live_app, "http://127.0.0.1:1")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(f"workspace {rep.workspace_id} (hubspot): could not read the deals: ")
    assert "127.0.0.1:1" in line and "Cannot connect" in line, line
    assert await outcomes(live_app, rep) == []
    later = await hubspot_poll(run_coach, live_app, hubspot.url)  # HubSpot is back: no interval to wait
    assert later.returncode == 0 and "2 closed deals (1 won, 1 lost)" in later.stdout, later.stdout
