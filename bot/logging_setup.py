"""Logging, set up in one place for every `coach` command: one record is one line, no content.

- One record, one line: the text formatter escapes line breaks, tabs, other C0/C1 controls,
  U+2028/2029 and bidi controls in the whole formatted record (message, arguments, traceback),
  so a field holding "\\n[forged] INFO ..." cannot start a line of its own. The JSON formatter
  writes one object per line (json.dumps escapes them).
- No request bodies or message contents: Slack's signature check is our own
  (bot.slack.verification); Bolt's other lines that quote a request are replaced by ours
  (QuotedRequestFilter, on every handler installed here); the loggers that print payloads or
  SQL parameters (PAYLOAD_LOGGERS) never go below their least level, --debug included.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import TextIO

from bot import log_messages as msg
from bot.config import LoggingConfig

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidi controls
# (ALM, LRM, RLM, LRE..RLO, LRI..PDI) that can make a line read as something else.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Loggers that print whole request or response payloads at DEBUG, and the least level each may
# have: coach.slack is among them (Bolt and its Socket Mode client write into the logger the app
# is built with); aiosqlite logs every statement with its parameters (a debrief's notes) at
# DEBUG, SQLAlchemy's engine at INFO.
PAYLOAD_LOGGERS = {
    "coach.slack": logging.INFO,
    "slack_bolt": logging.INFO,
    "slack_sdk": logging.INFO,
    "msrest": logging.INFO,
    "botbuilder": logging.INFO,
    "botframework": logging.INFO,
    "aiosqlite": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
}


def escape_controls(text: str) -> str:
    """`text` on one line: \\n, \\r, \\t, and \\xNN or \\uNNNN for the other controls."""
    return _CONTROLS.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


class OneLineFormatter(logging.Formatter):
    """`LEVEL logger: message`, every control character escaped: one record, one line."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)  # ensure_ascii: every control and non-ASCII character escaped


# Bolt's lines that quote the request: "Unhandled request ({...body parts...})" and
# "A global middleware (name) skipped calling ... for the request ({whole body})".
_UNHANDLED = re.compile(r"^Unhandled request \(\{'type': '(\w+)'")
_QUOTING = re.compile(r"^(Unhandled request|A global middleware \([\w.:<>]+\) skipped calling|"
                      r"Invalid request signature detected)")


class QuotedRequestFilter(logging.Filter):
    """Replaces a Bolt line that quotes the request with our own line naming only its kind."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or not _QUOTING.match(record.msg):
            return True
        kind = _UNHANDLED.match(record.msg)
        if kind is not None:
            record.msg = msg.SLACK_UNHANDLED.format(kind=kind.group(1))
        else:
            start = _QUOTING.match(record.msg)
            record.msg = msg.SLACK_BOLT_QUOTED.format(start=start.group(1) if start else "")
        record.args = None
        return True


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (as logging.lastResort does)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr


def handler(config: LoggingConfig, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stderr) with the configured formatter and the quoted-request filter."""
    out = _Stderr() if stream is None else logging.StreamHandler(stream)
    out.setFormatter(JsonFormatter() if config.format == "json" else OneLineFormatter())
    out.addFilter(QuotedRequestFilter())
    return out


_INSTALLED: list[logging.Handler] = []


def configure(config: LoggingConfig, *, debug: bool = False, floor: int = logging.NOTSET,
              stream: TextIO | None = None) -> None:
    """Set up the root logger (idempotent): our one handler, `config.level` (DEBUG with --debug,
    at least `floor`), alembic at WARNING unless --debug, payload loggers at their least level or above."""
    root = logging.getLogger()
    for old in _INSTALLED:
        root.removeHandler(old)
    _INSTALLED[:] = [handler(config, stream)]
    root.addHandler(_INSTALLED[0])
    level = logging.DEBUG if debug else max(logging.getLevelName(config.level), floor)
    root.setLevel(level)
    # Alembic says "Context impl SQLiteImpl." and every step at INFO on each start: only with --debug.
    logging.getLogger("alembic").setLevel(logging.DEBUG if debug else max(level, logging.WARNING))
    for name, least in PAYLOAD_LOGGERS.items():
        logging.getLogger(name).setLevel(max(level, least))
