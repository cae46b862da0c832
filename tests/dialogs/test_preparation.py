"""The preparation a working day or two before a customer meeting: planned in the rep's working
hours (across weekends and DST changes, out of quiet hours), moved and cancelled with the meeting,
saying what to do before the meeting, and the rep's own two counter-tactics reaching the nudge."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.config import OrgConfig
from bot.scheduling.kinds import schedule_policy
from bot.scheduling.scheduler import Scheduler
from dialogs import conversation
from dialogs.meetings import plan_meeting
from dialogs.preparation import pick_value
from dialogs.timing import SchedulePolicy
from storage.chosen_tactics import ChosenTactic
from storage.meetings import upsert_meeting
from storage.models import DebriefAnswer, Meeting, Outbox, Person
from storage.planning_models import SuggestedTactic
from tests.factories import make_person, store_debrief
from tests.fakes.chat_sink import RecordingSender

AMS = ZoneInfo("Europe/Amsterdam")
LOCALES = ["en", "nl"]


async def rows(coach, kind: str) -> list[Outbox]:
    async with coach.db() as session:
        stmt = sa.select(Outbox).where(Outbox.kind == kind).order_by(Outbox.due_at, Outbox.id)
        return list((await session.scalars(stmt)).all())


async def deliver(coach, clock, due: datetime, kind: str) -> list:
    """Run one scheduler batch at `due`; the replies of each message of `kind` it sent."""
    clock.now = due
    sender = RecordingSender()
    await Scheduler(ctx=coach, senders={"web": sender}).run_once()
    return [m.replies for _, m in sender.sent if m.replies and m.replies[0].kind == kind]


def local(moment: datetime) -> datetime:
    return moment.astimezone(AMS).replace(tzinfo=None)


def say(coach, person):
    return lambda text: conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)


# -- when it goes out ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "expected"),
    [
        # Monday 30 March 2026, the day after the clocks went forward: the Friday (still CET) before
        (1, datetime(2026, 3, 27, 9, 0)),
        (2, datetime(2026, 3, 26, 9, 0)),
    ],
)
async def test_planned_working_days_before_across_a_weekend_and_a_dst_change(coach, clock, days, expected):
    clock.now = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
    coach = replace(coach, schedule=SchedulePolicy(prepare_days=days))
    person = await make_person(coach.db)
    assert (await say(coach, person)("meeting Acme 2026-03-30 10:00"))[0].kind == "saved"
    (prepare,) = await rows(coach, "prepare")
    (nudge,) = await rows(coach, "nudge")
    assert local(prepare.due_at) == expected
    assert prepare.due_at == expected.replace(tzinfo=AMS).astimezone(UTC)  # 08:00 UTC: CET, UTC+1
    assert local(nudge.due_at) == datetime(2026, 3, 30, 9, 0)  # while the nudge is 07:00 UTC: CEST
    assert prepare.expires_at == nudge.expires_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_the_working_days_come_from_app_yaml() -> None:
    assert schedule_policy(OrgConfig()).prepare_days == 1
    assert schedule_policy(OrgConfig.model_validate({"nudge": {"prepare_working_days": 2}})).prepare_days == 2
    with pytest.raises(ValueError, match="prepare_working_days"):
        OrgConfig.model_validate({"nudge": {"prepare_working_days": 3}})


async def test_quiet_hours_move_it_later_and_a_sooner_meeting_is_prepared_the_same_day(coach, clock):
    quiet = replace(coach, schedule=SchedulePolicy(quiet_start=time(19, 0), quiet_end=time(9, 45)))
    person = await make_person(coach.db)
    # Thursday 3 December: prepared on Wednesday, when quiet hours are over (09:45, not 09:00)
    await say(quiet, person)("meeting Acme 2026-12-03 14:00")
    assert [local(r.due_at) for r in await rows(coach, "prepare")] == [datetime(2026, 12, 2, 9, 45)]
    # today (Monday 30 November, 10:00 local) at 16:00: the working days before are past, so now
    await say(coach, person)("meeting Globex 2026-11-30 16:00")
    # in 40 minutes: no time to act on a preparation; the nudge carries what matters
    await say(coach, person)("meeting Initech 2026-11-30 10:40")
    prepared = {r.payload["meeting_id"]: r.due_at for r in await rows(coach, "prepare")}
    async with coach.db() as session:
        ids = dict((await session.execute(sa.select(Meeting.starts_at, Meeting.id))).all())
    assert prepared[ids[datetime(2026, 11, 30, 15, 0, tzinfo=UTC)]] == clock.now
    assert ids[datetime(2026, 11, 30, 9, 40, tzinfo=UTC)] not in prepared
    assert len(await rows(coach, "nudge")) == 3


async def test_moved_and_cancelled_with_the_meeting(coach, clock):
    person = await make_person(coach.db)
    assert person.id is not None
    tz = "Europe/Amsterdam"

    async def calendar(starts_at: datetime, cancelled: bool = False) -> None:
        async with coach.db() as session, session.begin():
            who = await session.get(Person, person.id)
            assert who is not None and who.id is not None
            meeting, _ = await upsert_meeting(
                session=session, person=who, account_id=await _account(session, who),
                starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), source="ics",
                external_uid="uid-1", cancelled=cancelled,
            )
            await plan_meeting(session=session, meeting=meeting, tz=tz, policy=coach.schedule, now=clock.now)

    await calendar(datetime(2026, 12, 3, 13, 0, tzinfo=UTC))
    await calendar(datetime(2026, 12, 8, 13, 0, tzinfo=UTC))  # moved to Tuesday 8th: prepared on Monday 7th
    first, moved = await rows(coach, "prepare")
    assert (first.status, moved.status) == ("cancelled", "pending")
    assert local(moved.due_at) == datetime(2026, 12, 7, 9, 0)
    await calendar(datetime(2026, 12, 8, 13, 0, tzinfo=UTC), cancelled=True)
    assert [r.status for r in await rows(coach, "prepare")] == ["cancelled", "cancelled"]

    # a row claimed after the meeting went away is not sent
    async with coach.db() as session, session.begin():
        await session.execute(sa.update(Outbox).where(Outbox.id == moved.id).values(status="pending"))
    assert await deliver(coach, clock, moved.due_at, "prepare") == []
    assert [r.status for r in await rows(coach, "prepare")] == ["cancelled", "cancelled"]


async def _account(session, person: Person) -> int:
    from storage.accounts import get_or_create_account

    return await get_or_create_account(session=session, workspace_id=person.workspace_id, name="Acme")


# -- what it says -----------------------------------------------------------------------------------
@pytest.mark.parametrize("locale", LOCALES)
async def test_it_says_what_to_do_before_the_meeting_as_one_message(coach, clock, locale):
    person = await make_person(coach.db, locale=locale)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00", agenda_set_by="rep_informal",
                        next_step_what="Pilot <!channel> proposal")
    (prepare,) = await rows(coach, "prepare")
    assert local(prepare.due_at) == datetime(2026, 12, 2, 9, 0)
    ((reply,),) = await deliver(coach, clock, prepare.due_at, "prepare")
    t = lambda key, **v: coach.texts.render(locale, "preparation", key, **v)  # noqa: E731
    day = "Thursday 3 December" if locale == "en" else "donderdag 3 december"
    text = reply.text
    for part in (
        t("intro", account="Acme", day=day),
        t("contact_title"),
        t("icebreaker_topic", day=day, topic="Pilot <!channel> proposal", account="Acme"),  # account, topic
        t("ask_title"), t("ask_line"),
        t("agenda_title"), t("agenda_open", day=day), t("agenda_topic", topic="Pilot <!channel> proposal"),
        t("agenda_next"),
        "How fast is onboarding?", "Six weeks.",  # the recap: their questions with the answers given
        t("tactics_title"),
    ):
        assert part in text, part
    assert text.index(t("contact_title")) < text.index(t("tactics_title")), "not formal: the choice last"
    # the user's words stay user text (each channel escapes them), the bot's own are not
    assert "Pilot <!channel> proposal" in [text[a:b] for a, b in text.user]
    assert len(reply.buttons) == 4
    library = coach.texts.data(locale, "tactics")
    assert [b.label for b in reply.buttons] == [library[k]["name"] for k in reply.meta["tactics"]]
    assert [b.value for b in reply.buttons] == [pick_value(prepare.payload["meeting_id"], k)
                                               for k in reply.meta["tactics"]]


async def test_the_reps_own_two_tactics_reach_the_nudge(coach, clock):
    person = await make_person(coach.db)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")
    (prepare,) = await rows(coach, "prepare")
    ((reply,),) = await deliver(coach, clock, prepare.due_at, "prepare")
    first, second, third = reply.buttons[3], reply.buttons[2], reply.buttons[1]
    chat = say(coach, person)
    picked = await chat(first.value)
    assert picked[0].kind == "saved" and first.label in picked[0].text
    assert coach.texts.render("en", "preparation", "pick_one_more") in picked[0].text
    again = await chat(first.value)  # a double click is one choice
    already = coach.texts.render("en", "preparation", "already_picked", account="Acme", name=first.label)
    assert already in again[0].text
    both = await chat(second.value)
    assert list(both[0].items) == [first.label, second.label]
    await chat(third.value)  # a third replaces the oldest
    own = await chat("tactic Ask   what their board wants to see first")
    assert own[0].kind == "saved" and "Ask what their board wants to see first" in own[0].text
    async with coach.db() as session:
        kept = (await session.scalars(sa.select(ChosenTactic).order_by(ChosenTactic.id))).all()
    keys = {b.label: b.value.split()[-1] for b in reply.buttons}
    assert [(c.tactic, c.own_text) for c in kept] == [
        (keys[third.label], None), (None, "Ask what their board wants to see first")
    ]

    (nudge,) = await rows(coach, "nudge")
    ((sent,),) = await deliver(coach, clock, nudge.due_at, "nudge")
    assert sent.meta["chosen_by_rep"] is True and sent.meta["tactics"] == [keys[third.label]]
    assert coach.texts.render("en", "nudge", "own_tactics_title") in sent.text
    assert third.label in sent.text and "Ask what their board wants to see first" in sent.text
    assert first.label not in sent.text and second.label not in sent.text
    async with coach.db() as session:  # asked about after the meeting, like any suggestion
        suggested = (await session.scalars(sa.select(SuggestedTactic.tactic))).all()
    assert suggested == [keys[third.label]]


async def test_a_pick_during_a_debrief_is_not_an_answer_and_words_need_a_meeting(coach, clock):
    person = await make_person(coach.db)
    chat = say(coach, person)
    assert (await chat("tactic Ask first"))[0].text == coach.texts.render("en", "preparation", "no_meeting")
    assert (await chat("tactic"))[0].text == coach.texts.render("en", "preparation", "own_usage")
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")
    assert (await chat("tactic " + "x" * 301))[0].kind == "error"
    (prepare,) = await rows(coach, "prepare")
    ((reply,),) = await deliver(coach, clock, prepare.due_at, "prepare")
    question = (await chat("debrief Zeta"))[-1]
    answer = await chat(reply.buttons[0].value)
    assert answer[0].kind == "saved" and answer[-1] == question  # the same question again
    assert (await chat("nudges pick 1 no_such_tactic"))[0].kind == "error"
    other = await make_person(coach.db, user_id="U2")
    gone = await say(coach, other)(reply.buttons[1].value)  # someone else's meeting
    assert gone[0].text == coach.texts.render("en", "nudge", "gone")


# -- formal agendas and tactics that fit ---------------------------------------------------------
@pytest.mark.parametrize("locale", LOCALES)
async def test_a_formal_agenda_debrief_makes_the_next_nudge_lead_with_tactics_that_fit(coach, clock, locale):
    formal = await make_person(coach.db, locale=locale)
    demand = "We pay at most 60 days" if locale == "en" else "Wij betalen maximaal na 60 dagen"
    await store_debrief(coach, formal, next_meeting_at="2026-12-03 14:00", agenda_set_by="customer_formal",
                        concessions_asked=demand)
    informal = await make_person(coach.db, user_id="U2", locale=locale)
    await store_debrief(coach, informal, next_meeting_at="2026-12-03 15:00", agenda_set_by="rep_informal",
                        concessions_asked=None, concessions_given=None, concessions_got=None)
    by_person = {r.person_id: r for r in await rows(coach, "nudge")}
    ((lead,),) = await deliver(coach, clock, by_person[formal.id].due_at, "nudge")
    head = coach.texts.render(locale, "nudge", "formal_debrief", account="Acme")
    assert lead.text.startswith(head + "\n\n" + coach.texts.render(locale, "nudge", "tactics_title"))
    assert lead.meta["formal"] is True
    # a formal agenda by mail and a demand on payment terms: the tactics that answer those
    assert "mirror_the_question" in lead.meta["tactics"]
    assert set(lead.meta["tactics"]) <= {"mirror_the_question", "add_one_point", "reorder_the_agenda"}
    ((plain,),) = await deliver(coach, clock, by_person[informal.id].due_at, "nudge")
    assert plain.meta["formal"] is False and not plain.text.startswith(head)
    assert "mirror_the_question" not in plain.meta["tactics"]


async def test_the_recap_shows_only_what_the_debrief_knows(coach, clock):
    person = await make_person(coach.db)
    debrief_id = await store_debrief(
        coach, person, next_meeting_at="2026-12-03 14:00", answers_given=None, customer_tried=None,
        concessions_asked=None, concessions_given=None, concessions_got=None, next_step_who=None,
        next_step_due=None, **{"rating:interaction": "partly", "note:interaction": "They only listened."},
    )
    async with coach.db() as session, session.begin():  # "none": no concessions were asked at all
        await session.execute(
            sa.update(DebriefAnswer)
            .where(DebriefAnswer.debrief_id == debrief_id, DebriefAnswer.point == "concessions")
            .values(rating="none")
        )
    (nudge,) = await rows(coach, "nudge")
    ((reply,),) = await deliver(coach, clock, nudge.due_at, "nudge")
    t = lambda key, **v: coach.texts.render("en", "nudge", key, **v)  # noqa: E731
    text = reply.text
    assert t("recap_questions", text="How fast is onboarding?") in text
    assert t("recap_answers", text="x").split(":")[0] not in text  # no answer recorded: no line
    assert t("recap_no_concessions") in text and "You gave" not in text
    assert t("recap_next_step", what="Pilot proposal", who="", due="") in text
    assert t("recap_note", title="Interaction", text="They only listened.") in text
    assert "They sent a formal agenda by mail." in text  # the opening note: rated no
    assert text.count(t("recap_title", account="Acme", when="x").split("(")[0]) == 1


async def test_a_concession_given_for_nothing_is_named_in_the_recap(coach, clock):
    person = await make_person(coach.db, locale="nl")
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00",
                        concessions_given="60 dagen betaaltermijn", concessions_got=None)
    (nudge,) = await rows(coach, "nudge")
    ((reply,),) = await deliver(coach, clock, nudge.due_at, "nudge")
    given = coach.texts.render("nl", "nudge", "recap_concessions_given", text="60 dagen betaaltermijn")
    assert given in reply.text
    assert coach.texts.render("nl", "nudge", "recap_nothing_back") in reply.text
