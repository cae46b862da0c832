"""What the running app writes to its log about Slack requests: our lines, never their content.

The log is read as an operator reads it: the handler `coach` installs (our formatter and filter,
bot.logging_setup.configure) on the root logger, writing into a buffer."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from bot import log_messages as msg
from bot import logging_setup
from bot.config import LoggingConfig
from tests.bot.slack.conftest import TEAM, USER, SlackClient
from tests.conftest import LiveApp

NOTE = "Rep-note-7f3a: customer said budget frozen until Q3"
FORGED = "[forged] INFO coach.slack: Slack: on"


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, through the handler `coach` installs."""
    root = logging.getLogger()
    names = (*logging_setup.PAYLOAD_LOGGERS, "alembic")
    saved = (list(root.handlers), root.level, {n: logging.getLogger(n).level for n in names})
    buffer = io.StringIO()
    logging_setup.configure(LoggingConfig(), stream=buffer)
    yield buffer
    handlers, level, levels = saved
    for added in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(added)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def _form(note: str) -> str:
    return urlencode({"command": "/debrief", "text": f"Acme {note}\n{FORGED}", "user_id": USER,
                      "team_id": TEAM, "trigger_id": "1.2.t"})


@pytest.mark.parametrize("case", ["forged", "stale", "no_headers", "bad_timestamp"])
async def test_a_bad_signature_logs_our_line_and_not_the_body(
    case: str, slack: SlackClient, live_app: LiveApp, log_text: io.StringIO
) -> None:
    body = _form(NOTE)
    headers = slack.headers(body, content_type="application/x-www-form-urlencoded")
    if case == "forged":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif case == "stale":
        headers = slack.headers(body, timestamp=1_000_000, content_type="application/x-www-form-urlencoded")
    elif case == "no_headers":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    else:
        headers["X-Slack-Request-Timestamp"] = "12ab"
    async with slack.http.post(slack.url, data=body.encode(), headers=headers) as resp:
        assert resp.status == 401
    lines = log_text.getvalue().splitlines()
    refused = [line for line in lines if "Slack: refused a request with a bad signature (401)" in line]
    assert len(refused) == 1, lines
    assert refused[0].startswith("WARNING coach.slack: ")
    text = log_text.getvalue()
    assert "Rep-note-7f3a" not in text and "budget" not in text and "[forged]" not in text
    assert "Invalid request signature" not in text


async def test_a_good_signature_still_passes(
    slack: SlackClient, live_app: LiveApp, log_text: io.StringIO
) -> None:
    status, _ = await slack.command("Acme")
    assert status == 200
    assert "bad signature" not in log_text.getvalue()


async def test_bolts_unhandled_request_line_is_ours_without_the_typed_text(
    slack: SlackClient, live_app: LiveApp, log_text: io.StringIO
) -> None:
    """A suggestion request no listener takes: Bolt's warning quotes the typed value; ours does not."""
    payload = {
        "type": "block_suggestion", "action_id": "not-ours", "block_id": "x", "value": NOTE,
        "team": {"id": TEAM, "domain": "example"}, "user": {"id": USER, "team_id": TEAM},
        "api_app_id": "A111", "view": {"id": "V1", "type": "modal", "callback_id": "other"},
    }
    status, _ = await slack.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 404
    text = log_text.getvalue()
    assert msg.SLACK_UNHANDLED.format(kind="block_suggestion") in text, text
    assert "Rep-note-7f3a" not in text and "Suggestion" not in text


async def test_a_header_with_a_line_separator_stays_on_one_line(
    live_app: LiveApp, log_text: io.StringIO
) -> None:
    """An Origin header carrying U+2028 (a line break to many log viewers) and a forged record:
    the web chat's refusal names the origin, escaped, on its own single line."""
    host, port = live_app.url.removeprefix("http://").split(":")
    origin = "http://evil.example\u2028" + FORGED + "\u202e"
    request = (
        f"POST /webchat/messages HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Origin: {origin}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    ).encode()
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    status = (await reader.readline()).split()[1]
    writer.close()
    await writer.wait_closed()
    assert status == b"403"
    lines = log_text.getvalue().splitlines()
    refused = [line for line in lines if "Web chat request with Origin" in line]
    assert len(refused) == 1, lines
    assert "\\u2028[forged] INFO" in refused[0] and "\\u202e" in refused[0]
    assert not any(line.startswith("[forged]") for line in lines)
