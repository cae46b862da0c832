"""The `coach` command as an operator meets it: --help everywhere, one-line config errors, serve."""

from __future__ import annotations

import argparse
import json
import re
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, main


def command_paths(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from command_paths(sub, (*path, name))


COMMANDS = list(command_paths(build_parser()))


def test_the_contract_commands_exist() -> None:
    assert {(), ("serve",), ("db",), ("db", "upgrade"), ("db", "current")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "coach")
def test_every_command_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*path, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: coach {' '.join(path)}".rstrip())
    assert len(out.splitlines()) >= 3


def test_help_through_the_console_script(run_coach) -> None:
    result = run_coach("--help")
    assert result.returncode == 0 and "serve" in result.stdout and "db" in result.stdout
    serve = run_coach("serve", "--help")
    assert serve.returncode == 0
    assert all(flag in serve.stdout for flag in ("--host", "--port", "--demo"))


# -- a bad app.yaml stops `coach serve` with one line ------------------------------------------------
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour: blue\n", "colour"),
        ("default_timezone: Mars/Olympus\n", "default_timezone"),
        ("digest:\n  time: '8 o clock'\n", "digest.time"),
        ("slack_bot_token: xoxb-1234-5678-abcdefgh\n", "slack_bot_token"),
        ("quiet_hours:\n  start: [20:00\n", None),  # YAML syntax: the line instead of a key
    ],
)
def test_bad_app_yaml_stops_serve_in_one_line(run_coach, tmp_path: Path, text: str, key: str | None) -> None:
    config = tmp_path / "app.yaml"
    config.write_text(text, encoding="utf-8")
    result = run_coach("serve", "--port", "0", COACH_CONFIG=str(config), timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(config) in lines[0]
    assert (f"'{key}'" in lines[0]) if key else (" line " in lines[0])
    assert "xoxb-1234" not in result.stderr  # the secret is not echoed back
    assert "Traceback" not in result.stderr


def test_default_app_yaml_in_the_working_directory_is_read(run_coach, tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("server:\n  hots: 0.0.0.0\n", encoding="utf-8")
    result = run_coach("serve")
    assert result.returncode != 0
    assert result.stderr.strip() == "coach: app.yaml: key 'server.hots': unknown key"


@pytest.mark.parametrize(
    ("var", "value"), [("SLACK_BOT_TOKEN", "changeme"), ("MicrosoftAppPassword", "<secret>")]
)
def test_placeholder_secret_in_the_environment_stops_serve(run_coach, var: str, value: str) -> None:
    result = run_coach("serve", "--port", "0", **{var: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and var in lines[0] and "placeholder" in lines[0], result.stderr


# -- serve starts, answers, and stops -------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_healthz_and_says_which_channels_are_on(run_coach, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*run_coach.command(), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=run_coach.env(COACH_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    status = resp.status
                    break
            except OSError:
                time.sleep(0.1)
        assert status == 200, proc.poll()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, -15), err
    lines = out.splitlines()
    for channel in ("Web chat:", "Slack:", "Teams:"):  # one line per channel
        assert len([line for line in lines if line.startswith(channel)]) == 1, out
    assert "Web chat: on" in out and "Slack: off" in out
    assert f"127.0.0.1:{port}" in out
    assert (tmp_path / "coach.db").exists()  # the embedded default migrated itself


# -- what an operator reads: listening once started, which database, a port in use -------------
def test_serve_says_listening_once_started_and_names_the_database(run_coach, tmp_path: Path) -> None:
    """Run from outside the repository: the default ./coach.db is named by its absolute path, and
    "listening" comes after the migrations ran, the app started and the port is bound."""
    proc = subprocess.Popen(
        [*run_coach.command(), "serve", "--port", "0"],
        cwd=tmp_path, env=run_coach.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "is listening on" in line:
                break
        *before, listening = lines
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", listening)
        assert url is not None and url.group(1) != "0", lines
        with urllib.request.urlopen(f"{url.group(0)}healthz", timeout=5) as resp:  # no retry needed
            assert resp.status == 200
        with sqlite3.connect(tmp_path / "coach.db") as db:
            assert db.execute("SELECT version_num FROM alembic_version").fetchone() is not None
        assert f"Database: sqlite+aiosqlite:///{(tmp_path / 'coach.db').resolve()}" in before
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        watchdog.cancel()
    assert proc.returncode == 0, err
    assert "alembic" not in err.lower() and "Context impl" not in err and "Running upgrade" not in err


def test_a_port_in_use_is_said_in_one_line(run_coach, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_coach("serve", "--port", str(port), timeout=60,
                           COACH_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"coach: port {port} is in use: ")
    assert "database" not in lines[0].lower() and "Traceback" not in result.stderr
    assert "is listening on" not in result.stdout


def test_database_commands_name_the_database_outside_the_json(run_coach, tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{(tmp_path / 'coach.db').resolve()}"
    for args in (("db", "upgrade", "--json"), ("db", "current", "--json"), ("outbox", "list", "--json")):
        result = run_coach(*args)  # COACH_DATABASE_URL unset: ./coach.db in the working directory
        assert result.returncode == 0, result.stderr
        json.loads(result.stdout)  # the JSON alone on stdout
        assert result.stderr.splitlines() == [f"Database: {database}"], args
    plain = run_coach("db", "current")
    assert plain.stdout.startswith("current ") and f"Database: {database}" in plain.stderr
