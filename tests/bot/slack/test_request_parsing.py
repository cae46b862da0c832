"""The fast decoding of interactivity bodies (bot.slack.bolt_internals.bolt_request) reads what Bolt's
own does."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_bolt.request.internals import parse_body

from bot.slack.bolt_internals import _form_payload

FORM = "application/x-www-form-urlencoded"
TRICKY = {
    "type": "view_submission",
    "user": {"id": "U1"},
    "view": {
        "id": "V1",
        "state": {"values": {"note:opening": {"value": {
            "type": "plain_text_input",
            "value": "a+b & c=d; 100% <!channel> <@U123> <https://evil.example|click> ü 😀 \u2028 %zz",
        }}}},
    },
}


def test_a_payload_body_decodes_as_bolt_decodes_it() -> None:
    raw = urlencode({"payload": json.dumps(TRICKY)})
    assert _form_payload(raw) == parse_body(raw, FORM) == TRICKY


@pytest.mark.parametrize(
    "raw",
    [
        urlencode({"command": "/debrief", "text": "Acme", "user_id": "U1"}),  # a slash command
        urlencode({"payload": json.dumps(TRICKY), "extra": "1"}),  # more than the payload
        "payload=" + "%7Bnot json",
        "payload=" + urlencode({"x": "[1, 2]"})[2:],  # JSON, but not an object
        json.dumps(TRICKY),  # an Events API body (JSON)
        "",
    ],
)
def test_other_bodies_are_left_to_bolt(raw: str) -> None:
    assert _form_payload(raw) is None
