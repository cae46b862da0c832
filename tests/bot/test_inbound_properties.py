"""No 5xx from input: generated bodies, headers, charsets and activities against the three inbound
endpoints (POST /webchat/messages, POST /slack/events, POST /api/messages) of one running app.

Each property test serves the app once on its own event loop and sends Hypothesis' examples to it
over real HTTP: every answer is below 500 and nothing reaches the log at ERROR. The listed cases
the probe found have explicit examples at the end. Each property test prints how many generated
requests it sent and how many got a 5xx (run with -s to see them).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import COACH, TEXTS, create_app
from bot.slack.background import AFTER_ACK_WORK
from storage.models import Debrief
from tests.bot.slack.conftest import BOT_TOKEN, SIGNING_SECRET, SlackClient, answers
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


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    live = Running(tmp_path_factory.mktemp("inbound"))
    yield live
    live.close()


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING)
    return caplog


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


def _as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUE.map(_as_json),
    DEEP.map(str.encode),
    st.dictionaries(st.sampled_from(["text", "expect", "x"]), JSON_VALUE, max_size=3).map(_as_json),
    st.builds(lambda text, expect: _as_json({"text": text, "expect": expect}), ANSWERS,
              st.one_of(st.none(), st.text(max_size=120))),
)


# -- the web chat ---------------------------------------------------------------------------------
def test_webchat_never_answers_5xx(running: Running, errors: pytest.LogCaptureFixture) -> None:
    @PROPERTY
    @given(body=BODIES, content_type=CONTENT_TYPES, language=HEADER_TEXT, origin=st.none() | HEADER_TEXT)
    def check(body: bytes, content_type: str, language: str, origin: str | None) -> None:
        errors.clear()
        headers = {"Content-Type": content_type, "Accept-Language": language}
        if origin is not None:
            headers["Origin"] = origin
        probe(running, "webchat", "/webchat/messages", body, headers)
        no_errors(errors)

    check()
    report("webchat")


# -- Slack ----------------------------------------------------------------------------------------
def signed(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp or str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def _command(text: str) -> bytes:
    return urlencode({"command": "/debrief", "text": text, "user_id": USER, "team_id": TEAM,
                      "trigger_id": "1.2.t", "channel_id": "D1", "user_name": "u", "api_app_id": "A1",
                      "response_url": "https://hooks.slack.com/x", "token": "t"}).encode()


def _payload(value: Any) -> bytes:
    return ("payload=" + urlencode({"p": json.dumps(value)})[2:]).encode()


def _action(value: str) -> bytes:
    return _payload({"type": "block_actions", "team": {"id": TEAM}, "user": {"id": USER, "team_id": TEAM},
                     "api_app_id": "A1", "trigger_id": "1.2.t", "container": {"type": "message"},
                     "actions": [{"action_id": "edit_debrief", "block_id": "b", "value": value,
                                  "type": "button", "action_ts": "1"}]})


SLACK_BODIES = st.one_of(
    BODIES,
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(
        lambda form: urlencode(form).encode()),
    JSON_VALUE.map(_payload),
    st.text(UNICODE.filter(lambda c: not 0xD800 <= ord(c) <= 0xDFFF), max_size=60).map(_command),
    ANSWERS.filter(lambda a: "\ud800" not in a and "\udfff" not in a).map(_action),
)


def test_slack_unsigned_bodies_get_401(running: Running, errors: pytest.LogCaptureFixture) -> None:
    @PROPERTY
    @given(body=SLACK_BODIES, content_type=CONTENT_TYPES, timestamp=st.none() | HEADER_TEXT,
           signature=st.none() | HEADER_TEXT)
    def check(body: bytes, content_type: str, timestamp: str | None, signature: str | None) -> None:
        errors.clear()
        headers = {"Content-Type": content_type}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        before = running.count(Debrief)
        assert probe(running, "slack unsigned", "/slack/events", body, headers) == 401
        assert running.count(Debrief) == before
        no_errors(errors)

    check()
    report("slack unsigned")


def test_slack_signed_bodies_never_5xx(running: Running, errors: pytest.LogCaptureFixture) -> None:
    @PROPERTY
    @given(body=SLACK_BODIES, content_type=CONTENT_TYPES)
    def check(body: bytes, content_type: str) -> None:
        errors.clear()
        headers = {"Content-Type": content_type, **signed(body)}
        probe(running, "slack signed", "/slack/events", body, headers)
        no_errors(errors)

    check()
    report("slack signed")


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
                     "next_step_due", "next_meeting_at_date", "next_meeting_at_time", "outcome"]),
    st.one_of(st.sampled_from(["answer", "debrief", "9999-12-31", "0001-01-01", "25:99", "1" * 40]),
              ANSWERS.filter(lambda a: "\ud800" not in a and "\udfff" not in a), JSON_VALUE),
    max_size=6,
)


def test_teams_activities_never_5xx(running: Running, errors: pytest.LogCaptureFixture) -> None:
    @PROPERTY
    @given(fields=ACTIVITY_FIELDS, text=ANSWERS.filter(lambda a: "\ud800" not in a and "\udfff" not in a),
           value=st.none() | CARD_VALUE, other=st.none() | st.none() | st.none() | BODIES)
    def check(fields: dict[str, Any], text: str, value: dict[str, Any] | None, other: bytes | None) -> None:
        errors.clear()
        generated = activity(running.connector, **{"text": text, "value": value, **fields})
        body = other if other is not None else _as_json(generated)
        probe(running, "teams", "/api/messages", body, {"Content-Type": "application/json"})
        no_errors(errors)

    check()
    report("teams")


# -- the cases the probe found ------------------------------------------------------------------------
SLACK_CASES = [
    b"{", b"payload=%7B", b"\xff", b"[]", b"payload=%5B1%5D", ("[" * 100_000).encode()[:200_000],
    b"payload=" + b"%5B" * 2000, b'{"type": "event_callback"' + b"[" * 5000,
]

FORM_400 = {b"{", b"payload=%7B", b"\xff", b"payload=%5B1%5D"}


@pytest.mark.parametrize("body", SLACK_CASES, ids=range(len(SLACK_CASES)))
def test_slack_malformed_bodies_unsigned_401_signed_400(
    running: Running, errors: pytest.LogCaptureFixture, body: bytes
) -> None:
    for content_type in ("application/x-www-form-urlencoded", "application/json"):
        assert running.post("/slack/events", body, {"Content-Type": content_type})[0] == 401
        headers = {"Content-Type": content_type, **signed(body)}
        status, _ = running.post("/slack/events", body, headers)
        # As a form, "[]" is a field named "[]" (Bolt: no listener, 404); as JSON it is no object.
        strict = content_type == "application/json" or body in FORM_400
        assert status == 400 if strict else 400 <= status < 500
    no_errors(errors)


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-1", "٣٣٣", "9" * 40])
def test_slack_odd_timestamps_get_401(running: Running, errors: pytest.LogCaptureFixture,
                                      timestamp: str) -> None:
    body = _command("Acme")
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               **signed(body, timestamp=timestamp or "0")}
    headers["X-Slack-Request-Timestamp"] = timestamp
    assert running.post("/slack/events", body, headers)[0] == 401
    no_errors(errors)


def test_slack_signature_check_agrees_with_slack_sdk(running: Running) -> None:
    """What tests/bot/slack signs with slack_sdk's SignatureVerifier is accepted here."""
    body = _command("help").decode()
    client = SlackClient(None, running.url)  # type: ignore[arg-type]
    headers = client.headers(body, content_type="application/x-www-form-urlencoded")
    assert running.post("/slack/events", body.encode(), headers)[0] == 200
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    assert running.post("/slack/events", body.encode(), headers)[0] == 401


