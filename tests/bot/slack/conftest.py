"""Slack fixtures: the fake Web API, settings pointing at it, and a client sending signed requests.

Payloads are built from Slack's documented shapes in ../shared/oracles/slack/payloads/.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from bot.config import OrgConfig, Settings
from bot.scheduling.scheduler import SchedulerConfig
from bot.slack.background import AFTER_ACK_WORK
from storage.models import Debrief
from tests.conftest import LiveApp, shared_path
from tests.factories import make_settings
from tests.fakes.slack_api import Call, FakeSlackApi

SIGNING_SECRET = "test-signing-secret-1234567890ab"
# The outbox for tests of what Slack is sent after an answer: retries a tenth of a second apart
# (Slack's Retry-After, when it sends one, still rules).
FAST_OUTBOX = SchedulerConfig(
    poll_interval=0.1, backoff_base=timedelta(milliseconds=100), lease=timedelta(seconds=2)
)
BOT_TOKEN = "xoxb-test"
TEAM = "T111"
USER = "U111"


def oracle(name: str) -> Any:
    path = shared_path("oracles", "slack", "payloads", name)
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    fake = await FakeSlackApi().start()
    yield fake
    await fake.close()


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig, slack_api: FakeSlackApi) -> Settings:
    return make_settings(
        tmp_path,
        org=org,
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=slack_api.api_url,
    )


class SlackClient:
    """Sends what Slack sends: signed form posts (commands, interactivity) and JSON events."""

    def __init__(self, http: aiohttp.ClientSession, url: str, secret: str = SIGNING_SECRET) -> None:
        self.http = http
        self.url = url + "/slack/events"
        self.signer = SignatureVerifier(secret)

    def headers(self, body: str, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.signer.generate_signature(timestamp=ts, body=body),
        }

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> tuple[int, str]:
        sent = self.headers(body, content_type=content_type) if sign else {"Content-Type": content_type}
        sent.update(headers or {})
        async with self.http.post(self.url, data=body.encode(), headers=sent) as resp:
            return resp.status, await resp.text()

    # -- payloads ------------------------------------------------------------------------------
    @staticmethod
    def command_body(
        text: str, *, user: str = USER, team: str = TEAM, trigger: str = "111.222.trigger"
    ) -> str:
        form = dict(oracle("slash-command.bolt.json"))
        form.update(command="/debrief", text=text, user_id=user, team_id=team, trigger_id=trigger)
        form.pop("enterprise_id", None)
        form.pop("enterprise_name", None)
        return urlencode(form)

    async def command(self, text: str, **kw: Any) -> tuple[int, str]:
        return await self.post(self.command_body(text, **kw))

    @staticmethod
    def submission_body(
        view: dict[str, Any],
        answers: dict[str, Any],
        *,
        view_id: str = "V900",
        user: str = USER,
        team: str = TEAM,
    ) -> str:
        payload = copy.deepcopy(oracle("view_submission.json"))
        payload["team"] = {"id": team, "domain": "example"}
        payload["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}
        opened = payload["view"]
        opened.update(
            id=view_id,
            team_id=team,
            blocks=view["blocks"],
            callback_id=view["callback_id"],
            private_metadata=view.get("private_metadata", ""),
            root_view_id=view_id,
            state={"values": fill(view, answers)},
            app_installed_team_id=team,
        )
        return urlencode({"payload": json.dumps(payload)})

    async def submit(self, view: dict[str, Any], answers: dict[str, Any], **kw: Any) -> tuple[int, str]:
        return await self.post(self.submission_body(view, answers, **kw))

    async def action(
        self, action_id: str, value: str, *, user: str = USER, team: str = TEAM
    ) -> tuple[int, str]:
        payload = copy.deepcopy(oracle("block_actions.json"))
        payload["team"] = {"id": team, "domain": "example"}
        payload["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}
        payload["actions"][0].update(action_id=action_id, value=value, block_id="b")
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    @staticmethod
    def choice_body(
        view: dict[str, Any],
        answers: dict[str, Any],
        block_id: str,
        *,
        view_hash: str | None = None,
        action_ts: str | None = None,
        user: str = USER,
        team: str = TEAM,
    ) -> str:
        """block_actions for choosing `answers[block_id]` in the open modal `view` (as views.open or
        views.update answered it: with its id and hash); the view's state holds `answers`."""
        payload = copy.deepcopy(oracle("block_actions.json"))
        for key in ("channel", "response_url", "trigger_id"):
            payload.pop(key, None)
        payload["team"] = {"id": team, "domain": "example"}
        payload["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["trigger_id"] = "111.333.trigger"
        payload["view"] = {
            **{k: view[k] for k in ("id", "type", "blocks", "callback_id", "title", "submit", "close")},
            "team_id": team,
            "private_metadata": view.get("private_metadata", ""),
            "state": {"values": fill(view, answers)},
            "hash": view_hash or view["hash"],
            "root_view_id": view["id"],
            "app_installed_team_id": team,
        }
        chosen = answers[block_id]
        payload["actions"] = [{
            "type": "radio_buttons",
            "action_id": "value",
            "block_id": block_id,
            "selected_option": {"value": chosen, "text": {"type": "plain_text", "text": chosen}},
            "action_ts": action_ts or f"{time.time():.6f}",
        }]
        return urlencode({"payload": json.dumps(payload)})

    async def choose(self, view: dict[str, Any], answers: dict[str, Any], block_id: str, **kw: Any) -> int:
        status, _ = await self.post(self.choice_body(view, answers, block_id, **kw))
        return status

    async def options(self, value: str, *, user: str = USER, team: str = TEAM) -> tuple[int, Any]:
        payload = {
            "type": "block_suggestion",
            "action_id": "account",
            "block_id": "account",
            "value": value,
            "team": {"id": team, "domain": "example"},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A111",
            "view": {"id": "V1", "type": "modal", "callback_id": "debrief"},
        }
        status, text = await self.post(urlencode({"payload": json.dumps(payload)}))
        return status, json.loads(text) if status == 200 and text else text

    async def event(
        self, event: dict[str, Any], *, team: str = TEAM, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        body = json.dumps(
            {
                "token": "verification_token",
                "team_id": team,
                "api_app_id": "A111",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
            }
        )
        return await self.post(body, content_type="application/json", headers=headers)


def fill(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """view.state.values for a view as a person would fill it: {block_id: answer}."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        answer = answers.get(block["block_id"])
        kind = element["type"]
        if kind in ("radio_buttons", "static_select", "external_select"):
            state: dict[str, Any] = {"type": kind, "selected_option": None}
            if answer is not None:
                state["selected_option"] = {"value": answer, "text": {"type": "plain_text", "text": answer}}
        elif kind == "datepicker":
            state = {"type": kind, "selected_date": answer}
        elif kind == "timepicker":
            state = {"type": kind, "selected_time": answer}
        else:
            state = {"type": kind, "value": answer}
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def answers(**overrides: Any) -> dict[str, Any]:
    """A complete debrief as modal answers (block id -> value)."""
    form: dict[str, Any] = {
        "account": "Acme",
        "rating:opening": "no",
        "agenda_set_by": "customer_formal",
        "note:opening": "Formal agenda by mail.",
        "rating:interaction": "yes",
        "customer_questions": "How fast is onboarding?",
        "answers_given": "Six weeks.",
        "rating:situation": "partly",
        "customer_tried": "A spreadsheet.",
        "supplier_check": "not_asked",
        "rating:concessions": "yes",
        "concessions_asked": "Framework",
        "concessions_given": "Signed it",
        "concessions_got": "Pilot date",
        "rating:next_step": "yes",
        "next_step_what": "Pilot proposal",
        "next_step_who": "Me, then IT",
        "next_step_due": "2031-12-07",
        "next_meeting_at": "2031-12-09",
        "next_meeting_time": "14:00",
        "outcome": "next_step",
    }
    form.update(overrides)
    return form


@pytest.fixture
def slack(http: aiohttp.ClientSession, live_app: LiveApp) -> SlackClient:
    return SlackClient(http, live_app.url)


async def debrief_count(live_app: LiveApp) -> int:
    async with live_app.coach.db() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Debrief)) or 0)


async def open_modal(
    slack: SlackClient, slack_api: FakeSlackApi, text: str = "Acme", **kw: Any
) -> dict[str, Any]:
    """/debrief <text> and the view it opened (as Slack answered: with its id and hash)."""
    before = len(slack_api.to("views.open"))
    status, _ = await slack.command(text, **kw)
    assert status == 200
    calls = await slack_api.wait_for("views.open", before + 1)
    return opened(calls[-1])


def opened(call: Call) -> dict[str, Any]:
    """The view a views.open or views.update call drew, with the id and hash Slack gave it."""
    assert call.answer is not None and call.answer["ok"], call
    return dict(call.answer["view"])


DECIDING = ("rating:opening", "rating:interaction", "rating:situation", "rating:concessions",
            "outcome", "rating:next_step")


async def redrawn(
    slack: SlackClient, slack_api: FakeSlackApi, view: dict[str, Any], answers: dict[str, Any],
    block_id: str, **kw: Any,
) -> dict[str, Any]:
    """Choose answers[block_id] in the open modal, as a rep clicks it: the view Slack redrew."""
    before = len(slack_api.to("views.update", ok_only=False))
    assert await slack.choose(view, answers, block_id, **kw) == 200
    calls = await slack_api.wait_for("views.update", before + 1, ok_only=False)
    return opened(calls[-1])


async def fill_in(
    slack: SlackClient, slack_api: FakeSlackApi, view: dict[str, Any], answers: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    """Answer the open modal top to bottom, as a rep does: each rating and the outcome chosen
    (the modal redraws with its details), what is shown filled in. The last drawing, to submit."""
    chosen: set[str] = set()
    while True:
        present = [b.get("block_id") for b in view["blocks"]]
        todo = [b for b in present if b in DECIDING and b not in chosen and answers.get(b) is not None]
        if not todo:
            return view
        chosen.add(todo[0])
        view = await redrawn(slack, slack_api, view, answers, todo[0], **kw)


async def settle(live_app: LiveApp, within: float = 10.0) -> None:
    """Wait until the work the Slack listeners left for after their answers (a DM, a modal, an
    event's handling) is done, work that work started included. After this, nothing more from the
    requests sent so far can reach the fake API or the database: "nothing else" is then a fact.
    Fails (TimeoutError) rather than cancel what takes longer than `within` seconds.

    The outbox rows due by now (a tips DM) count as such work too: until each is sent, retried
    later or finished otherwise."""
    work = live_app.app[AFTER_ACK_WORK]
    async with asyncio.timeout(within):
        while True:
            while pending := {task for task in work.tasks if not task.done()}:
                await asyncio.wait(pending)
            if not await live_app.outbox_due():
                return
            await asyncio.sleep(0.02)
