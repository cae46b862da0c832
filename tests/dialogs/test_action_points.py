"""Action points in the conversation: a manager assigns one to their own rep (never another
team's), the rep is told through the outbox with who asked, lists, marks done, answers the one
optional question after a debrief; the manager closes one. Both languages."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.scheduling.scheduler import Scheduler
from dialogs.action_assign import REPEAT
from dialogs.context import CoachContext
from dialogs.text import default_texts
from storage.action_points import ActionPoint, ActionStatus
from storage.models import Outbox, OutboxStatus
from tests.debrief_paths import path
from tests.dialogs.conftest import Chat
from tests.factories import make_person
from tests.fakes.chat_sink import RecordingSender

LOCALES = ["en", "nl"]
ASSIGN = {"en": "assign", "nl": "toewijzen"}
DONE = {"en": "done", "nl": "gedaan"}
ACTIONS = {"en": "actions", "nl": "actiepunten"}
WHO_ASKED = {"en": "Maartje Jansen asked you to: ", "nl": "Actiepunt van Maartje Jansen: "}


async def team(coach: CoachContext, locale: str = "en") -> tuple[Chat, Chat, Chat]:
    """Maartje (manager) with the rep Sanne; Tom is in the same workspace but in Piet's team."""
    maartje = await make_person(coach.db, user_id="M1", name="Maartje Jansen", role="manager",
                                locale=locale, email="maartje@ourco.nl")
    sanne = await make_person(coach.db, user_id="R1", name="Sanne de Vries", manager_id=maartje.id,
                              locale=locale, email="sanne@ourco.nl")
    piet = await make_person(coach.db, user_id="M2", name="Piet Pieters", role="manager", locale=locale)
    tom = await make_person(coach.db, user_id="R2", name="Tom Bakker", manager_id=piet.id, locale=locale)
    assert maartje.id and sanne.id and tom.id
    return Chat(coach, maartje.id), Chat(coach, sanne.id), Chat(coach, tom.id)


async def points(coach: CoachContext) -> list[ActionPoint]:
    async with coach.db() as session:
        return list(await session.scalars(sa.select(ActionPoint).order_by(ActionPoint.id)))


async def notices(coach: CoachContext) -> list[Outbox]:
    async with coach.db() as session:
        return list(await session.scalars(sa.select(Outbox).where(Outbox.kind == "action_point")))


def texts_of(replies) -> str:
    return "\n".join(
        x for r in replies for x in (r.title or "", r.text, *r.items, *(b.label for b in r.buttons)))


async def deliver(coach: CoachContext) -> RecordingSender:
    sender = RecordingSender()
    await Scheduler(ctx=coach, senders={"web": sender}).run_once()
    return sender


@pytest.mark.parametrize("locale", LOCALES)
async def test_assign_tells_the_rep_at_once_with_who_asked_and_a_done_button(coach, locale):
    maartje, sanne, _ = await team(coach, locale)
    replies = await maartje.say(f"{ASSIGN[locale]} Sanne: ask for their agenda before every meeting")
    assert maartje.kinds == ["saved"], replies
    assert "Sanne de Vries" in replies[0].text and "ask for their agenda" in replies[0].text
    (row,) = await points(coach)
    assert (row.person_id, row.manager_id, row.status) == (sanne.person_id, maartje.person_id, "open")
    assert row.text == "ask for their agenda before every meeting"

    sender = await deliver(coach)
    ((person, message),) = sender.sent
    assert person == sanne.person_id
    (notice,) = message.replies
    assert notice.text == WHO_ASKED[locale] + "ask for their agenda before every meeting"
    assert [b.value for b in notice.buttons] == [f"done #{row.id}"]
    assert (await notices(coach))[0].status == OutboxStatus.SENT
    assert (await deliver(coach)).sent == []  # exactly once


async def test_the_same_point_sent_twice_is_one_point_and_one_notice(coach):
    maartje, _, _ = await team(coach)
    await maartje.say("assign Sanne: ask for their agenda")
    await maartje.say("assign Sanne: ask for their agenda")  # a double click, a form sent twice
    assert maartje.kinds == ["info"] and "already" in maartje.replies[0].text
    assert len(await points(coach)) == 1 and len(await notices(coach)) == 1