def test_slack_a_40_digit_edit_button_changes_nothing(
    running: Running, errors: pytest.LogCaptureFixture
) -> None:
    body = _action("1" * 40)
    assert running.post("/slack/events", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                **signed(body)})[0] == 200
    running.settle()
    no_errors(errors)


WEBCHAT_CASES = [
    (b'{"text": ' + b"[" * 100_000 + b"}", "application/json", 400),
    (b'{"text": "hi"}', "application/json; charset=x-unknown", 415),
    (b"\xff", "application/json", 400),
    (b'{"text": "\\ud800"}', "application/json", 400),
    (b"{", "application/json", 400),
    (b"[]", "application/json", 400),
]


@pytest.mark.parametrize(("body", "content_type", "status"), WEBCHAT_CASES, ids=range(len(WEBCHAT_CASES)))
def test_webchat_malformed_bodies_get_a_localised_4xx(
    running: Running, errors: pytest.LogCaptureFixture, body: bytes, content_type: str, status: int
) -> None:
    for language, locale in (("en", "en"), ("nl-NL,nl;q=0.9", "nl")):
        got, text = running.post("/webchat/messages", body, {"Content-Type": content_type,
                                                              "Accept-Language": language})
        assert got == status
        key = "webchat_bad_charset" if status == 415 else "webchat_bad_request"
        assert text == running.app[TEXTS].message(locale, key)
    no_errors(errors)


