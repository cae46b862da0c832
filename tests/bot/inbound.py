"""The harness for the inbound-endpoint tests (test_inbound_properties, test_inbound_cases): the
app served on its own event loop with the fakes it talks to, Hypothesis strategies for bodies,
headers and answers, and builders for signed Slack requests and Teams activities.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bot.app import COACH, create_app
from bot.slack.background import AFTER_ACK_WORK
from tests.bot.slack.conftest import BOT_TOKEN, DECIDING, SIGNING_SECRET, SlackClient, answers, opened
from tests.bot.teams.conftest import emulator_on
from tests.factories import make_settings
from tests.fakes.connector import FakeConnector, start_connector
from tests.fakes.slack_api import FakeSlackApi
from tests.serving import serve

T = TypeVar("T")
EXAMPLES = 150
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
PROBES: Counter[str] = Counter()
FIVE_XX: Counter[str] = Counter()
STATUSES: dict[str, Counter[int]] = {}
TEAM, USER = "T111", "U111"


class Running:
    """The app served on 127.0.0.1 on an event loop of its own, with the fakes it talks to."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.slack_api = self.run(FakeSlackApi().start())
        self.connector, self._connector_runner = self.run(start_connector())
        settings_ = make_settings(tmp, slack_signing_secret=SIGNING_SECRET, slack_bot_token=BOT_TOKEN,
                                  slack_api_url=self.slack_api.api_url)
        # Teams as the local Emulator talks to it: turned on explicitly (no app id).
        settings_ = settings_.model_copy(update={"org": emulator_on(settings_.org)})
        self.app = create_app(settings_)
        self._runner, self.url = self.run(serve(self.app))
        self.http = self.run(_session())

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async def send() -> tuple[int, str]:
            async with self.http.post(self.url + path, data=body, headers=headers) as resp:
                return resp.status, await resp.text()

        return self.run(send())

    def settle(self) -> None:
        """Wait for the work Slack listeners left for after their answer (it may log, too)."""
        async def settle() -> None:
            async with asyncio.timeout(10):
                while pending := {task for task in self.app[AFTER_ACK_WORK].tasks if not task.done()}:
                    await asyncio.wait(pending)

        self.run(settle())

    def count(self, model: Any) -> int:
        async def count() -> int:
            async with self.app[COACH].db() as session:
                return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)

        return self.run(count())

    def close(self) -> None:
        self.run(self.http.close())
        self.run(self._runner.cleanup())
        self.run(self._connector_runner.cleanup())
        self.run(self.slack_api.close())
        self.loop.close()


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))



def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not logged, [f"{r.name}: {r.getMessage()}" for r in logged]


def report(endpoint: str) -> None:
    """How many generated requests went to the endpoint and how many got a 5xx (shown with -s)."""
    print(f"\n{endpoint}: {PROBES[endpoint]} generated requests, {FIVE_XX[endpoint]} answered 5xx; "
          f"statuses {dict(sorted(STATUSES.get(endpoint, Counter()).items()))}")
    assert PROBES[endpoint] >= EXAMPLES and FIVE_XX[endpoint] == 0


def probe(running: Running, endpoint: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    status, text = running.post(path, body, headers)
    running.settle()
    PROBES[endpoint] += 1
    STATUSES.setdefault(endpoint, Counter())[status] += 1
    if status >= 500:
        FIVE_XX[endpoint] += 1
    assert status < 500, (body[:200], headers, text[:300])
    return status


# -- generated input ---------------------------------------------------------------------------------
# Arbitrary unicode (surrogates and control characters included), huge numbers, far dates, long text.
UNICODE = st.characters(codec=None, exclude_categories=())
ANSWERS = st.one_of(
    st.text(UNICODE, max_size=40),
    st.text(st.characters(max_codepoint=0x9F, exclude_categories=()), max_size=20),
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M")),
    st.sampled_from(["9999-12-31 23:59", "0001-01-01 00:00", "31 december 9999 om 23:00", "\ud800",
                     "note \udfff end", "over 99999999999 dagen", "nudges snooze " + "9" * 40,
                     "edit " + "1" * 40, "in 10000000 years at 10:00", "²", "nudges got ²"]),
    st.integers(min_value=0, max_value=12_000).map(lambda n: "x" * n),
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
                      st.floats(allow_nan=False), st.text(max_size=20))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
DEEP = st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n)
CONTENT_TYPES = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/json; charset=x-unknown",
    "application/json; charset=latin-1", "application/json; charset=utf-16",
    "application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data; boundary=x",
])
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUE.map(as_json),
    DEEP.map(str.encode),
    st.dictionaries(st.sampled_from(["text", "expect", "x"]), JSON_VALUE, max_size=3).map(as_json),
    st.builds(lambda text, expect: as_json({"text": text, "expect": expect}), ANSWERS,
              st.one_of(st.none(), st.text(max_size=120))),
)



