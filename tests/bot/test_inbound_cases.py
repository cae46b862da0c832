"""The inputs a probe got 500s from, one explicit example each, against one running app: malformed
Slack bodies (401 unsigned, 400 signed), odd timestamps, deep JSON, unknown charsets, garbage Teams
activities, 40-digit button values, year 9999 and a lone surrogate in a web chat draft, crafted
Slack modal metadata. The generated versions are in test_inbound_properties.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.app import TEXTS
from storage.models import Debrief
from tests.bot.inbound import (
    Running,
    action_body,
    activity,
    as_json,
    command_body,
    no_errors,
    open_debrief_view,
    signed,
    submit,
)
from tests.bot.slack.conftest import SlackClient, answers
from tests.fakes.connector import FakeConnector

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
    body = command_body("Acme")
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               **signed(body, timestamp=timestamp or "0")}
    headers["X-Slack-Request-Timestamp"] = timestamp
    assert running.post("/slack/events", body, headers)[0] == 401
    no_errors(errors)


def test_slack_signature_check_agrees_with_slack_sdk(running: Running) -> None:
    """What tests/bot/slack signs with slack_sdk's SignatureVerifier is accepted here."""
    body = command_body("help").decode()
    client = SlackClient(None, running.url)  # type: ignore[arg-type]
    headers = client.headers(body, content_type="application/x-www-form-urlencoded")
    assert running.post("/slack/events", body.encode(), headers)[0] == 200
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    assert running.post("/slack/events", body.encode(), headers)[0] == 401


def test_slack_a_40_digit_edit_button_changes_nothing(
    running: Running, errors: pytest.LogCaptureFixture
) -> None:
    body = action_body("1" * 40)
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
    return [as_json(no_service), b"[]", b'"x"', b"null", b"{}", ("[" * 100_000).encode(),
            b'{"type": "message"}', as_json(activity(connector, conversation=None)),
            as_json(activity(connector, entities="x")), as_json(activity(connector, type=5)),
            as_json(activity(connector, entities=[None])), as_json(activity(connector, entities=[{}])),
            as_json(activity(connector, channelData="x")), as_json(activity(connector, replyToId=[1])),
            as_json(activity(connector, type="invoke", value="x")),
            as_json(activity(connector, type="invoke")),  # no name: botbuilder would answer 501
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
    assert running.post("/api/messages", as_json(body), {"Content-Type": "application/json"})[0] < 300
    assert len(running.connector.delivered) > before  # an answer (the usage line), not a failed turn
    no_errors(errors)


def test_the_app_still_answers_after_all_that(running: Running) -> None:
    status, text = running.post("/webchat/messages", as_json({"text": "help"}),
                                {"Content-Type": "application/json"})
    assert status == 200 and json.loads(text)["messages"][0]["kind"] == "help"


def test_webchat_draft_survives_year_9999_and_a_lone_surrogate(
    running: Running, errors: pytest.LogCaptureFixture
) -> None:
    """The probe's stuck draft: after each bad answer the same question, then valid answers work."""
    texts = running.app[TEXTS]

    def say(text: str | bytes) -> tuple[int, dict[str, Any] | str]:
        body = text if isinstance(text, bytes) else as_json({"text": text})
        status, answer = running.post("/webchat/messages", body, {"Content-Type": "application/json"})
        return status, json.loads(answer) if status == 200 else answer

    def field_of(answer: dict[str, Any] | str) -> str | None:
        assert isinstance(answer, dict)
        expect = answer["messages"][-1]["expect"]
        return expect.split("@")[0] if expect else None

    def valid(field: str) -> str:  # a weak opening (so its note is asked), the rest well
        return {"rating:opening": "partly", "outcome": "next_step"}.get(
            field, "yes" if field.startswith("rating:") else "/skip")

    say("cancel")  # whatever the properties above left open
    status, answer = say("debrief Year Ninety-Nine")
    assert status == 200 and isinstance(answer, dict)
    while (field := field_of(answer)) not in ("note:opening", None):
        status, answer = say(valid(field))
        assert isinstance(answer, dict)
    assert field == "note:opening"
    status, refused = say(b'{"text": "before \\ud800 after"}')  # a lone surrogate: not JSON orjson reads
    assert (status, refused) == (400, texts.message("en", "webchat_bad_request"))
    status, answer = say("noted")
    assert status == 200 and isinstance(answer, dict)
    while (field := field_of(answer)) not in ("next_meeting_at", None):
        status, answer = say(valid(field))
        assert isinstance(answer, dict)
    status, answer = say("9999-12-31 10:00")
    assert status == 200 and isinstance(answer, dict)
    kinds = [m["kind"] for m in answer["messages"]]
    assert kinds == ["error", "question"] and field_of(answer) == "next_meeting_at"
    assert answer["messages"][0]["text"] == texts.message("en", "far_date", text="9999-12-31 10:00",
                                                          years=10)
    status, answer = say("next Tuesday 2pm")  # the last question: saved, the time echoed first
    assert status == 200 and isinstance(answer, dict)
    assert [m["kind"] for m in answer["messages"]] == ["info", "saved", "tips", "recap", "info"]
    no_errors(errors)



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
    view = debrief_view
    if field == "next_step_due":  # asked for a vague next step without a next meeting only
        vague = {"outcome": "postponed", "rating:next_step": "partly", "next_meeting_at": None,
                 "next_meeting_time": None}
        overrides = {**vague, **overrides}
        view = open_debrief_view(running, answers(**vague))
    before = running.count(Debrief)
    status, text = submit(running, view, answers(**overrides), f"VD{field}{len(overrides)}")
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