def teams_cases(connector: FakeConnector) -> list[bytes]:
    no_service = activity(connector)
    del no_service["serviceUrl"]
    return [_as_json(no_service), b"[]", b'"x"', b"null", b"{}", ("[" * 100_000).encode(),
            b'{"type": "message"}', _as_json(activity(connector, conversation=None)),
            _as_json(activity(connector, entities="x")), _as_json(activity(connector, type=5)),
            _as_json(activity(connector, entities=[None])), _as_json(activity(connector, entities=[{}])),
            _as_json(activity(connector, channelData="x")), _as_json(activity(connector, replyToId=[1])),
            _as_json(activity(connector, type="invoke", value="x")),
            _as_json(activity(connector, type="invoke")),  # no name: botbuilder would answer 501
            b"\xff"]


def test_teams_garbage_activities_get_400(running: Running, errors: pytest.LogCaptureFixture) -> None:
    for body in teams_cases(running.connector):
        assert running.post("/api/messages", body, {"Content-Type": "application/json"})[0] == 400, body[:80]
    charset = {"Content-Type": "application/json; charset=x-unknown"}
    assert running.post("/api/messages", b"{}", charset)[0] == 415
    assert running.post("/api/messages", b"{}", {})[0] == 415  # no Content-Type at all
    no_errors(errors)


def test_teams_a_40_digit_button_value_is_answered(
    running: Running, errors: pytest.LogCaptureFixture
) -> None:
    before = len(running.connector.delivered)
    button = {"coach": "answer", "text": "nudges snooze " + "9" * 40}
    body = activity(running.connector, text="", value=button)
    assert running.post("/api/messages", _as_json(body), {"Content-Type": "application/json"})[0] < 300
    assert len(running.connector.delivered) > before  # an answer (the usage line), not a failed turn
    no_errors(errors)


def test_the_app_still_answers_after_all_that(running: Running) -> None:
    status, text = running.post("/webchat/messages", _as_json({"text": "help"}),
                                {"Content-Type": "application/json"})
    assert status == 200 and json.loads(text)["messages"][0]["kind"] == "help"


def test_webchat_draft_survives_year_9999_and_a_lone_surrogate(
    running: Running, errors: pytest.LogCaptureFixture
) -> None:
    """The probe's stuck draft: after each bad answer the same question, then valid answers work."""
    texts = running.app[TEXTS]

    def say(text: str | bytes) -> tuple[int, dict[str, Any] | str]:
        body = text if isinstance(text, bytes) else _as_json({"text": text})
        status, answer = running.post("/webchat/messages", body, {"Content-Type": "application/json"})
        return status, json.loads(answer) if status == 200 else answer

    def field_of(answer: dict[str, Any] | str) -> str | None:
        assert isinstance(answer, dict)
        expect = answer["messages"][-1]["expect"]
        return expect.split("@")[0] if expect else None

    say("cancel")  # whatever the properties above left open
    status, answer = say("debrief Year Ninety-Nine")
    assert status == 200 and isinstance(answer, dict)
    while (field := field_of(answer)) not in ("note:opening", None):
        status, answer = say("yes" if field.startswith("rating:") else "/skip")
        assert isinstance(answer, dict)
    assert field == "note:opening"
    status, refused = say(b'{"text": "before \\ud800 after"}')  # a lone surrogate: not JSON orjson reads
    assert (status, refused) == (400, texts.message("en", "webchat_bad_request"))
    status, answer = say("noted")
    assert status == 200 and isinstance(answer, dict)
    while (field := field_of(answer)) not in ("next_meeting_at", None):
        status, answer = say("yes" if field.startswith("rating:") else "/skip")
        assert isinstance(answer, dict)
    status, answer = say("9999-12-31 10:00")
    assert status == 200 and isinstance(answer, dict)
    kinds = [m["kind"] for m in answer["messages"]]
    assert kinds == ["error", "question"] and field_of(answer) == "next_meeting_at"
    assert answer["messages"][0]["text"] == texts.message("en", "far_date", text="9999-12-31 10:00",
                                                          years=10)
    status, answer = say("next Tuesday 2pm")
    assert status == 200 and isinstance(answer, dict)
    assert field_of(answer) == "note:next_step"
    status, answer = say("/skip")
    status, answer = say("closed")
    assert status == 200 and isinstance(answer, dict) and answer["messages"][0]["kind"] == "saved"
    no_errors(errors)