async def test_the_form_sent_several_times_at_once_is_one_point_and_one_notice(concurrent_db, clock):
    """A double click, two replicas, a retried request: the submissions race, one stores the point
    and tells the rep, every other one gets the answer a form sent twice gets."""
    coach = CoachContext(db=concurrent_db, texts=default_texts(), clock=clock)
    maartje, sanne, _ = await team(coach)
    form = f"assign #{sanne.person_id} (agenda:customer_formal): ask for their agenda"
    sent = [Chat(coach, maartje.person_id) for _ in range(4)]
    answers = await asyncio.gather(*(chat.say(form) for chat in sent))
    assert sorted(r.kind for replies in answers for r in replies) == ["info", "info", "info", "saved"]
    repeats = [r for replies in answers for r in replies if r.kind == "info"]
    assert all(r.text == repeats[0].text and "already" in r.text and r.meta.get(REPEAT) for r in repeats)
    (row,) = await points(coach)
    assert (row.person_id, row.pattern, row.status) == (sanne.person_id, "agenda:customer_formal", "open")
    (notice,) = await notices(coach)
    assert notice.payload == {"action_id": row.id}


async def test_a_name_without_a_colon_an_email_and_a_mention_id_find_the_rep(coach):
    maartje, sanne, _ = await team(coach)
    for typed in ("assign Sanne de Vries call before the meeting", "assign sanne@ourco.nl call first",
                  "assign @Sanne call them", "assign R1 phone them", "/assign sanne mail them"):
        await maartje.say(typed)
        assert maartje.kinds == ["saved"], (typed, maartje.replies)
    assert [p.text for p in await points(coach)] == [
        "call before the meeting", "call first", "call them", "phone them", "mail them"]
    assert {p.person_id for p in await points(coach)} == {sanne.person_id}


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_manager_cannot_assign_to_another_teams_rep(coach, locale):
    maartje, _, tom = await team(coach, locale)
    for typed in (f"{ASSIGN[locale]} Tom: ask for the agenda", f"{ASSIGN[locale]} Tom Bakker ask for it",
                  f"{ASSIGN[locale]} R2 ask", f"{ASSIGN[locale]} #{tom.person_id}: ask"):
        replies = await maartje.say(typed)
        assert maartje.kinds == ["error"], (typed, replies)
        assert "Tom Bakker" in replies[0].text
    assert await points(coach) == [] and await notices(coach) == []


async def test_people_of_another_workspace_are_not_even_found(coach):
    maartje, _, _ = await team(coach)
    other = await make_person(coach.db, user_id="X1", name="Xander Other", workspace="elsewhere")
    for typed in ("assign Xander: do it", f"assign #{other.id}: do it"):
        replies = await maartje.say(typed)
        assert maartje.kinds == ["error"] and "Xander Other" not in replies[0].text
    assert await points(coach) == []
    await maartje.say("assign Sanne: ask for their agenda")
    (row,) = await points(coach)
    assert other.id is not None
    for pressed in (f"done #{row.id}", f"not-yet #{row.id}"):  # not even told it exists
        (gone,) = await Chat(coach, other.id).say(pressed)
        assert gone.text == coach.texts.render("en", "action_points", "gone")
    assert (await points(coach))[0].status == "open"


async def test_a_rep_without_a_team_cannot_assign_and_bad_input_stores_nothing(coach):
    maartje, sanne, _ = await team(coach)
    await sanne.say("assign Maartje: be nicer")
    assert sanne.kinds == ["error"] and "no reps" in sanne.replies[0].text
    await maartje.say("assign Sanne")
    assert maartje.kinds == ["error"] and "What should Sanne de Vries do?" in maartje.replies[0].text
    await maartje.say("assign Sanne: " + "x" * 501)
    assert maartje.kinds == ["error"] and "501" in maartje.replies[0].text
    await maartje.say("assign Nobody: do it")
    assert maartje.kinds == ["error"] and "Nobody" in maartje.replies[0].text
    await maartje.say("assign")
    assert maartje.kinds == ["error"]
    assert await points(coach) == []


@pytest.mark.parametrize("locale", LOCALES)
async def test_actions_done_and_the_manager_closing_one(coach, locale, database_url):
    maartje, sanne, tom = await team(coach, locale)
    await maartje.say(f"{ASSIGN[locale]} Sanne: first")
    await maartje.say(f"{ASSIGN[locale]} Sanne: second")
    first, second = await points(coach)

    listed = await sanne.say(ACTIONS[locale])
    assert [list(r.items) for r in listed] == [[
        f"1. Maartje Jansen, {_day(locale)}: first", f"2. Maartje Jansen, {_day(locale)}: second"]]
    assert [b.value for b in listed[0].buttons] == [f"done #{first.id}", f"done #{second.id}"]

    assert (await tom.say(f"done #{first.id}"))[0].kind == "error"  # not Tom's to finish
    await sanne.say(f"{DONE[locale]} 1")
    assert sanne.kinds == ["saved"] and "first" in sanne.replies[0].text
    await sanne.say(f"done #{first.id}")  # a second press of an old button
    assert sanne.kinds == ["info"]

    given = await maartje.say(ACTIONS[locale])
    assert [list(r.items) for r in given] == [[f"1. Sanne de Vries, {_day(locale)}: second"]]
    await maartje.say(f"{DONE[locale]} 1")
    assert maartje.kinds == ["saved"] and "Sanne de Vries" in maartje.replies[0].text
    assert [p.status for p in await points(coach)] == [ActionStatus.DONE, ActionStatus.CLOSED]
    await sanne.say(ACTIONS[locale])
    assert sanne.kinds == ["info"] and not sanne.replies[0].items
    await sanne.say(f"{DONE[locale]} 3")
    assert sanne.kinds == ["error"]