# -- Slack ----------------------------------------------------------------------------------------
def signed(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp or str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def command_body(text: str) -> bytes:
    return urlencode({"command": "/debrief", "text": text, "user_id": USER, "team_id": TEAM,
                      "trigger_id": "1.2.t", "channel_id": "D1", "user_name": "u", "api_app_id": "A1",
                      "response_url": "https://hooks.slack.com/x", "token": "t"}).encode()


def payload_body(value: Any) -> bytes:
    return ("payload=" + urlencode({"p": json.dumps(value)})[2:]).encode()


def action_body(value: str) -> bytes:
    return payload_body({"type": "block_actions", "team": {"id": TEAM}, "user": {"id": USER, "team_id": TEAM},
                     "api_app_id": "A1", "trigger_id": "1.2.t", "container": {"type": "message"},
                     "actions": [{"action_id": "edit_debrief", "block_id": "b", "value": value,
                                  "type": "button", "action_ts": "1"}]})


SLACK_BODIES = st.one_of(
    BODIES,
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(
        lambda form: urlencode(form).encode()),
    JSON_VALUE.map(payload_body),
    st.text(UNICODE.filter(lambda c: not 0xD800 <= ord(c) <= 0xDFFF), max_size=60).map(command_body),
    ANSWERS.filter(lambda a: "\ud800" not in a and "\udfff" not in a).map(action_body),
)



# -- Teams (the Emulator: no MicrosoftAppId, loopback) ---------------------------------------------
def activity(connector: FakeConnector, **fields: Any) -> dict[str, Any]:
    base = {
        "type": "message", "id": "1", "serviceUrl": connector.url, "channelId": "msteams",
        "from": {"id": "29:gen", "name": "Gen", "aadObjectId": "00000000-0000-0000-0000-000000000001"},
        "conversation": {"conversationType": "personal", "id": "a:gen"},
        "recipient": {"id": "28:bot", "name": "Closing Coach"}, "text": "hello",
        "timestamp": "2026-11-30T09:00:00.000Z", "locale": "en-US",
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not DROP}


DROP = object()
ACTIVITY_FIELDS = st.dictionaries(
    st.sampled_from(["type", "serviceUrl", "from", "conversation", "recipient", "text", "value",
                     "entities", "timestamp", "locale", "replyToId", "channelData", "name", "id",
                     "membersAdded", "membersRemoved", "attachments"]),
    st.one_of(st.just(DROP), JSON_VALUE, st.sampled_from(["message", "invoke", "conversationUpdate",
                                                          "installationUpdate", "messageReaction"]),
              # an activity id as Teams sends them (the fake connector routes no "/" in one)
              st.text(st.characters(categories=["Nd", "Ll"], max_codepoint=0x7F), min_size=1, max_size=12)),
    max_size=4,
)
# What a card's button or form sends in `value` (ANSWER_ACTION, SUBMIT_ACTION), with odd contents.
CARD_VALUE = st.dictionaries(
    st.sampled_from(["coach", "text", "expect", "key", "account", "rating:opening", "note:opening",
                     "next_step_due", "next_meeting_at_date", "next_meeting_at_time", "outcome", "shown",
                     "kept"]),
    st.one_of(st.sampled_from(["answer", "debrief", "9999-12-31", "0001-01-01", "25:99", "1" * 40]),
              st.lists(st.sampled_from(["rating:opening", "outcome", "note:opening", "next_meeting_at"])),
              st.dictionaries(st.sampled_from(["note:opening", "next_meeting_at_date", "x"]), JSON_VALUE),
              ANSWERS.filter(lambda a: "\ud800" not in a and "\udfff" not in a), JSON_VALUE),
    max_size=6,
)



FORM = "application/x-www-form-urlencoded"
MODAL_FIELDS = ["account", "rating:opening", "note:opening", "agenda_set_by", "next_step_due",
                "next_meeting_at", "next_meeting_time", "outcome", "customer_questions"]


def submit(running: Running, view: dict[str, Any], answers_: dict[str, Any], view_id: str) -> tuple[int, str]:
    body = SlackClient.submission_body(view, answers_, view_id=view_id).encode()
    status, text = running.post("/slack/events", body, {"Content-Type": FORM, **signed(body)})
    running.settle()
    return status, text



def open_debrief_view(running: Running, form: dict[str, Any] | None = None) -> dict[str, Any]:
    """The modal `/debrief Acme` opens (from the fake Slack API's views.open), with the ratings
    and outcome of `form` (else `answers()`) chosen, so it shows their details as the bot redrew it."""
    body = command_body("Acme")
    assert running.post("/slack/events", body, {"Content-Type": FORM, **signed(body)})[0] == 200
    running.settle()
    view = dict(opened(running.slack_api.to("views.open")[-1]))
    form = form or answers()
    for block_id in DECIDING:
        if block_id not in {b.get("block_id") for b in view["blocks"]}:
            continue  # answered by the outcome
        choice = SlackClient.choice_body(view, form, block_id).encode()
        assert running.post("/slack/events", choice, {"Content-Type": FORM, **signed(choice)})[0] == 200
        running.settle()
        view = opened(running.slack_api.to("views.update")[-1])
    return view
