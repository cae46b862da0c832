"""Per-platform, per-renderer escaping of user text: it never becomes a mention, a link or markup.

Only user text is escaped, and only where it sits: the texts the dialogs return are `Text`s
(dialogs.text) that know which spans are values placed into a prompt. The bot's own wording from
prompts/ is never escaped. A plain `str` (not rendered by dialogs.text) counts as user text.

Teams (Adaptive Card TextBlock, the one Teams renderer user text reaches; plain messages go with
`textFormat: plain`, raw) — what each client renders, and so what is escaped:

- `& < >` as entities (`&amp; &lt; &gt;`): no HTML, no `<at>` mention. Never in a FactSet value
  (Teams on Android shows the entity there): FactSets carry only the bot's own values.
- `\\*` and `\\_` only: desktop, Android and iOS all drop the backslash before these two. No
  backslash before anything else (`. ( ) - ! # + { } | ~` or a backtick): the phones show it.
  A backslash the person typed before punctuation gets a WORD JOINER after it, so it stays a
  backslash and escapes nothing.
- `[label](url)`: a WORD JOINER (U+2060, zero width, not whitespace) between `]` and `(`, so it
  is no link; invisible in every client.
- A line that would start a list (`- `, `+ `, `* `, `1. `, `1) `): a WORD JOINER in front of the
  marker. A list marker must begin its line; after U+2060 the line is a paragraph, and the word
  joiner itself shows nothing (unlike a no-break space, it has no width).

Slack (plain_text objects and the notification text): `& < >` as entities, nothing else.
"""

from __future__ import annotations

import html
import re

from dialogs.text import pieces

WORD_JOINER = "\u2060"

_BACKSLASH_PUNCT = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
_LIST_START = re.compile(r"^([ \t]*)(?=(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$))", re.M)


def for_web(text: str) -> str:
    """HTML text content (the web chat also renders with textContent, never innerHTML)."""
    return html.escape(text, quote=True)


def for_slack(text: str) -> str:
    """Slack mrkdwn: &, < and > are the only control characters of mentions and links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def for_teams(text: str, *, line_start: bool = True) -> str:
    """One piece of user text for a Teams TextBlock (see the module docstring for what and why).
    `line_start`: the piece begins a line (so a leading `- ` would start a list)."""
    out = _BACKSLASH_PUNCT.sub("\\\\" + WORD_JOINER, text)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = out.replace("*", "\\*").replace("_", "\\_")
    out = out.replace("](", "]" + WORD_JOINER + "(")
    if out.endswith(("]", "\\")):  # no link, no escape across the seam with the bot's text after it
        out += WORD_JOINER
    if not line_start:
        head, sep, rest = out.partition("\n")
        return head + sep + _LIST_START.sub(r"\1" + WORD_JOINER, rest) if sep else head
    return _LIST_START.sub(r"\1" + WORD_JOINER, out)


def teams_text(text: str) -> str:
    """A rendered text for a Teams TextBlock: the user spans escaped, the bot's wording as is."""
    out: list[str] = []
    line = ""  # what the current line holds so far
    for segment, user in pieces(text):
        piece = for_teams(segment, line_start=not line.strip()) if user else segment
        out.append(piece)
        line = (line + piece).rsplit("\n", 1)[-1]
    return "".join(out)
