"""Generated answers typed into a debrief (conversation.reply_to on a real SQLite database).

Whatever is typed at whichever question (arbitrary unicode with lone surrogates and control
characters, huge numbers, dates in year 9999 or 0001, text far over the limit): no exception, no
ERROR in the log, nothing stored before the last answer, and the draft then still takes valid
answers to the end, where the stored debrief reads back. Named cases the probe found follow.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs import conversation
from dialogs.checklist import FIELDS, POINTS
from dialogs.checklist_path import AFTER_POINTS, RULES
from dialogs.commands import WORDS
from dialogs.context import CoachContext
from dialogs.debrief import stored_values
from dialogs.messages import Reply
from dialogs.text import default_texts
from dialogs.validation import DATE_REACH_YEARS
from storage import migrate
from storage.debriefs import count_debriefs, latest_debriefs
from storage.dialog_state import load_dialog, save_dialog
from storage.engine import create_engine, session_factory
from storage.models import DialogState
from tests.factories import FakeClock, make_person

T = TypeVar("T")
EXAMPLES = 150
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# A valid answer to every question (the clock stands at NOW).
VALID: dict[str, str] = {
    "account": "Acme",
    **{f.key: f.choices[0] for f in FIELDS if f.choices},
    **{f.key: "noted" for f in FIELDS if f.kind == "text"},
    "next_step_due": "2026-12-11",
    "next_meeting_at": "next Tuesday 2pm",
    "account_close": "/new",
}
# Debriefs that between them reach every question the chat asks (the rules ask more for weaker
# points): everything well, everything partly and postponed without a meeting, everything lost.
WEAK = {f"rating:{p}": "partly" for p in ("opening", "interaction", "situation", "concessions", "next_step")}
WALKS: list[dict[str, str]] = [
    {},
    WEAK | {"outcome": "postponed", "next_meeting_at": "/skip"},
    {k: "no" for k in WEAK} | {"outcome": "lost"},
]
# Every question: the customer, a name close to a known one, and each field the rules can ask.
QUESTIONS = {
    "account", "account_close", "outcome", *AFTER_POINTS, *(f"rating:{p}" for p in POINTS),
    *(k for p in POINTS for r in RULES.rating_choices(p) for k in RULES.detail_keys(p, r)),
}
SURROGATE_FREE = st.characters(codec="utf-8")
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
TYPED = st.one_of(
    st.text(ANY_CHARACTER, max_size=40),
    st.text(st.characters(max_codepoint=0x9F, exclude_categories=()), max_size=20),
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M")),
    st.sampled_from(["9999-12-31 23:59", "0001-01-01 00:00", "9999-12-31", "0001-01-01",
                     "31 december 9999 om 23:00", "\ud800", "note \udfff end", "over 99999999999 dagen",
                     "in 10000000 years at 10:00", "²", "over ² weken", "nudges snooze " + "9" * 40,
                     "edit " + "1" * 40, "debrief " + "\ud800"]),
    st.integers(min_value=0, max_value=12_000).map(lambda n: "x" * n),
)


class Engine:
    """A CoachContext on a SQLite file, on an event loop of its own (one for the whole module)."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine(f"sqlite+aiosqlite:///{tmp / 'coach.db'}")
        self.run(migrate.upgrade(self.engine))
        self.db = session_factory(self.engine)
        self.coach = CoachContext(db=self.db, texts=default_texts(), clock=FakeClock(NOW))
        self._ids = itertools.count(1)

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    def person(self) -> int:
        person = self.run(make_person(self.db, user_id=f"gen{next(self._ids)}"))
        assert person.id is not None
        return person.id

    def say(self, person_id: int, text: str) -> list[Reply]:
        return self.run(conversation.reply_to(ctx=self.coach, person_id=person_id, channel="web",
                                              text=text))

    def state(self, person_id: int) -> DialogState | None:
        async def load() -> DialogState | None:
            async with self.db() as session:
                return await load_dialog(session=session, person_id=person_id, channel="web")

        return self.run(load())

    def step(self, person_id: int) -> str | None:
        state = self.state(person_id)
        return state.step if state else None

    def put(self, person_id: int, step: str, data: dict[str, Any], version: int | None) -> None:
        """Move the person's draft to `step` with `data` (as answering up to there would)."""
        async def save() -> None:
            async with self.db() as session, session.begin():
                assert await save_dialog(session=session, person_id=person_id, channel="web",
                                         kind="debrief", step=step, data=data, expected_version=version)

        self.run(save())

    def stored(self, person_id: int) -> tuple[int, list[dict[str, Any]]]:
        async def read() -> tuple[int, list[dict[str, Any]]]:
            async with self.db() as session:
                count = await count_debriefs(session=session, person_id=person_id)
                rows = await latest_debriefs(session=session, person_id=person_id, limit=5)
                return count, [stored_values(row) for row in rows]

        return self.run(read())

    def close(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    live = Engine(tmp_path_factory.mktemp("dialogs"))
    yield live
    live.close()


@pytest.fixture(scope="module")
def drafts(engine: Engine) -> dict[str, dict[str, Any]]:
    """The draft's data at each question, from debriefs answered validly along WALKS (and one
    with a customer name close to a known one)."""
    seen: dict[str, dict[str, Any]] = {}
    person_id = engine.person()
    for walk in [*WALKS, {"account": "Acme Logistics"}]:  # the last: close to the "Acme" filed before
        engine.say(person_id, "debrief")
        answers = {**VALID, **walk}
        while (state := engine.state(person_id)) is not None:
            seen.setdefault(state.step, state.data)
            engine.say(person_id, answers[state.step])
    assert set(seen) == QUESTIONS
    return seen


def at_step(engine: Engine, person_id: int, step: str, **walk: str) -> None:
    """Start a debrief and answer validly (VALID, changed by `walk`) up to (not including) `step`."""
    engine.say(person_id, "debrief")
    answers = {**VALID, **{k.replace("__", ":"): v for k, v in walk.items()}}
    while (current := engine.step(person_id)) != step:
        assert current is not None, f"{step} was never asked"
        replies = engine.say(person_id, answers[current])
        assert "error" not in [r.kind for r in replies], (current, replies)


def finish(engine: Engine, person_id: int) -> list[Reply]:
    """Answer validly until the debrief is stored; the replies to the last answer."""
    replies: list[Reply] = []
    for _ in range(len(FIELDS) + 3):
        current = engine.step(person_id)
        if current is None:
            return replies
        replies = engine.say(person_id, VALID[current])
        assert "error" not in [r.kind for r in replies], (current, replies)
    raise AssertionError("the draft never finished")


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not logged, [f"{r.name}: {r.getMessage()}" for r in logged]


def readable(value: Any) -> None:
    """What was stored encodes (no lone surrogate) and holds no control character."""
    if isinstance(value, str):
        value.encode("utf-8")
        assert not any(ord(c) < 0x20 and c not in "\n\t" for c in value), value


def test_any_answer_at_any_question_leaves_a_usable_draft(
    engine: Engine, drafts: dict[str, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    tried: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(step=st.sampled_from(sorted(QUESTIONS)), typed=TYPED)
    def check(step: str, typed: str) -> None:
        caplog.clear()
        person_id = engine.person()
        engine.put(person_id, step, {**drafts[step], "draft_id": uuid.uuid4().hex}, None)
        replies = engine.say(person_id, typed)
        tried.append(step)
        assert replies, "every message gets an answer"
        kinds = [r.kind for r in replies]
        after = engine.step(person_id)
        saved = "saved" in kinds
        assert engine.stored(person_id)[0] == saved  # nothing half-written, nothing early
        if "error" in kinds:  # refused: the same question again
            assert after == step and replies[-1].kind == "question"
            assert replies[-1].meta.get("field", "account") == step
        if after is None and not saved:  # cancelled, say: a new draft starts
            engine.say(person_id, "debrief")
        if after is not None or not saved:  # the draft takes a valid answer, then reaches the end
            current = engine.step(person_id)
            assert current is not None
            assert "error" not in [r.kind for r in engine.say(person_id, VALID[current])]
            if engine.step(person_id) is not None:
                assert "saved" in [r.kind for r in finish(engine, person_id)]
        count, rows = engine.stored(person_id)
        assert count == 1  # saved by the typed answer, or by the valid ones after it: once
        for values in rows:  # what was stored reads back, clean
            for value in values.values():
                readable(value)
        no_errors(caplog)

    check()
    print(f"\ndialog engine: {len(tried)} generated answers tried, every draft finished")
    assert len(tried) >= EXAMPLES


def test_any_command_with_generated_words_gets_an_answer(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    tried: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(word=st.sampled_from(sorted({w for words in WORDS.values() for w in words})), rest=TYPED)
    def check(word: str, rest: str) -> None:
        caplog.clear()
        replies = engine.say(engine.person(), f"{word} {rest}")
        tried.append(word)
        assert all(isinstance(r.text, str) for r in replies)
        no_errors(caplog)

    check()
    print(f"\ndialog commands: {len(tried)} generated commands tried")
    assert len(tried) >= EXAMPLES


@pytest.mark.parametrize(
    ("typed", "key"),
    [("meeting Acme 9999-12-31 10:00", "far_date"), ("meeting Acme 31 december 9999 om 23:00", "far_date"),
     ("pause until 9999-12-31", "far_date")],
)
def test_commands_with_far_dates_are_refused(
    engine: Engine, caplog: pytest.LogCaptureFixture, typed: str, key: str
) -> None:
    replies = engine.say(engine.person(), typed)
    arg = typed.split(" ", 1)[1]
    assert [r.text for r in replies] == [
        engine.coach.texts.message("en", key, text=arg, years=DATE_REACH_YEARS)]
    no_errors(caplog)


WHERE_DUE = {"outcome": "postponed", "rating__next_step": "partly", "next_meeting_at": "/skip"}


@pytest.mark.parametrize(
    ("step", "typed", "key"),
    [
        ("next_meeting_at", "9999-12-31 10:00", "far_date"),
        ("next_meeting_at", "31 december 9999 om 23:00", "far_date"),
        ("next_step_due", "9999-12-31", "far_date"),
        ("next_step_due", "0001-01-01", "far_date"),
        ("next_step_due", "over 99999999999 dagen", "bad_date"),
    ],
)
def test_far_and_impossible_dates_are_refused_and_asked_again(
    engine: Engine, caplog: pytest.LogCaptureFixture, step: str, typed: str, key: str
) -> None:
    person_id = engine.person()
    at_step(engine, person_id, step, **WHERE_DUE if step == "next_step_due" else {})
    replies = engine.say(person_id, typed)
    texts = engine.coach.texts
    assert [r.kind for r in replies] == ["error", "question"]
    assert replies[0].text == texts.message("en", key, text=typed, years=DATE_REACH_YEARS,
                                            example=texts.message("en", "date_example"))
    assert engine.step(person_id) == step
    finish(engine, person_id)
    assert engine.stored(person_id)[0] == 1
    no_errors(caplog)


def test_a_lone_surrogate_in_a_note_is_dropped_and_the_note_stored(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    person_id = engine.person()
    at_step(engine, person_id, "note:opening", rating__opening="partly")
    engine.say(person_id, "before \ud800 after")
    assert engine.step(person_id) == "rating:interaction"
    finish(engine, person_id)
    _, rows = engine.stored(person_id)
    assert rows[0]["note:opening"] == "before  after"
    no_errors(caplog)


def test_a_40_digit_button_value_is_answered_not_raised(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    person_id = engine.person()
    replies = engine.say(person_id, "nudges snooze " + "9" * 40)
    assert [r.text for r in replies] == [engine.coach.texts.render("en", "nudge", "nudges_usage")]
    at_step(engine, person_id, "rating:opening")
    replies = engine.say(person_id, "nudges got " + "1" * 40)  # mid-debrief: not a button, an answer
    assert replies[-1].kind == "question"
    finish(engine, person_id)
    no_errors(caplog)
