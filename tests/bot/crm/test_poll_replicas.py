"""Deal stages are read back once per connection and crm.poll_minutes across replicas: two apps on
one database (a SQLite file; the real PostgreSQL) ask the fake HubSpot once per interval, a replica
that died holding the claim or a poll that failed leaves the next interval's poll to whoever comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import OrgConfig, Settings
from storage import crm, crm_outcomes
from tests.bot.crm.conftest import SECRET_KEY, interval_passed, tick
from tests.conftest import LiveApp
from tests.factories import make_person, make_settings
from tests.fakes.hubspot_api import FakeHubSpot
from tests.serving import serve

DEAL_SEARCH = "/crm/v3/objects/deals/search"


@pytest.fixture
def shared_url(database_url: str, engine: AsyncEngine, tmp_path: Path) -> str:
    """One database both replicas open: PostgreSQL (emptied and migrated), else a SQLite file."""
    if database_url.startswith("postgresql"):
        return database_url
    return f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig, hubspot: FakeHubSpot, shared_url: str) -> Settings:
    return make_settings(
        tmp_path,
        org=org,
        database_url=shared_url,
        secret_key=SECRET_KEY,
        hubspot_api_url=hubspot.url,
        hubspot_app_url=hubspot.url,
        hubspot_access_token="pat-test",
    )


@pytest.fixture
async def replicas(live_app: LiveApp, settings: Settings) -> AsyncIterator[tuple[LiveApp, LiveApp]]:
    """Two `coach serve` processes on the one database, the workspace's HubSpot connected."""
    await make_person(live_app.coach.db, user_id="U1", email="sanne@ourco.nl")
    await tick(live_app)  # connects HUBSPOT_ACCESS_TOKEN to the workspace, and polls
    runner, url = await serve(create_app(settings))
    try:
        other = LiveApp(runner.app, url)
        async with asyncio.timeout(10):  # the second one's first tick (at start) is over
            while True:  # another app's background task: no event of ours to wait on
                if other.coach.crm_of:
                    break
                await asyncio.sleep(0.01)
        yield live_app, other
    finally:
        await runner.cleanup()


def polls(hubspot: FakeHubSpot) -> int:
    """How often HubSpot was asked for the deals modified since the watermark (any answer)."""
    return len([c for c in hubspot.calls if c.method == "POST" and c.path == DEAL_SEARCH])


async def test_two_replicas_poll_each_connection_once_per_interval(
    replicas: tuple[LiveApp, LiveApp], hubspot: FakeHubSpot
) -> None:
    first, second = replicas
    assert polls(hubspot) == 1
    await tick(second)
    await asyncio.gather(tick(first), tick(second), tick(first), tick(second))
    assert polls(hubspot) == 1, "within the interval nobody polls again"
    await interval_passed(first)
    await asyncio.gather(tick(first), tick(second))
    assert polls(hubspot) == 2, "the next interval: one poll, by one of the two"
    await asyncio.gather(tick(second), tick(first))
    assert polls(hubspot) == 2
    await interval_passed(second)
    await tick(second)
    assert polls(hubspot) == 3


async def test_a_replica_that_died_holding_the_claim_leaves_the_next_interval_to_the_other(
    replicas: tuple[LiveApp, LiveApp], hubspot: FakeHubSpot
) -> None:
    first, second = replicas
    await interval_passed(first)
    coach = first.coach
    async with coach.db() as session, session.begin():  # the first replica claims, then is killed
        now = coach.clock()
        taken = await crm_outcomes.claim_due_polls(session=session, now=now, polled_before=now)
    assert len(taken) == 1
    await tick(second)
    assert polls(hubspot) == 1, "the dead replica's claim holds for its interval"
    await interval_passed(second)
    await tick(second)
    assert polls(hubspot) == 2, "then the other replica polls"


async def test_a_failed_poll_is_tried_again_the_next_interval(
    replicas: tuple[LiveApp, LiveApp], hubspot: FakeHubSpot
) -> None:
    first, second = replicas
    await interval_passed(first)
    hubspot.limit_next(3)  # 429 on the poll and on both waits in place: this poll fails
    await tick(first)
    failed = polls(hubspot)
    assert failed == 4 and len(hubspot.to("POST", DEAL_SEARCH)) == 1, "no answer for the second poll"
    await asyncio.gather(tick(first), tick(second))
    assert polls(hubspot) == failed, "a failed poll is this interval's poll: no replica hammers HubSpot"
    await interval_passed(second)
    await tick(second)
    assert len(hubspot.to("POST", DEAL_SEARCH)) == 2, "the next interval reads the deals"
    async with second.coach.db() as session:
        [conn] = await crm.all_connections(session=session)
    assert conn.status == "connected" and conn.outcomes_since is not None
