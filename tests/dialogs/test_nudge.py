"""The pre-meeting nudge: planned from a debrief's next meeting, composed with the recap, two
counter-tactics, opening checks and the weakest point as one message, in English and Dutch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.scheduling.scheduler import Scheduler
from dialogs import conversation
from dialogs.meetings import plan_meeting
from dialogs.tactic_fit import choose_tactics
from storage.debriefs import count_debriefs
from storage.meetings import InviteFlags, upsert_meeting
from storage.models import Meeting, Outbox, Person
from storage.planning_models import MeetingInvite, SuggestedTactic
from tests.factories import make_person, store_debrief
from tests.fakes.chat_sink import RecordingSender

LOCALES = ["en", "nl"]


async def rows(coach, kind: str | None = None) -> list[Outbox]:
    async with coach.db() as session:
        stmt = sa.select(Outbox).order_by(Outbox.due_at, Outbox.id)
        if kind:
            stmt = stmt.where(Outbox.kind == kind)
        return list((await session.scalars(stmt)).all())


def all_text(replies) -> str:
    parts = []
    for r in replies:
        parts += [r.title or "", r.text, *r.items, *(b.label for b in r.buttons)]
    return "\n".join(parts)


async def deliver_due(coach, clock, due: datetime) -> RecordingSender:
    """Run one scheduler batch at `due`; everything due by then is delivered."""
    clock.now = due
    sender = RecordingSender()
    await Scheduler(ctx=coach, senders={"web": sender}).run_once()
    return sender


def nudges_in(sender: RecordingSender) -> list[list]:
    return [m.replies for _, m in sender.sent if m.replies and m.replies[0].kind == "nudge"]


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_debriefs_next_meeting_gets_a_nudge_with_recap_and_two_tactics(coach, clock, locale):
    person = await make_person(coach.db, locale=locale)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")

    nudges = await rows(coach, "nudge")
    assert len(nudges) == 1
    # 14:00 in Amsterdam (CET, UTC+1) is 13:00 UTC; sixty minutes before is 12:00 UTC.
    assert nudges[0].due_at == datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert nudges[0].expires_at == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert {r.kind for r in await rows(coach)} >= {
        "nudge",
        "debrief_prompt",
        "debrief_reminder",
        "follow_through",
    }

    sender = await deliver_due(coach, clock, nudges[0].due_at)
    (replies,) = nudges_in(sender)  # the preparation went out before it (tests/dialogs/test_preparation.py)
    assert len(replies) == 1, "one message, not a bubble per section"
    text = all_text(replies)
    # the recap of the last debrief with Acme: questions and answers, concessions, the next step
    for fragment in (
        "How fast is onboarding?",
        "Six weeks.",
        "Framework agreement",
        "Signed their framework",
        "Pilot start date agreed",
        "Pilot proposal",
        "I send it, they book IT review",
    ):
        assert fragment in text
    tactics = next(r.meta["tactics"] for r in replies if "tactics" in r.meta)
    assert len(tactics) == 2
    library = coach.texts.data(locale, "tactics")
    for key in tactics:
        assert coach.texts.render(locale, "tactics", f"{key}.name") in text
        assert coach.texts.render(locale, "tactics", f"{key}.say") in text
    # the opening checks and the weakest point (opening was rated "no") with its question
    for check in coach.texts.data(locale, "nudge")["checks"]:
        assert check in text
    assert coach.texts.point(locale, "opening", "title") in text
    assert coach.texts.render(locale, "nudge", "questions.opening") in text
    assert [b.label for b in replies[-1].buttons] == [
        coach.texts.render(locale, "nudge", k) for k in ("button_got_it", "button_snooze", "button_skip")
    ]
    assert len(library) >= 8
    assert [r.status for r in await rows(coach, "nudge")] == ["sent"]


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_customer_organised_invite_leads_with_the_counter_tactics(coach, clock, locale):
    person = await make_person(coach.db, locale=locale)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")
    async with coach.db() as session, session.begin():
        await session.execute(
            sa.insert(MeetingInvite).values(
                meeting_id=sa.select(sa.func.max(sa.literal_column("id")))
                .select_from(sa.table("meeting"))
                .scalar_subquery(),
                organiser="buyer@acme.com",
                organiser_external=True,
                formal_agenda=True,
            )
        )
    nudge = (await rows(coach, "nudge"))[0]
    (reply,) = nudges_in(await deliver_due(coach, clock, nudge.due_at))[0]
    warning = coach.texts.render(locale, "nudge", "formal_organiser", account="Acme")
    tactics_title = coach.texts.render(locale, "nudge", "tactics_title")
    checks_title = coach.texts.render(locale, "nudge", "checks_title")
    assert reply.text.startswith(warning + "\n\n" + tactics_title), "the counter-tactics right after it"
    assert reply.meta["formal"] is True
    plain = await make_person(coach.db, user_id="U2", locale=locale)
    await store_debrief(coach, plain, next_meeting_at="2026-12-04 14:00", agenda_set_by="rep_informal")
    second = next(r for r in await rows(coach, "nudge") if r.person_id == plain.id)
    (reply,) = nudges_in(await deliver_due(coach, clock, second.due_at))[0]
    assert reply.meta["formal"] is False and warning not in reply.text
    assert reply.text.index(checks_title) < reply.text.index(tactics_title), "the tactics come last"


def test_tactic_rotation_uses_feedback_and_drops_not_for_me() -> None:
    keys = ["a", "b", "c", "d"]

    def seen(tactic: str, meeting: int, verdict: str | None = None) -> SuggestedTactic:
        return SuggestedTactic(
            id=meeting * 10, person_id=1, account_id=1, meeting_id=meeting, tactic=tactic, verdict=verdict
        )

    # "b" worked twice (older meetings), "a" is not for this rep
    history = [seen("b", 3, "worked"), seen("c", 3), seen("b", 2, "worked"), seen("a", 1, "drop")]
    chosen = choose_tactics(keys, history)
    assert "a" not in chosen and len(chosen) == 2
    assert "b" in chosen, "a tactic that worked keeps coming back"
    assert chosen == choose_tactics(keys, history), "the same history, the same choice"
    # without feedback, the last nudge's picks rotate out, the longest unsuggested first
    fresh = [seen("a", 5), seen("b", 5)]
    assert choose_tactics(keys, fresh) == ["c", "d"]
    assert choose_tactics(keys, [seen("d", 6), seen("c", 6), *fresh]) == ["a", "b"]
    assert choose_tactics(keys, [seen("c", 7), seen("d", 6), seen("b", 5)]) == ["a", "b"]
    # a fitting tactic comes before the rep's favourite
    assert choose_tactics(keys, history, fits={"d": frozenset({"x"})}, tags={"x"})[0] == "d"


async def test_tactic_feedback_is_asked_on_the_next_debrief_and_steers_the_next_nudge(coach, clock):
    person = await make_person(coach.db)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")
    nudge = (await rows(coach, "nudge"))[0]
    sent = nudges_in(await deliver_due(coach, clock, nudge.due_at))[0]
    first_two = next(r.meta["tactics"] for r in sent if "tactics" in r.meta)

    clock.now = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    await store_debrief(coach, person, next_meeting_at="2026-12-10 14:00")
    feedback = await rows(coach, "tactic_feedback")
    assert len(feedback) == 1
    asked = next(
        m.replies
        for _, m in (await deliver_due(coach, clock, feedback[0].due_at)).sent
        if m.replies[0].kind == "question"
    )
    questions = [r for r in asked if r.buttons]
    assert [q.meta["tactic"] for q in questions] == first_two
    chat_replies = await conversation.reply_to(
        ctx=coach, person_id=person.id, channel="web", text=questions[0].buttons[3].value
    )  # not for me
    name = coach.texts.render("en", "tactics", f"{first_two[0]}.name")
    assert chat_replies[0].text == coach.texts.render("en", "nudge", "feedback_dropped", name=name)
    await conversation.reply_to(
        ctx=coach, person_id=person.id, channel="web", text=questions[1].buttons[0].value
    )  # worked
    async with coach.db() as session:
        verdicts = dict(
            (
                await session.execute(
                    sa.select(SuggestedTactic.tactic, SuggestedTactic.verdict).where(
                        SuggestedTactic.verdict.is_not(None)
                    )
                )
            ).all()
        )
    assert verdicts == {first_two[0]: "drop", first_two[1]: "worked"}

    nxt = next(r for r in await rows(coach, "nudge") if r.status == "pending")
    replies = nudges_in(await deliver_due(coach, clock, nxt.due_at))[0]
    again = next(r.meta["tactics"] for r in replies if "tactics" in r.meta)
    assert first_two[0] not in again and first_two[1] in again


async def test_nudge_buttons_snooze_and_not_this_meeting(coach, clock):
    person = await make_person(coach.db)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")
    nudge = (await rows(coach, "nudge"))[0]
    sent = nudges_in(await deliver_due(coach, clock, nudge.due_at))[0]
    snooze, skip = sent[-1].buttons[1].value, sent[-1].buttons[2].value
    answer = await conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=snooze)
    assert answer[0].text == coach.texts.render("en", "nudge", "snoozed", when="13:20")
    snoozed = [r for r in await rows(coach, "nudge") if r.status == "pending"]
    assert len(snoozed) == 1 and snoozed[0].due_at == datetime(2026, 12, 3, 12, 20, tzinfo=UTC)
    # re-planning the unchanged meeting (a calendar poll) keeps the snooze
    async with coach.db() as session, session.begin():
        meeting = await session.get(Meeting, snoozed[0].payload["meeting_id"])
        await plan_meeting(session=session, meeting=meeting, tz="Europe/Amsterdam", policy=coach.schedule,
                           now=clock.now)
    assert [r.status for r in await rows(coach, "nudge") if r.id == snoozed[0].id] == ["pending"]
    await conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=skip)
    assert not [r for r in await rows(coach) if r.status == "pending" and r.dedup_key.startswith("m")]


async def test_a_nudge_button_pressed_during_a_debrief_is_not_taken_as_an_answer(coach, clock):
    person = await make_person(coach.db)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")
    nudge = (await rows(coach, "nudge"))[0]
    buttons = nudges_in(await deliver_due(coach, clock, nudge.due_at))[0][-1].buttons
    snooze, got = buttons[1].value, buttons[0].value
    say = lambda text: conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)  # noqa: E731
    asked = await say("debrief Zeta")
    question = asked[-1]
    answer = await say(snooze)
    assert answer[0].text == coach.texts.render("en", "nudge", "snoozed", when="13:20")
    assert answer[-1] == question  # the same question again: the button answered nothing
    assert [r.status for r in await rows(coach, "nudge")].count("pending") == 1
    again = await say(got)
    assert again[-1] == question and again[0].text != question.text
    typed = await say("nudges snooze soon")  # typed words, not a button: read as the answer (not one)
    assert typed[0].kind == "error" and typed[-1] == question
    assert (await say("no"))[-1] != question  # and the debrief goes on


@pytest.mark.parametrize(
    ("locale", "text", "local_hour"),
    [
        ("en", "meeting Acme Corp tomorrow 10:00", 10),
        ("nl", "afspraak Bakkerij de Vries morgen om 15:30", 15),
    ],
)
async def test_meeting_by_hand(coach, clock, locale, text, local_hour):
    person = await make_person(coach.db, locale=locale)
    replies = await conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)
    assert replies[0].kind == "saved", replies
    nudges = await rows(coach, "nudge")
    assert len(nudges) == 1
    start = nudges[0].expires_at
    assert start is not None
    local = start.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Amsterdam"))
    assert (local.date().isoformat(), local.hour) == ("2026-12-01", local_hour)
    # saying it again finds the same meeting instead of a second nudge
    again = await conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)
    assert again[0].text.startswith(
        coach.texts.render(locale, "nudge", "meeting_known", account="x", when="y")[:8]
    )
    assert len(await rows(coach, "nudge")) == 1
    bad = await conversation.reply_to(
        ctx=coach, person_id=person.id, channel="web", text="meeting Acme whenever"
    )
    assert bad[0].kind == "error"


async def test_a_debriefs_next_meeting_near_a_known_one_is_that_meeting(coach, clock):
    person = await make_person(coach.db)
    say = lambda text: conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)  # noqa: E731
    assert (await say("meeting Acme 2026-12-03 14:30"))[0].kind == "saved"
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")  # the same meeting, said again
    async with coach.db() as session:
        meetings = (await session.scalars(sa.select(Meeting).order_by(Meeting.id))).all()
    assert [(m.source, m.starts_at.hour) for m in meetings] == [("manual", 13)]
    assert len(await rows(coach, "nudge")) == 1
    assert len(await rows(coach, "follow_through")) == 1  # the rest of the debrief is planned as usual

    await store_debrief(coach, person, next_meeting_at="2026-12-03 17:00")  # more than two hours later
    await store_debrief(coach, person, account="Zeta", next_meeting_at="2026-12-03 14:00")  # another account
    async with coach.db() as session:
        meetings = (await session.scalars(sa.select(Meeting).order_by(Meeting.id))).all()
        session.expunge_all()
    assert [(m.source, m.starts_at.hour) for m in meetings] == [
        ("manual", 13), ("debrief", 16), ("debrief", 13)
    ]
    assert len(await rows(coach, "nudge")) == 3

    async with coach.db() as session, session.begin():  # a cancelled meeting is no longer "known"
        await session.execute(sa.update(Meeting).where(Meeting.source == "manual").values(cancelled=True))
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:15")
    async with coach.db() as session:
        live = (await session.scalars(sa.select(Meeting).where(Meeting.cancelled.is_(False)))).all()
    assert sorted(m.starts_at.hour for m in live) == [13, 13, 16]


async def test_pause_and_nudges_off_silence_the_coach_until_resumed(coach, clock):
    person = await make_person(coach.db)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")
    say = lambda text: conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)  # noqa: E731
    assert (await say("pause until 2026-12-07"))[0].text.startswith("I'll stay quiet until")
    nudge = (await rows(coach, "nudge"))[0]
    assert nudges_in(await deliver_due(coach, clock, nudge.due_at)) == []
    assert (await rows(coach, "nudge"))[0].status == "cancelled"

    clock.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    await say("resume")
    await say("nudges off")
    await say("meeting Acme 2026-12-08 10:00")
    pending = [r for r in await rows(coach, "nudge") if r.status == "pending"]
    assert len(pending) == 1
    assert nudges_in(await deliver_due(coach, clock, pending[0].due_at)) == []
    await say("herinneringen aan")
    await say("meeting Acme 2026-12-09 10:00")
    pending = [r for r in await rows(coach, "nudge") if r.status == "pending"]
    assert len(nudges_in(await deliver_due(coach, clock, pending[0].due_at))) == 1


async def test_follow_through_records_a_missed_next_step_once(coach, clock):
    from storage.planning_models import MissedNextStep

    person = await make_person(coach.db)
    await store_debrief(coach, person, next_meeting_at=None, next_step_due="2026-12-04")
    follow = (await rows(coach, "follow_through"))[0]
    # the morning of the first working day after Friday 4 December: Monday 7th, 09:00 local
    assert follow.due_at == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    sender = await deliver_due(coach, clock, follow.due_at)
    assert len(sender.sent) == 1 and "Pilot proposal" in sender.sent[0][1].replies[0].text
    async with coach.db() as session:
        missed = (await session.scalars(sa.select(MissedNextStep))).all()
    assert [(m.person_id, m.due.isoformat()) for m in missed] == [(person.id, "2026-12-04")]

    other = await make_person(coach.db, user_id="U2")
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    await store_debrief(coach, other, next_meeting_at=None, next_step_due="2026-12-04")
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    await store_debrief(coach, other, next_meeting_at=None)  # a newer debrief with Acme: it happened
    row = next(r for r in await rows(coach, "follow_through") if r.person_id == other.id)
    assert (await deliver_due(coach, clock, row.due_at)).sent == []
    async with coach.db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(MissedNextStep)) == 1


async def test_an_unused_import_keeps_the_linter_honest(coach):
    async with coach.db() as session:
        assert await count_debriefs(session=session) == 0
        assert (await session.scalars(sa.select(Person))).all() == []
    assert InviteFlags().formal_agenda is False and upsert_meeting
