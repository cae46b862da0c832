"""No 5xx from input: generated bodies, headers, charsets and activities against the three inbound
endpoints (POST /webchat/messages, POST /slack/events, POST /api/messages) of one running app.

Each property test sends Hypothesis' examples to the app over real HTTP (tests/bot/inbound.py serves
it once per module on its own event loop): every answer is below 500 and nothing reaches the log at
ERROR. Each prints how many generated requests it sent and how many got a 5xx (-s shows them).
The cases the probe found are explicit examples in test_inbound_cases.py.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.models import Debrief
from tests.bot.inbound import (
    ACTIVITY_FIELDS,
    ANSWERS,
    BODIES,
    CARD_VALUE,
    CONTENT_TYPES,
    FORM,
    HEADER_TEXT,
    JSON_VALUE,
    MODAL_FIELDS,
    PROPERTY,
    SLACK_BODIES,
    Running,
    activity,
    as_json,
    no_errors,
    probe,
    report,
    signed,
)
from tests.bot.slack.conftest import DECIDING, SlackClient, answers


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



def test_teams_activities_never_5xx(running: Running, errors: pytest.LogCaptureFixture) -> None:
    @PROPERTY
    @given(fields=ACTIVITY_FIELDS, text=ANSWERS.filter(lambda a: "\ud800" not in a and "\udfff" not in a),
           value=st.none() | CARD_VALUE, other=st.none() | st.none() | st.none() | BODIES)
    def check(fields: dict[str, Any], text: str, value: dict[str, Any] | None, other: bytes | None) -> None:
        errors.clear()
        generated = activity(running.connector, **{"text": text, "value": value, **fields})
        body = other if other is not None else as_json(generated)
        probe(running, "teams", "/api/messages", body, {"Content-Type": "application/json"})
        no_errors(errors)

    check()
    report("teams")



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


def test_slack_modal_redraws_never_fail(
    running: Running, errors: pytest.LogCaptureFixture, debrief_view: dict[str, Any]
) -> None:
    """A rating chosen in a modal whose state holds odd values (and odd kept answers): the redraw
    is drawn or skipped, never an error."""

    @PROPERTY
    @given(overrides=st.dictionaries(st.sampled_from(MODAL_FIELDS), st.none() | ANSWERS, max_size=4),
           kept=st.dictionaries(st.sampled_from(MODAL_FIELDS), ANSWERS | JSON_VALUE, max_size=3),
           block_id=st.sampled_from(DECIDING))
    def check(overrides: dict[str, Any], kept: dict[str, Any], block_id: str) -> None:
        errors.clear()
        meta = {**json.loads(debrief_view["private_metadata"]), "kept": kept}
        view = {**debrief_view, "private_metadata": json.dumps(meta)}
        form = answers(**overrides)
        form[block_id] = form.get(block_id) or "yes"
        body = SlackClient.choice_body(view, form, block_id)
        probe(running, "slack redraw", "/slack/events", body.encode(),
              {"Content-Type": FORM, **signed(body.encode())})
        no_errors(errors)

    check()
    report("slack redraw")


