"""The scheduler's bookkeeping on SQLite: backoff and Retry-After, permanent failures recorded,
unreachable people skipped, expired nudges not sent late, catch-up after downtime; and the web-chat
inbox the page polls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.delivery import DeliveryError
from bot.scheduling.scheduler import SCHEDULER, Scheduler, SchedulerConfig
from dialogs.answers import answer_later
from dialogs.debrief import EDIT_OF, submit_debrief
from dialogs.messages import Button, Reply
from dialogs.text import format_when
from dialogs.validation import Locality, validate_form
from storage.models import Outbox, Person
from tests.factories import full_form, make_person, statements_sent, store_debrief
from tests.fakes.chat_sink import RecordingSender

CONFIG = SchedulerConfig(backoff_base=timedelta(seconds=30), max_attempts=3)


async def outbox_rows(db) -> list[Outbox]:
    async with db() as session:
        return list((await session.scalars(sa.select(Outbox).order_by(Outbox.id))).all())


async def nudge_row(db) -> Outbox:
    return next(r for r in await outbox_rows(db) if r.kind == "nudge")


@pytest.fixture
async def planned(coach, clock) -> Person:
    person = await make_person(coach.db)
    await store_debrief(coach, person, next_meeting_at="2026-12-03 14:00")
    async with coach.db() as session, session.begin():  # these tests follow the nudge alone
        await session.execute(sa.delete(Outbox).where(Outbox.kind == "prepare"))
    clock.now = (await nudge_row(coach.db)).due_at
    return person


async def test_retry_after_is_honoured_then_backoff_then_failure_is_recorded(coach, clock, planned):
    sender = RecordingSender()
    sender.fail_with = DeliveryError("rate limited", retry_after=7)
    outcomes: list[tuple[str, str]] = []
    scheduler = Scheduler(ctx=coach, senders={"web": sender}, config=CONFIG,
                          outcomes=lambda kind, outcome: outcomes.append((kind, outcome)))
    await scheduler.run_once()
    row = await nudge_row(coach.db)
    assert (row.status, row.attempts, row.due_at) == ("pending", 1, clock.now + timedelta(seconds=7))
    assert row.last_error == "rate limited"

    clock.now = row.due_at
    sender.fail_with = DeliveryError("HTTP 500")
    await scheduler.run_once()
    row = await nudge_row(coach.db)
    assert row.status == "pending" and row.attempts == 2
    assert timedelta(seconds=60) <= row.due_at - clock.now <= timedelta(seconds=66)  # 30 s * 2^1 + jitter

    clock.now = row.due_at
    await scheduler.run_once()
    row = await nudge_row(coach.db)
    assert row.status == "failed" and row.last_error == "gave up after 3 attempts: HTTP 500"
    assert outcomes == [("nudge", "retried"), ("nudge", "retried"), ("nudge", "failed")]


async def test_a_permanent_failure_is_recorded_not_retried(coach, clock, planned):
    sender = RecordingSender()
    sender.fail_with = DeliveryError("channel_not_found", permanent=True)
    await Scheduler(ctx=coach, senders={"web": sender}, config=CONFIG).run_once()
    row = await nudge_row(coach.db)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "permanent: channel_not_found")


async def test_an_unreachable_person_is_marked_and_skipped_afterwards(coach, clock, planned):
    sender = RecordingSender()
    sender.fail_with = DeliveryError("user_not_found", permanent=True, unreachable=True)
    scheduler = Scheduler(ctx=coach, senders={"web": sender}, config=CONFIG)
    await scheduler.run_once()
    async with coach.db() as session:
        assert (await session.get(Person, planned.id)).reachable is False
    assert (await nudge_row(coach.db)).status == "failed"
    sender.fail_with = None
    clock.now = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # the debrief prompt comes due
    await scheduler.run_once()
    prompt = next(r for r in await outbox_rows(coach.db) if r.kind == "debrief_prompt")
    assert (prompt.status, prompt.last_error, sender.sent) == ("cancelled", "skipped: person unreachable", [])


async def test_after_downtime_useful_rows_are_sent_and_started_meetings_expire(coach, clock, planned):
    # the replica was down from before the nudge until after the meeting ended
    clock.now = datetime(2026, 12, 3, 13, 30, tzinfo=UTC)
    sender = RecordingSender()
    await Scheduler(ctx=coach, senders={"web": sender}, config=CONFIG).run_once()
    by_kind = {r.kind: r for r in await outbox_rows(coach.db)}
    assert by_kind["nudge"].status == "expired" and by_kind["nudge"].sent_at is None
    assert by_kind["debrief_prompt"].status == "pending"  # not due yet: 14:10 UTC
    clock.now = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # past the prompt and the 17:00 local reminder
    await Scheduler(ctx=coach, senders={"web": sender}, config=CONFIG).run_once()
    by_kind = {r.kind: r for r in await outbox_rows(coach.db)}
    assert by_kind["debrief_prompt"].status == "sent"
    assert by_kind["debrief_reminder"].status == "sent"
    assert [m.replies[0].kind for _, m in sender.sent] == ["prompt", "prompt"]


async def test_a_debrief_after_the_meeting_cancels_the_reminder(coach, clock, planned):
    clock.now = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
    sender = RecordingSender()
    await Scheduler(ctx=coach, senders={"web": sender}, config=CONFIG).run_once()  # prompt sent
    await store_debrief(coach, planned, next_meeting_at=None)
    clock.now = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)
    await Scheduler(ctx=coach, senders={"web": sender}, config=CONFIG).run_once()
    reminder = next(r for r in await outbox_rows(coach.db) if r.kind == "debrief_reminder")
    assert reminder.status == "cancelled"


async def test_unknown_kinds_and_missing_senders_fail_visibly(coach, clock, planned):
    await Scheduler(ctx=coach, senders={}, config=CONFIG).run_once()
    row = await nudge_row(coach.db)
    assert (row.status, row.last_error) == ("failed", "no sender for platform 'web'")


# -- through the app ---------------------------------------------------------------------------
# The app's own scheduler, driven by the test: its loop looked once at start and then waits an hour.
@pytest.mark.parametrize("scheduler_config", [SchedulerConfig(poll_interval=3600)])
async def test_the_web_chat_polls_its_nudges_from_the_inbox(live_app, http):
    async with http.post(live_app.url + "/webchat/session", json={}) as resp:
        assert resp.status == 200
    async with http.get(live_app.url + "/webchat/inbox") as resp:
        assert (await resp.json()) == {"messages": []}
    coach = live_app.coach
    async with coach.db() as session:
        person = (await session.scalars(sa.select(Person))).one()
    async with http.post(
        live_app.url + "/webchat/messages", json={"text": "meeting Acme tomorrow 10:00"}
    ) as resp:
        assert (await resp.json())["messages"][0]["kind"] == "saved"
    # make the nudge due now; the app's own scheduler picks it up on its next round
    async with coach.db() as session, session.begin():
        await session.execute(
            sa.update(Outbox)
            .where(Outbox.kind == "nudge", Outbox.person_id == person.id)
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await live_app.app[SCHEDULER].run_once()
    async with http.get(live_app.url + "/webchat/inbox") as resp:
        messages = (await resp.json())["messages"]
    # the preparation (due at once: the meeting is tomorrow) and the nudge, one message each
    assert sorted(m["kind"] for m in messages) == ["nudge", "prepare"]
    nudge = next(m for m in messages if m["kind"] == "nudge")
    assert nudge["title"].startswith("Coming up: Acme")
    assert [b["value"].split()[:2] for b in nudge["buttons"]] == [
        ["nudges", "got"],
        ["nudges", "snooze"],
        ["nudges", "skip"],
    ]
    async with http.get(live_app.url + "/webchat/inbox") as resp:
        assert (await resp.json()) == {"messages": []}, "each message is handed out once"
    async with http.get(live_app.url + "/metrics") as resp:
        metrics = await resp.text()
    assert 'coach_outbox_messages_total{kind="nudge",outcome="sent"} 1.0' in metrics


async def test_other_kinds_plug_in_through_the_registry(coach, clock):
    from bot.delivery import Outgoing
    from bot.scheduling import scheduler as scheduler_module
    from dialogs.messages import FileAttachment, Reply
    from storage import outbox

    person = await make_person(coach.db)

    async def render_weekly(ctx, item):
        chart = FileAttachment("c.png", b"png", "image/png")
        return Outgoing([Reply(text=f"week {item.payload['week']}")], [chart])

    kinds = {**scheduler_module.renderers(), "weekly_test": render_weekly}
    async with coach.db() as session, session.begin():
        await outbox.enqueue(session=session, dedup_key="digest:1:2026-49", kind="weekly_test",
                             person_id=person.id, due_at=clock.now, payload={"week": 49})
    sender = RecordingSender()
    await Scheduler(ctx=coach, senders={"web": sender}, kinds=kinds).run_once()
    [(_, message)] = sender.sent
    assert message.replies[0].text == "week 49" and message.attachments[0].filename == "c.png"


async def test_tips_are_stored_in_the_debriefs_one_write_and_rendered_from_it(
    coach, clock, engine, database_url
):
    """The tips row goes into the filing's one statement on PostgreSQL (into its transaction on
    SQLite), holds the debrief id only, and is rendered at send time from the stored debrief."""
    person = await make_person(coach.db)
    assert person.id is not None
    loc = Locality(locale="en", timezone="Europe/Amsterdam", now=clock())
    debrief, errors = validate_form(full_form(next_meeting_at=None, next_step_due=None),
                                    texts=coach.texts, loc=loc)
    assert not errors and debrief is not None
    await submit_debrief(ctx=coach, person_id=person.id, debrief=debrief, idempotency_key="first")
    async with statements_sent(engine) as statements:
        result = await submit_debrief(ctx=coach, person_id=person.id, debrief=debrief,
                                      idempotency_key="second", tips_later=True)
    assert statements == (["WITH"] if database_url.startswith("postgresql")
                          else ["INSERT", "INSERT", "INSERT"])  # debrief, answers, outbox
    again = await submit_debrief(ctx=coach, person_id=person.id, debrief=debrief,
                                 idempotency_key="second", tips_later=True)
    assert not again.created
    (row,) = [r for r in await outbox_rows(coach.db) if r.kind == "debrief_tips"]
    assert (row.dedup_key, row.payload, row.due_at) == (
        f"d{result.debrief_id}:tips", {"debrief_id": result.debrief_id}, clock()
    )
    sender = RecordingSender()
    assert await Scheduler(ctx=coach, senders={"web": sender}, config=CONFIG).run_once() == 1
    ((to, message),) = sender.sent
    assert to == person.id
    assert result.replies == []  # rendered when sent, from what was stored
    saved_at = format_when(clock(), locale="en", tz="Europe/Amsterdam")
    assert [r.kind for r in message.replies] == ["saved", "tips", "recap", "info"]
    assert message.replies[0].text == coach.texts.message("en", "saved", account="Acme", when=saved_at)
    assert message.replies[-1].meta == {EDIT_OF: result.debrief_id}
    assert (await outbox_rows(coach.db))[-1].status == "sent"


async def test_a_wake_delivers_at_once_instead_of_at_the_next_poll(coach, clock):
    person = await make_person(coach.db)
    assert person.id is not None
    sender = RecordingSender()
    scheduler = Scheduler(ctx=coach, senders={"web": sender}, config=SchedulerConfig(poll_interval=30))
    stop = asyncio.Event()
    running = asyncio.create_task(scheduler.run(stop))
    try:
        await asyncio.sleep(0.1)  # it found nothing due and waits for its next poll, 30 s away
        loc = Locality(locale="en", timezone="Europe/Amsterdam", now=clock())
        debrief, _ = validate_form(full_form(), texts=coach.texts, loc=loc)
        assert debrief is not None
        await submit_debrief(ctx=coach, person_id=person.id, debrief=debrief, idempotency_key="k",
                             tips_later=True)
        await asyncio.sleep(0.2)
        assert sender.sent == []  # stored, not yet looked for
        scheduler.wake()
        async with asyncio.timeout(2):
            while True:  # well before the poll
                if any(m.replies[0].kind == "saved" for _, m in sender.sent):
                    break
                await asyncio.sleep(0.01)
        # the tips, and the preparation of the next meeting (due at once: it is tomorrow)
        assert sorted(m.replies[0].kind for _, m in sender.sent) == ["prepare", "saved"]
    finally:
        stop.set()
        await running


async def test_a_wake_for_an_answer_someone_waits_for_does_not_pause_to_gather_a_burst(coach):
    person = await make_person(coach.db)
    assert person.id is not None
    sender = RecordingSender()
    config = SchedulerConfig(poll_interval=30, wake_gather=2.0)
    scheduler = Scheduler(ctx=coach, senders={"web": sender}, config=config)
    stop = asyncio.Event()
    running = asyncio.create_task(scheduler.run(stop))
    answer = Reply(kind="help", text="What I can do", items=("debrief",), buttons=(Button("Help", "help"),),
                   meta={EDIT_OF: 7})
    try:
        await asyncio.sleep(0.1)  # nothing due: it waits for its next poll, 30 s away
        for n, at_once in enumerate((True, False)):
            assert await answer_later(ctx=coach, person_id=person.id, key=f"k{n}", channel="web",
                                      replies=[answer], words="help")
            scheduler.wake(at_once=at_once)
            await asyncio.sleep(1.0)
            assert len(sender.sent) == 1  # the first at once; the second still gathering (2 s)
        async with asyncio.timeout(3):
            while True:  # after the gathering pause
                if len(sender.sent) == 2:
                    break
                await asyncio.sleep(0.01)
        assert [m.replies for _, m in sender.sent] == [[answer], [answer]]  # as stored, meta included
        assert [m.replies[0].meta for _, m in sender.sent] == [{EDIT_OF: 7}] * 2
    finally:
        stop.set()
        await running
