"""One escaping function per platform: user text never becomes a mention, a link or markup."""

from __future__ import annotations

import html
import re


def for_web(text: str) -> str:
    """HTML text content (the web chat also renders with textContent, never innerHTML)."""
    return html.escape(text, quote=True)


def for_slack(text: str) -> str:
    """Slack mrkdwn: &, < and > are the only control characters of mentions and links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEAMS_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def for_teams(text: str) -> str:
    """Teams text (markdown and a little HTML): escape both so nothing formats, links or mentions."""
    return _TEAMS_MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
