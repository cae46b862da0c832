"""The fast decoding of interactivity bodies (bot.slack.bolt_internals.bolt_request) reads what Bolt's
own does."""

from __future__ import annotations

import asyncio
import json
from unittest import mock
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


@pytest.mark.parametrize("fast", [True, False])
async def test_the_switch_falls_back_to_bolts_own_request(
    monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    from aiohttp import streams
    from aiohttp.test_utils import make_mocked_request

    from bot.slack import bolt_internals

    raw = urlencode({"payload": json.dumps(TRICKY)})
    protocol = mock.Mock(_reading_paused=False)  # the connection a StreamReader pauses and resumes
    payload = streams.StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    payload.feed_data(raw.encode())
    payload.feed_eof()
    request = make_mocked_request("POST", "/slack/events?x=1", headers={"Content-Type": FORM},
                                  payload=payload)
    monkeypatch.setattr(bolt_internals, "FAST_FORM_PAYLOAD", fast)
    bolt = await bolt_internals.bolt_request(request)
    assert bolt.raw_body == raw and bolt.body == TRICKY and bolt.query == {"x": ["1"]}
    assert bolt.context.user_id == "U1"

