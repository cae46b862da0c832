"""What the bot sends after its answer to Slack (the reply to a DM, a button's answer, the file
of `export`) goes through the outbox: delivered exactly once however Slack answers meanwhile,
waiting as long as Retry-After says, a permanent failure recorded and listed, one delivery when
two schedulers race for the row, and nothing of it left in the outbox once it is finished."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import OrgConfig, Settings
from bot.delivery import SENDERS
from bot.scheduling.scheduler import Scheduler, SchedulerConfig
from storage.models import Outbox
from tests.bot.database_scan import hits
from tests.bot.slack.conftest import (
    BOT_TOKEN,
    FAST_OUTBOX,
    SIGNING_SECRET,
    USER,
    SlackClient,
    answers,
    open_modal,
    settle,
)
from tests.conftest import CoachRun, LiveApp
from tests.factories import make_settings
from tests.fakes.slack_api import FakeSlackApi

SERVER_ERRORS = 3  # one attempt's worth: the Web API client itself retries a 500 twice


@pytest.fixture
def scheduler_config() -> SchedulerConfig:
    return FAST_OUTBOX


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, org: OrgConfig, slack_api: FakeSlackApi
) -> Settings:
    """The Slack settings; on the run's PostgreSQL database when the test takes `database_url`."""
    url: dict[str, str] = {}
    if "database_url" in request.fixturenames:
        candidate = str(request.getfixturevalue("database_url"))
        if candidate.startswith("postgresql"):
            request.getfixturevalue("engine")  # an empty schema, migrated to head
            url = {"database_url": candidate}
    return make_settings(
        tmp_path, org=org, slack_signing_secret=SIGNING_SECRET, slack_bot_token=BOT_TOKEN,
        slack_api_url=slack_api.api_url, **url,
    )


async def say(slack: SlackClient, text: str) -> None:
    """The rep writes `text` in the bot's DM."""
    status, _ = await slack.event(
        {"type": "message", "channel_type": "im", "user": USER, "text": text, "channel": "D111", "ts": "1.1"}
    )
    assert status == 200


async def reply_rows(live_app: LiveApp) -> list[Outbox]:
    async with live_app.coach.db() as session:
        rows = await session.scalars(sa.select(Outbox).where(Outbox.kind == "reply").order_by(Outbox.id))
        return list(rows)


def tries(slack_api: FakeSlackApi, method: str = "chat.postMessage") -> list[int | str]:
    return [c.error or c.status for c in slack_api.to(method, ok_only=False)]


def shown(call: Any) -> str:
    return json.dumps(call.blocks)


