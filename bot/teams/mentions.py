"""Teams' `<at>Name</at>` mentions as the plain names dialogs take."""

from __future__ import annotations

import re

_AT_TAG = re.compile(r"</?at[^>]*>", re.I)


def plain_mentions(text: str) -> str:
    """The message with each `<at>Name</at>` mention as the name alone."""
    return _AT_TAG.sub("", text)