# -- Slack's modal: generated answers and crafted metadata, signed ---------------------------------
@pytest.fixture(scope="module")
def debrief_view(running: Running) -> dict[str, Any]:
    """The modal `/debrief Acme` opens (from the fake Slack API's views.open)."""
    body = _command("Acme")
    assert running.post("/slack/events", body, {"Content-Type": FORM, **signed(body)})[0] == 200
    running.settle()
    return dict(running.slack_api.to("views.open")[-1].view)


FORM = "application/x-www-form-urlencoded"
MODAL_FIELDS = ["account", "rating:opening", "note:opening", "agenda_set_by", "next_step_due",
                "next_meeting_at", "next_meeting_time", "outcome", "customer_questions"]


def submit(running: Running, view: dict[str, Any], answers_: dict[str, Any], view_id: str) -> tuple[int, str]:
    body = SlackClient.submission_body(view, answers_, view_id=view_id).encode()
    status, text = running.post("/slack/events", body, {"Content-Type": FORM, **signed(body)})
    running.settle()
    return status, text


def test_slack_modal_answers_never_5xx(
    running: Running, errors: pytest.LogCaptureFixture, debrief_view: dict[str, Any]
) -> None:
    ids = itertools.count()

    @PROPERTY
    @given(overrides=st.dictionaries(st.sampled_from(MODAL_FIELDS), st.none() | ANSWERS, max_size=4))
    def check(overrides: dict[str, Any]) -> None:
        errors.clear()
        body = SlackClient.submission_body(debrief_view, answers(**overrides), view_id=f"VG{next(ids)}")
        probe(running, "slack modal", "/slack/events", body.encode(),
              {"Content-Type": FORM, **signed(body.encode())})
        no_errors(errors)

    check()
    report("slack modal")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"next_meeting_at": "9999-12-31", "next_meeting_time": "23:59"}, "next_meeting_at"),
        ({"next_meeting_at": "0001-01-01", "next_meeting_time": "00:00"}, "next_meeting_at"),
        ({"next_meeting_at": "2031-13-45", "next_meeting_time": "99:99"}, "next_meeting_at"),
        ({"next_step_due": "9999-12-31"}, "next_step_due"),
    ],
)
def test_slack_modal_impossible_dates_are_field_errors(
    running: Running, errors: pytest.LogCaptureFixture, debrief_view: dict[str, Any],
    overrides: dict[str, str], field: str,
) -> None:
    before = running.count(Debrief)
    status, text = submit(running, debrief_view, answers(**overrides), f"VD{field}{len(overrides)}")
    assert status == 200 and json.loads(text)["response_action"] == "errors"
    assert list(json.loads(text)["errors"]) == [field]
    assert running.count(Debrief) == before
    no_errors(errors)


@pytest.mark.parametrize("crafted", ["edit_of", "person_id", "timezone"])
def test_slack_modal_crafted_metadata_is_not_trusted(
    running: Running, errors: pytest.LogCaptureFixture, debrief_view: dict[str, Any], crafted: str
) -> None:
    meta = json.loads(debrief_view["private_metadata"])
    team, user, person_id, locale, tz = meta["owner"]
    if crafted == "edit_of":
        meta["edit_of"] = int("1" * 40)
    elif crafted == "person_id":
        meta["owner"] = [team, user, int("9" * 40), locale, tz]
    else:
        meta["owner"] = [team, user, person_id, locale, "Not/AZone"]
    view = {**debrief_view, "private_metadata": json.dumps(meta)}
    before = running.count(Debrief)
    status, text = submit(running, view, answers(), f"VM{crafted}")
    assert status == 200  # the metadata is dropped: the modal asks for the customer again
    assert list(json.loads(text)["errors"]) == ["account"]
    assert running.count(Debrief) == before
    no_errors(errors)
