"""The words people type to the coach, in English and Dutch, mapped to command names.

Every channel parses with `parse_command`, so `/debrief history` in Slack, `history` in Teams and
`geschiedenis` in the web chat mean the same thing. A channel handles the few commands it renders
itself (Slack opens a modal for `debrief`) and passes the rest to `conversation.reply_to`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# name -> the words (first word of the message, case-insensitive, optional leading "/") for it
WORDS: dict[str, tuple[str, ...]] = {
    "debrief": ("debrief",),
    "history": ("history", "geschiedenis", "historie"),
    "edit": ("edit", "wijzig", "aanpassen", "correct"),
    "help": ("help", "hulp", "?"),
    "language": ("language", "lang", "taal"),
    "cancel": ("cancel", "stop", "annuleer", "annuleren"),
    "greeting": ("hi", "hello", "hey", "hallo", "hoi", "start"),
    # Meetings and nudges, teams, the digest, action points and data rights handle these:
    "meeting": ("meeting", "afspraak", "gesprek"),
    "pause": ("pause", "pauze", "pauzeer"),
    "resume": ("resume", "hervat"),
    "nudges": ("nudges", "herinneringen"),
    "tactic": ("tactic", "tactiek"),  # the rep's own counter-tactic for the meeting being prepared
    "team": ("team",),
    "assign": ("assign", "toewijzen", "opdracht"),
    "actions": ("actions", "actiepunten", "acties"),
    "done": ("done", "klaar", "gedaan"),
    "not_yet": ("not-yet", "nog-niet"),
    "export": ("export", "exporteer"),
    "forget": ("forget", "vergeet", "wis"),
    "crm": ("crm",),  # the buttons of the CRM question (dialogs.crm_choice)
}
_BY_WORD = {word: name for name, words in WORDS.items() for word in words}
_SPLIT = re.compile(r"^\s*/?(\S+)\s*(.*)$", re.S)

# Commands that are complete on their own and may interrupt a debrief in progress only when
# the whole message is exactly the word (an answer may well start with "help ...").
INTERRUPTING = {"help", "cancel", "history"}


@dataclass(frozen=True)
class Command:
    name: str  # a key of WORDS, or "" when the text is not a command
    arg: str  # the rest of the message, stripped


def parse_command(text: str) -> Command:
    match = _SPLIT.match(text or "")
    if not match:
        return Command("", "")
    word, rest = match.group(1).casefold(), match.group(2).strip()
    return Command(_BY_WORD.get(word, ""), rest)
