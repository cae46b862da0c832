"""A chat driver for the dialog tests: says things, presses buttons by label, remembers replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs import conversation
from dialogs.context import CoachContext
from dialogs.messages import Reply
from storage.dialog_state import load_dialog
from storage.models import DialogState
from tests.factories import make_person


class Chat:
    """One person talking to the coach on one channel, through conversation.reply_to."""

    def __init__(self, coach: CoachContext, person_id: int, channel: str = "web") -> None:
        self.coach = coach
        self.person_id = person_id
        self.channel = channel
        self.replies: list[Reply] = []

    async def say(self, text: str, *, expect: str | None = None) -> list[Reply]:
        self.replies = await conversation.reply_to(
            ctx=self.coach, person_id=self.person_id, channel=self.channel, text=text, expect=expect
        )
        return self.replies

    @property
    def question(self) -> Reply:
        asked = [r for r in self.replies if r.kind == "question"]
        assert asked, f"no question in {self.replies}"
        return asked[-1]

    @property
    def field(self) -> str:
        """The field the coach is asking for now ("account" before the checklist)."""
        assert self.question.expect is not None
        return self.question.expect.split("@")[0]

    @property
    def kinds(self) -> list[str]:
        return [r.kind for r in self.replies]

    def reply(self, kind: str) -> Reply:
        found = [r for r in self.replies if r.kind == kind]
        assert found, f"no {kind!r} reply in {self.replies}"
        return found[0]

    async def press(self, label: str) -> list[Reply]:
        """Press the button with this label on the current question (echoing its token)."""
        question = self.question
        for button in question.buttons:
            if button.label == label:
                return await self.say(button.value, expect=question.expect)
        raise AssertionError(f"no button {label!r} in {[b.label for b in question.buttons]}")

    async def answer(self, answers: dict[str, str]) -> list[Reply]:
        """Answer the questions as they come, by field key, until one is not in `answers`."""
        while any(r.kind == "question" for r in self.replies) and self.field in answers:
            field = self.field
            await self.say(answers[field])
            assert "error" not in self.kinds, (field, answers[field], self.replies)
        return self.replies

    async def debrief(self, account: str, answers: Mapping[str, str]) -> list[str]:
        """`debrief <account>`, then answer every question from `answers` (by field, as
        tests/debrief_paths.py has them) until the debrief is saved; the fields asked, in order.
        A question the answers do not cover fails the test: the path is asked exactly."""
        await self.say(f"debrief {account}")
        return await self.answer_all(answers)

    async def answer_all(self, answers: Mapping[str, str]) -> list[str]:
        """Answer the open question and every one after it from `answers`, until none is open."""
        asked: list[str] = []
        while any(r.kind == "question" for r in self.replies):
            field = self.field
            assert field in answers, f"asked {field!r}, which the path does not answer ({asked})"
            asked.append(field)
            await self.say(answers[field])
            assert "error" not in self.kinds, (field, answers[field], self.replies)
        assert "saved" in self.kinds, self.replies
        return asked

    async def dialog(self) -> DialogState | None:
        async with self.coach.db() as session:
            return await load_dialog(session=session, person_id=self.person_id, channel=self.channel)


ChatFactory = Callable[..., Awaitable[Chat]]


@pytest.fixture
def make_chat(coach: CoachContext, db: async_sessionmaker[AsyncSession]) -> ChatFactory:
    """make_chat(locale="nl", user_id="U2", ...) -> a Chat with a new person (make_person kwargs)."""

    async def build(*, channel: str = "web", **person: Any) -> Chat:
        rep = await make_person(db, **person)
        assert rep.id is not None
        return Chat(coach, rep.id, channel)

    return build