def _day(locale: str) -> str:
    return {"en": "Mon 30 Nov 2026", "nl": "ma 30 nov 2026"}[locale]


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_next_debrief_asks_once_whether_the_rep_did_it(coach, clock, locale):
    maartje, sanne, _ = await team(coach, locale)
    await maartje.say(f"{ASSIGN[locale]} Sanne: ask for their agenda")
    (row,) = await points(coach)

    await sanne.debrief("Acme", path("typical", locale))
    asked = sanne.replies[-1]
    assert asked.text.count("ask for their agenda") == 1
    not_yet, yes = asked.buttons[1], asked.buttons[0]
    assert not_yet.value == f"not-yet #{row.id}" and yes.value == f"done #{row.id}"
    await sanne.say(not_yet.value)
    assert sanne.kinds == ["info"] and (await points(coach))[0].status == "open"

    clock.advance(days=1)
    await sanne.debrief("Acme", path("typical", locale))
    await sanne.say(sanne.replies[-1].buttons[0].value)
    assert sanne.kinds == ["saved"] and (await points(coach))[0].status == "done"
    clock.advance(days=1)
    await sanne.debrief("Brouwer", path("typical", locale))
    assert "ask for their agenda" not in texts_of(sanne.replies)  # nothing left to ask about


async def test_a_done_button_pressed_during_a_debrief_acts_and_asks_the_question_again(coach):
    maartje, sanne, _ = await team(coach)
    await maartje.say("assign Sanne: ask for their agenda")
    (row,) = await points(coach)
    await sanne.say("debrief Acme")
    field = sanne.field
    await sanne.say(f"done #{row.id}")
    assert sanne.kinds == ["saved", "question"] and sanne.field == field
    assert (await points(coach))[0].status == "done"


async def test_the_greeting_shows_open_action_points(coach):
    maartje, sanne, _ = await team(coach)
    await maartje.say("assign Sanne: ask for their agenda")
    from dialogs import conversation

    replies = await conversation.welcome(ctx=coach, person_id=sanne.person_id)
    assert replies[-1].items == ("Maartje Jansen asked you to: ask for their agenda",)
    assert (await conversation.welcome(ctx=coach, person_id=maartje.person_id))[1:] == []


async def test_a_notice_for_a_point_already_finished_is_not_sent(coach, clock):
    maartje, _, _ = await team(coach)
    await maartje.say("assign Sanne: ask for their agenda")
    await maartje.say("done 1")  # closed before the scheduler got to it
    clock.advance(seconds=timedelta(seconds=1).total_seconds())
    assert (await deliver(coach)).sent == []
    assert (await notices(coach))[0].status == OutboxStatus.CANCELLED


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_preparation_and_the_nudge_remind_until_it_is_done(coach, clock, locale):
    maartje, sanne, _ = await team(coach, locale)
    await maartje.say(f"{ASSIGN[locale]} Sanne: ask for their agenda")
    (row,) = await points(coach)
    await deliver(coach)  # the notice
    await sanne.say("meeting Acme 2026-12-03 10:00")  # Thursday; the preparation goes on Wednesday

    async with coach.db() as session:
        planned = {o.kind: o.due_at for o in await session.scalars(sa.select(Outbox))}
    clock.now = planned["prepare"]
    (prepared,) = [m.replies for _, m in (await deliver(coach)).sent]
    assert prepared[0].kind == "prepare"
    assert prepared[-1].items == (WHO_ASKED[locale] + "ask for their agenda",)
    assert [b.value for b in prepared[-1].buttons] == [f"done #{row.id}"]

    clock.now = planned["nudge"]
    await sanne.say(f"{DONE[locale]} 1")
    (nudged,) = [m.replies for _, m in (await deliver(coach)).sent]
    assert nudged[0].kind == "nudge"
    assert "ask for their agenda" not in texts_of(nudged)  # done: no reminder
