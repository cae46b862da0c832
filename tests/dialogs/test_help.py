"""`help` lists every command a rep has, grouped by topic; managers also see their team's; an
unknown command gets the same list under a line that says so."""

from __future__ import annotations

import re

import pytest

from dialogs.commands import WORDS
from dialogs.messages import Reply
from tests.dialogs.conftest import ChatFactory
from tests.factories import make_person

# Every command of dialogs.commands a rep can type (greetings are not listed; `team` is a manager's).
REP_COMMANDS = ("debrief", "history", "edit", "cancel", "language", "help", "meeting", "pause",
                "resume", "nudges", "export", "forget")
GROUP_TITLES = {
    "en": ["After a meeting", "Meetings and nudges", "Your data", "Other"],
    "nl": ["Na een gesprek", "Afspraken en herinneringen", "Je gegevens", "Overig"],
}
TEAM_TITLE = {"en": "Your team", "nl": "Je team"}


def listed(reply: Reply, command: str) -> bool:
    """Whether one of the command's words opens a line of the list, or an alternative after "/"."""
    lines = [item for group in reply.groups for item in group.items]
    return any(re.search(rf"(^|/ ){re.escape(word)}\b", line) for line in lines for word in WORDS[command])


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_help_lists_every_command_grouped(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    [reply] = await chat.say("help" if locale == "en" else "hulp")
    assert reply.kind == "help" and reply.title == chat.coach.texts.message(locale, "help_title")
    assert [g.title for g in reply.groups] == GROUP_TITLES[locale]
    assert all(g.items for g in reply.groups)
    missing = [c for c in REP_COMMANDS if not listed(reply, c)]
    assert missing == [], f"not in help: {missing}"
    assert not listed(reply, "team")  # not a manager


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_an_unknown_command_gets_the_same_list(make_chat: ChatFactory, locale: str) -> None:
    chat = await make_chat(locale=locale)
    [help_reply] = await chat.say("help")
    [unknown] = await chat.say("frobnicate the pipeline")
    assert unknown.text == chat.coach.texts.message(locale, "unknown_command", text="frobnicate the pipeline")
    assert unknown.groups == help_reply.groups and unknown.title == help_reply.title


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_managers_also_see_their_team_commands(make_chat: ChatFactory, locale: str) -> None:
    manager = await make_chat(locale=locale, user_id="M1", name="Maartje", role="manager")
    [reply] = await manager.say("help")
    assert [g.title for g in reply.groups][3] == TEAM_TITLE[locale]
    assert listed(reply, "team")

    # A rep with reps of their own (a team lead by `team add`) is a manager for this purpose.
    lead = await make_chat(locale=locale, user_id="L1", name="Lotte")
    await make_person(manager.coach.db, user_id="R9", name="Ravi", manager_id=lead.person_id)
    [reply] = await lead.say("help")
    assert TEAM_TITLE[locale] in [g.title for g in reply.groups]


async def test_help_mid_debrief_answers_and_asks_the_open_question_again(make_chat: ChatFactory) -> None:
    chat = await make_chat()
    await chat.say("debrief Acme")
    asked = chat.question.expect
    await chat.say("help")
    assert chat.kinds == ["help", "question"] and chat.question.expect == asked
    assert chat.replies[0].groups