async def test_a_dm_reply_is_delivered_once_after_three_server_errors_and_leaves_nothing_behind(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    slack_api.fail_next("chat.postMessage", 500, times=SERVER_ERRORS)
    await say(slack, "help")
    (dm,) = await slack_api.wait_for("chat.postMessage", within=15)
    await settle(live_app)
    await asyncio.sleep(0.5)  # several poll intervals: nothing is sent again
    assert tries(slack_api) == ["fatal_error"] * SERVER_ERRORS + [200]
    assert dm.params["channel"] == USER and "debrief" in shown(dm)
    (row,) = await reply_rows(live_app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert row.payload == {}  # the message was the payload: gone once delivered


async def test_a_button_answer_is_delivered_once_after_three_server_errors(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    assert (await slack.submit(view, answers()))[0] == 200
    await slack_api.wait_for("chat.postMessage")  # the tips
    await settle(live_app)
    slack_api.fail_next("chat.postMessage", 500, times=SERVER_ERRORS)
    assert (await slack.action("reply:1", "history"))[0] == 200  # a button of a message: history
    (_, answer) = await slack_api.wait_for("chat.postMessage", 2, within=15)
    await settle(live_app)
    await asyncio.sleep(0.5)
    assert tries(slack_api) == [200, *["fatal_error"] * SERVER_ERRORS, 200]
    assert "Acme" in shown(answer)  # the rep's own history
    (row,) = await reply_rows(live_app)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_the_export_file_is_made_when_sent_and_uploaded_once_after_server_errors(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme Export")
    assert (await slack.submit(view, answers()))[0] == 200
    await slack_api.wait_for("chat.postMessage")
    await settle(live_app)
    slack_api.fail_next("files.completeUploadExternal", 503, times=1000)  # Slack's files are away
    await say(slack, "export")
    (text,) = (await slack_api.wait_for("chat.postMessage", 2))[1:]
    assert "as a JSON file" in shown(text)  # the answer itself, once
    await slack_api.wait_for("files.completeUploadExternal", ok_only=False)
    await settle(live_app)
    answer, files = await reply_rows(live_app)
    assert answer.status == "sent" and answer.payload == {}
    # The file's row holds the command that makes the file, never the rep's data.
    assert files.status == "pending" and files.payload == {
        "channel": "slack", "replies": [], "files_from": "export"
    }
    slack_api.recover()
    slack_api.fail_next("files.completeUploadExternal", 500, times=SERVER_ERRORS)
    await slack_api.wait_for("files.completeUploadExternal", within=15)
    await settle(live_app)
    await asyncio.sleep(0.5)
    (complete,) = slack_api.to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "D111"
    assert len(slack_api.to("chat.postMessage")) == 2  # the tips and the answer: no text twice
    shared = json.loads(complete.params["files"])[0]["id"]
    (upload,) = [u for u in slack_api.to("upload") if u.params["file_id"] == shared]
    assert b"Acme Export" in upload.params["body"]  # made at send time, from the stored debrief
    (_, files) = await reply_rows(live_app)
    assert files.status == "sent" and files.payload == {}


async def test_the_file_of_a_slash_command_goes_to_the_dm_alone(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    status, text = await slack.command("export")
    assert status == 200 and "as a JSON file" in text  # answered in place
    await settle(live_app)
    (complete,) = slack_api.to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "D111"
    assert slack_api.to("chat.postMessage") == []  # the answer was shown: only the file follows
    (row,) = await reply_rows(live_app)
    assert row.status == "sent"


async def test_a_rate_limit_is_waited_out_for_as_long_as_retry_after_says(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    slack_api.fail_next("chat.postMessage", 429, retry_after="1", times=3)  # client retries twice
    await say(slack, "help")
    await slack_api.wait_for("chat.postMessage", within=15)
    await settle(live_app)
    calls = slack_api.to("chat.postMessage", ok_only=False)
    assert [c.status for c in calls] == [429, 429, 429, 200]
    assert calls[3].at - calls[2].at >= 1.0  # the row waited Retry-After, not its 0.1 s backoff
    (row,) = await reply_rows(live_app)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_a_permanent_error_is_recorded_as_failed_and_listed(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp, settings: Settings,
    run_coach: CoachRun,
) -> None:
    slack_api.fail_next("chat.postMessage", 200, error="channel_not_found")
    await say(slack, "help")
    await slack_api.wait_for("chat.postMessage", ok_only=False)
    await settle(live_app)
    await asyncio.sleep(0.5)
    assert tries(slack_api) == ["channel_not_found"]  # tried once: no retry can fix it
    listed = run_coach("outbox", "list", "--json", COACH_DATABASE_URL=settings.database_url)
    assert listed.returncode == 0, listed.stderr
    (row,) = [r for r in json.loads(listed.stdout) if r["kind"] == "reply"]
    assert row["status"] == "failed" and "channel_not_found" in row["last_error"]
    assert row["attempts"] == 1 and row["sent_at"] is None


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
@pytest.mark.parametrize("scheduler_config", [SchedulerConfig(poll_interval=3600)])
async def test_two_schedulers_racing_for_the_row_deliver_it_once(
    database_url: str, slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    slack_api.fail_next("chat.postMessage", 500, times=SERVER_ERRORS)
    await say(slack, "help")  # the app's scheduler, woken, tries once and puts the row off
    await slack_api.wait_for("chat.postMessage", SERVER_ERRORS, ok_only=False)
    await settle(live_app)
    (row,) = await reply_rows(live_app)
    assert row.status == "pending"
    async with live_app.coach.db() as session, session.begin():  # due again now
        await session.execute(sa.update(Outbox).where(Outbox.id == row.id).values(due_at=row.created_at))
    replicas = [
        Scheduler(ctx=live_app.coach, senders=live_app.app[SENDERS], config=FAST_OUTBOX,
                  worker=f"replica-{n}")
        for n in range(2)
    ]
    claimed = await asyncio.gather(*(r.run_once() for r in replicas))
    assert sorted(claimed) == [0, 1]  # one of them got the row, the other nothing
    await asyncio.sleep(0.3)
    assert len(slack_api.to("chat.postMessage")) == 1
    (row,) = await reply_rows(live_app)
    assert (row.status, row.attempts) == ("sent", 2) and row.claimed_by in ("replica-0", "replica-1")


async def test_the_answer_to_forget_confirm_is_sent_and_nothing_of_the_rep_stays(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    assert (await slack.submit(view, answers(**{"note:opening": "Quokka-lantern 7731"})))[0] == 200
    await say(slack, "history")
    await slack_api.wait_for("chat.postMessage", 2)
    await settle(live_app)
    await say(slack, "forget confirm")
    (_, _, done) = await slack_api.wait_for("chat.postMessage", 3)
    await settle(live_app)
    assert "deleted" in shown(done).lower()
    assert await reply_rows(live_app) == []  # there is no one left to keep a row for
    assert await hits(live_app.coach.db, [USER, f"Rep {USER}", "Quokka-lantern 7731"]) == []
