"""The tips DM after a view submission goes through the outbox: delivered exactly once, however
Slack answers meanwhile, and not lost when the app stops before it went out."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.scheduling.scheduler import SCHEDULER_CONFIG, SchedulerConfig
from storage.models import Debrief, Outbox
from tests.bot.slack.conftest import FAST_OUTBOX, SlackClient, answers, open_modal, settle
from tests.conftest import CoachRun, LiveApp
from tests.fakes.slack_api import FakeSlackApi
from tests.serving import serve

FAST = FAST_OUTBOX


@pytest.fixture
def scheduler_config() -> SchedulerConfig:
    return FAST


async def tips_row(live_app: LiveApp) -> Outbox:
    async with live_app.coach.db() as session:
        return (await session.scalars(sa.select(Outbox).where(Outbox.kind == "debrief_tips"))).one()


def dm_statuses(slack_api: FakeSlackApi) -> list[int | str]:
    return [c.error or c.status for c in slack_api.to("chat.postMessage", ok_only=False)]


async def test_the_row_holds_the_debrief_id_only_and_the_dm_is_rendered_from_the_stored_debrief(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    assert (await slack.submit(view, answers(**{"note:opening": "Secret pricing remark"})))[0] == 200
    (dm,) = await slack_api.wait_for("chat.postMessage")
    await settle(live_app)
    async with live_app.coach.db() as session:
        debrief = (await session.scalars(sa.select(Debrief))).one()
    row = await tips_row(live_app)
    assert row.payload == {"debrief_id": debrief.id}  # nothing personal waits in the outbox
    assert row.dedup_key == f"d{debrief.id}:tips" and row.status == "sent" and row.attempts == 1
    shown = json.dumps(dm.blocks)
    assert "Acme" in shown and "For your next meeting" in shown
    assert [e["value"] for b in dm.blocks if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == "edit_debrief"] == [str(debrief.id)]


async def test_three_server_errors_then_the_dm_is_delivered_exactly_once(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    slack_api.fail_next("chat.postMessage", 500, times=3)  # all of one attempt's in-process tries
    assert (await slack.submit(view, answers()))[0] == 200
    await slack_api.wait_for("chat.postMessage", within=15)
    await settle(live_app)
    await asyncio.sleep(0.5)  # several poll intervals: nothing is sent again
    assert dm_statuses(slack_api) == ["fatal_error"] * 3 + [200]
    row = await tips_row(live_app)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None


async def test_a_rate_limit_is_waited_out_for_as_long_as_retry_after_says(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    slack_api.fail_next("chat.postMessage", 429, retry_after="1", times=3)
    assert (await slack.submit(view, answers()))[0] == 200
    await slack_api.wait_for("chat.postMessage", within=15)
    await settle(live_app)
    tries = slack_api.to("chat.postMessage", ok_only=False)
    assert [c.status for c in tries] == [429, 429, 429, 200]
    # The outbox's retry waited Retry-After (1 s), not its own backoff (0.1 s).
    assert tries[3].at - tries[2].at >= 1.0
    assert (await tips_row(live_app)).attempts == 2


async def test_a_permanent_error_is_recorded_as_failed_and_listed(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp, settings: Settings,
    run_coach: CoachRun,
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    slack_api.fail_next("chat.postMessage", 200, error="channel_not_found")
    assert (await slack.submit(view, answers()))[0] == 200
    await settle(live_app)
    await asyncio.sleep(0.5)
    assert dm_statuses(slack_api) == ["channel_not_found"]  # tried once: no retry can fix it
    listed = run_coach("outbox", "list", "--json", COACH_DATABASE_URL=settings.database_url)
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    (tips,) = [r for r in rows if r["kind"] == "debrief_tips"]
    assert tips["status"] == "failed" and "channel_not_found" in tips["last_error"]


async def test_an_app_stopped_before_the_dm_went_out_delivers_it_after_the_restart(
    slack_api: FakeSlackApi, settings: Settings, http: aiohttp.ClientSession
) -> None:
    first = await started(settings)
    slack = SlackClient(http, first.url)
    view = await open_modal(slack, slack_api, "Acme")
    slack_api.fail_next("chat.postMessage", 503, times=1000)  # Slack is away while this app runs
    assert (await slack.submit(view, answers()))[0] == 200
    # The first app tried (and retries until it stops).
    await slack_api.wait_for("chat.postMessage", within=10, ok_only=False)
    await first.runner.cleanup()  # stopped: its scheduler, the Slack client, the engine
    assert slack_api.to("chat.postMessage") == []
    slack_api.recover()
    second = await started(settings)  # a second app on the same database
    try:
        (dm,) = await slack_api.wait_for("chat.postMessage", within=10)
        await second.live.outbox_settled()
        await asyncio.sleep(0.3)
        assert len(slack_api.to("chat.postMessage")) == 1 and dm.params["channel"] == "U111"
        assert (await tips_row(second.live)).status == "sent"
    finally:
        await second.runner.cleanup()


@dataclass
class Started:
    live: LiveApp
    runner: web.AppRunner

    @property
    def url(self) -> str:
        return self.live.url


async def started(settings: Settings) -> Started:
    app = create_app(settings)
    app[SCHEDULER_CONFIG] = FAST
    runner, url = await serve(app)
    return Started(LiveApp(app, url), runner)
