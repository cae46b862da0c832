"""The log as an operator reads it: one record a line, text or JSON, and no request content.

`coach serve` runs in a subprocess with a temp app.yaml; its stderr is the log."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from bot import logging_setup
from bot.config import LoggingConfig
from tests.bot.slack.conftest import BOT_TOKEN, SIGNING_SECRET, TEAM, USER, SlackClient, answers
from tests.fakes.slack_api import FakeSlackApi

NOTE = "Rep-note-91c2: the CFO is leaving in March"
FORGED = "\n[forged] INFO coach.slack: Slack: on"


# -- the formatters, through a real handler on a real logger ------------------------------------
@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, io.StringIO]]:
    """A logger writing to a text handler and a JSON handler, as configure() builds them."""
    text, as_json = io.StringIO(), io.StringIO()
    log = logging.getLogger("coach.test_logging")
    log.propagate = False
    log.setLevel(logging.INFO)
    handlers = [logging_setup.handler(LoggingConfig(), text),
                logging_setup.handler(LoggingConfig(format="json"), as_json)]
    for handler in handlers:
        log.addHandler(handler)
    yield log, text, as_json
    for handler in handlers:
        log.removeHandler(handler)


@pytest.mark.parametrize("field", [
    FORGED, "\r[forged] INFO x", "a\u2028[forged] INFO x", "a\u2029b", "a\x85b", "a\x1b[2Jb",
    "a\u202eb", "a\u2066b\u2069", "tab\there", "nul\x00", "del\x7f",
])
def test_a_field_with_a_control_character_is_one_line(logged, field: str) -> None:
    log, text, as_json = logged
    log.warning("Slack: sending to %s failed (%s)", field, "boom")
    lines = text.getvalue().split("\n")
    assert lines[1:] == [""], lines  # exactly one line, newline-terminated
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", lines[0])
    assert lines[0].startswith("WARNING coach.test_logging: Slack: sending to ")
    record = json.loads(as_json.getvalue())
    assert record["message"] == f"Slack: sending to {field} failed (boom)"  # JSON keeps it exact


def test_newlines_become_visible_escapes(logged) -> None:
    log, text, _ = logged
    log.info("x %s", FORGED)
    assert text.getvalue() == "INFO coach.test_logging: x \\n[forged] INFO coach.slack: Slack: on\n"


def test_a_traceback_is_one_line_too(logged) -> None:
    log, text, as_json = logged
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        log.exception("Scheduler: batch failed")
    assert text.getvalue().count("\n") == 1
    assert "Traceback (most recent call last):\\n" in text.getvalue()
    record = json.loads(as_json.getvalue())
    assert record["message"] == "Scheduler: batch failed"
    assert record["exception"].endswith("ValueError: bad\nvalue")


def test_json_lines_have_time_level_logger_message(logged) -> None:
    log, _, as_json = logged
    log.info("one")
    log.warning("two")
    records = [json.loads(line) for line in as_json.getvalue().splitlines()]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("INFO", "coach.test_logging", "one"), ("WARNING", "coach.test_logging", "two")]
    for r in records:
        assert set(r) == {"time", "level", "logger", "message"}
        assert r["time"].endswith("+00:00")
        assert abs(time.time() - time.mktime(time.strptime(r["time"][:19], "%Y-%m-%dT%H:%M:%S"))
                   + time.timezone) < 60  # UTC, now


# -- `coach serve` as it runs: Slack requests over real HTTP, the fake Web API behind it -----------
class Served:
    def __init__(self, url: str) -> None:
        self.url = url
        self.err = ""


@contextlib.asynccontextmanager
async def served(
    run_coach, tmp_path: Path, app_yaml: str, api: FakeSlackApi, *flags: str
) -> AsyncIterator[Served]:
    """`coach serve --port 0` with Slack on (the fake Web API); .err is its stderr once stopped."""
    (tmp_path / "app.yaml").write_text(app_yaml, encoding="utf-8")
    env = run_coach.env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN,
                        SLACK_API_URL=api.api_url,
                        COACH_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    proc = await asyncio.create_subprocess_exec(
        *run_coach.command(), "serve", "--port", "0", *flags, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stderr = asyncio.create_task(proc.stderr.read())  # drained all along: --debug writes a lot

    async def listening() -> str:
        assert proc.stdout is not None
        async for line in proc.stdout:
            found = re.search(r"is listening on (http://127\.0\.0\.1:\d+)/", line.decode())
            if found:
                return found.group(1)
        raise AssertionError("coach serve stopped before listening")

    try:
        server = Served(await asyncio.wait_for(listening(), 60))
        yield server
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
        err = (await stderr).decode()
    server.err = err
    assert proc.returncode == 0, err


def _bad_signature_body() -> str:
    return urlencode({"command": "/debrief", "text": f"Acme {NOTE}{FORGED}", "user_id": USER,
                      "team_id": TEAM, "trigger_id": "1.2.t"})


async def test_serve_logs_a_bad_signature_in_one_text_line_without_the_body(
    run_coach, tmp_path: Path, slack_api: FakeSlackApi, http: aiohttp.ClientSession
) -> None:
    """--debug included: Bolt, slack_sdk and aiosqlite stay at INFO, so a submitted note (in
    Bolt's request, and in aiosqlite's INSERT parameters) never reaches the log."""
    async with served(run_coach, tmp_path, "organisation: Test\n", slack_api, "--debug") as server:
        forged = SlackClient(http, server.url, secret="not-the-secret")
        assert (await forged.post(_bad_signature_body()))[0] == 401
        genuine = SlackClient(http, server.url)
        assert (await genuine.command("Acme"))[0] == 200
        [opened] = await slack_api.wait_for("views.open")
        status, _ = await genuine.submit(opened.view, answers(**{"note:opening": NOTE}))
        assert status == 200
        await slack_api.wait_for("chat.postMessage")  # the debrief is stored and confirmed
    refused = [line for line in server.err.splitlines() if "bad signature" in line]
    assert refused == ["WARNING coach.slack: Slack: refused a request with a bad signature (401): "
                       "the signature does not match SLACK_SIGNING_SECRET"], server.err
    assert "DEBUG " in server.err  # --debug was on
    assert "Rep-note-91c2" not in server.err and "CFO" not in server.err and "[forged]" not in server.err


async def test_logging_format_json_writes_one_object_a_line(
    run_coach, tmp_path: Path, slack_api: FakeSlackApi, http: aiohttp.ClientSession
) -> None:
    async with served(run_coach, tmp_path, "logging:\n  format: json\n", slack_api) as server:
        forged = SlackClient(http, server.url, secret="not-the-secret")
        assert (await forged.post(_bad_signature_body()))[0] == 401
    records = [json.loads(line) for line in server.err.splitlines()]  # every line parses
    assert records
    for r in records:
        assert {"time", "level", "logger", "message"} <= set(r), r
    refused = [r for r in records if "bad signature" in r["message"]]
    assert len(refused) == 1 and refused[0]["level"] == "WARNING" and refused[0]["logger"] == "coach.slack"
    assert "Rep-note-91c2" not in server.err and "[forged]" not in server.err


def test_an_unknown_logging_format_stops_in_one_line(run_coach, tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("logging:\n  format: xml\n", encoding="utf-8")
    result = run_coach("db", "current")
    assert result.returncode == 2
    assert result.stderr.startswith("coach: app.yaml: key 'logging.format': ")
    assert result.stderr.count("\n") == 1


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    fake = await FakeSlackApi().start()
    yield fake
    await fake.close()
