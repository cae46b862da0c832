"""The outbox repository on both engines: one row per dedup key, claims with a lease, fenced
outcomes, and expired leases handed back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from storage import outbox
from storage.models import Outbox
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("database_url")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def _rows(db) -> dict[str, Outbox]:
    async with db() as session:
        return {r.dedup_key: r for r in (await session.scalars(sa.select(Outbox))).all()}


async def test_a_dedup_key_is_one_row_and_a_repeat_reschedules_only_pending_rows(db):
    person = await make_person(db)
    async with db() as session, session.begin():
        for due in (NOW, NOW + timedelta(minutes=5)):
            await outbox.enqueue(
                session=session,
                dedup_key="m1:nudge",
                kind="nudge",
                person_id=person.id,
                due_at=due,
                payload={"n": 1},
            )
    rows = await _rows(db)
    assert len(rows) == 1 and rows["m1:nudge"].due_at == NOW + timedelta(minutes=5)

    async with db() as session, session.begin():
        claimed = await outbox.claim(
            session=session, worker="w1", now=NOW + timedelta(hours=1), lease=LEASE, limit=10
        )
        await outbox.mark_sent(session=session, ids=[c.id for c in claimed], worker="w1", now=NOW)
        await outbox.enqueue(
            session=session,
            dedup_key="m1:nudge",
            kind="nudge",
            person_id=person.id,
            due_at=NOW + timedelta(days=1),
        )
    row = (await _rows(db))["m1:nudge"]
    assert (row.status, row.due_at, row.attempts) == ("sent", NOW + timedelta(minutes=5), 1)


async def test_claims_are_due_only_oldest_first_and_leased(db):
    person = await make_person(db)
    async with db() as session, session.begin():
        for i, minutes in enumerate((30, -10, -20, 5)):
            await outbox.enqueue(
                session=session,
                dedup_key=f"k{i}",
                kind="nudge",
                person_id=person.id,
                due_at=NOW + timedelta(minutes=minutes),
            )
    async with db() as session, session.begin():
        first = await outbox.claim(session=session, worker="w1", now=NOW, lease=LEASE, limit=10)
    assert [c.dedup_key for c in first] == ["k2", "k1"]
    assert all(c.attempts == 1 for c in first)
    async with db() as session, session.begin():
        assert await outbox.claim(session=session, worker="w2", now=NOW, lease=LEASE, limit=10) == []
    rows = await _rows(db)
    assert rows["k1"].status == "claimed" and rows["k1"].claimed_by == "w1"
    assert rows["k1"].lease_until == NOW + LEASE

    # w1 dies; after the lease w2 gets the rows, and w1's late report changes nothing
    later = NOW + LEASE + timedelta(seconds=1)
    async with db() as session, session.begin():
        assert await outbox.release_expired_leases(session=session, now=later) == 2
        again = await outbox.claim(session=session, worker="w2", now=later, lease=LEASE, limit=10)
    assert sorted(c.dedup_key for c in again) == ["k1", "k2"]
    assert all(c.attempts == 2 for c in again)
    async with db() as session, session.begin():
        assert await outbox.mark_sent(session=session, ids=[c.id for c in again], worker="w1", now=later) == 0
        assert await outbox.mark_sent(session=session, ids=[c.id for c in again], worker="w2", now=later) == 2


async def test_retry_and_final_outcomes_are_recorded(db):
    person = await make_person(db)
    async with db() as session, session.begin():
        for key in ("a", "b"):
            await outbox.enqueue(
                session=session, dedup_key=key, kind="nudge", person_id=person.id, due_at=NOW
            )
        claimed = await outbox.claim(session=session, worker="w", now=NOW, lease=LEASE, limit=10)
    by_key = {c.dedup_key: c for c in claimed}
    async with db() as session, session.begin():
        await outbox.mark_retry(
            session=session,
            item_id=by_key["a"].id,
            worker="w",
            due_at=NOW + timedelta(seconds=7),
            error="rate limited",
        )
        await outbox.mark_final(
            session=session,
            item_id=by_key["b"].id,
            worker="w",
            status="failed",
            error="permanent: channel_not_found",
        )
    rows = await _rows(db)
    assert (rows["a"].status, rows["a"].due_at, rows["a"].last_error) == (
        "pending",
        NOW + timedelta(seconds=7),
        "rate limited",
    )
    assert (rows["b"].status, rows["b"].last_error) == ("failed", "permanent: channel_not_found")
    async with db() as session:
        listed = [outbox.row_json(r) for r in await outbox.list_rows(session=session)]
    assert listed[0]["dedup_key"] == "a" and listed[0]["due_at"] == "2026-11-30T09:00:07Z"
    assert {r["status"] for r in listed} == {"pending", "failed"}


async def test_cancel_prefix_touches_one_meetings_pending_rows(db):
    person = await make_person(db)
    async with db() as session, session.begin():
        for key in ("m1:nudge:x", "m1:debrief_prompt:x", "m12:nudge:x", "m1%:odd"):
            await outbox.enqueue(
                session=session, dedup_key=key, kind="nudge", person_id=person.id, due_at=NOW
            )
        n = await outbox.cancel_prefix(session=session, prefix="m1:", keep=["m1:debrief_prompt:x"])
    assert n == 1
    rows = await _rows(db)
    assert [k for k, r in sorted(rows.items()) if r.status == "cancelled"] == ["m1:nudge:x"]


async def test_a_message_rows_payload_is_emptied_when_it_is_finished_and_a_reference_is_kept(db):
    person = await make_person(db)
    said = {"replies": [{"text": "Your note: Quokka-lantern 7731"}]}
    planned = [(key, outbox.REPLY, said) for key in ("r:sent", "r:failed", "r:later")]
    async with db() as session, session.begin():
        for key, kind, payload in [*planned, ("d1:tips", "debrief_tips", {"debrief_id": 1})]:
            await outbox.enqueue(session=session, dedup_key=key, kind=kind, person_id=person.id,
                                 due_at=NOW, payload=payload)
    async with db() as session, session.begin():
        claimed = {c.dedup_key: c.id for c in await outbox.claim(
            session=session, worker="w1", now=NOW, lease=LEASE, limit=10
        )}
        sent = [claimed["r:sent"], claimed["d1:tips"]]
        await outbox.mark_sent(session=session, ids=sent, worker="w1", now=NOW)
        await outbox.mark_final(session=session, item_id=claimed["r:failed"], worker="w1", status="failed",
                                error="permanent: Slack: channel_not_found")
        await outbox.mark_retry(session=session, item_id=claimed["r:later"], worker="w1",
                                due_at=NOW + LEASE, error="Slack: fatal_error")
    rows = await _rows(db)
    assert {k: (r.status, r.payload) for k, r in rows.items()} == {
        "r:sent": ("sent", {}),
        "r:failed": ("failed", {}),
        "r:later": ("pending", said),  # still to send: it keeps what it says
        "d1:tips": ("sent", {"debrief_id": 1}),  # a reference, not the message: kept
    }
