"""Slack's user mentions (`<@U123>`, `<@U123|name>`) as the plain person references dialogs take."""

from __future__ import annotations

import re

from dialogs.commands import parse_command

_USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def person_references(text: str) -> str:
    """A `team` command with each user mention as that user's id (dialogs find people by it).

    Any other text is left as it is: a mention typed into an answer stays the text the rep typed.
    """
    if parse_command(text).name != "team":
        return text
    return _USER_MENTION.sub(lambda m: m.group(1), text)
