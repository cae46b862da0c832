"""Slack's user mentions (`<@U123>`, `<@U123|name>`) as the plain person references dialogs take."""

from __future__ import annotations

import re

from dialogs.commands import parse_command

_USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


NAMING_COMMANDS = ("team", "assign")  # the commands that name a person


def person_references(text: str) -> str:
    """A `team` or `assign` command with each user mention as that user's id (dialogs find people
    by it, inside the signed request's workspace only).

    Any other text is left as it is: a mention typed into an answer stays the text the rep typed.
    """
    if parse_command(text).name not in NAMING_COMMANDS:
        return text
    return _USER_MENTION.sub(lambda m: m.group(1), text)
