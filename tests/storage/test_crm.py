"""storage.crm and storage.crm_links on both engines: a debrief plans its CRM write in the same
write (PostgreSQL's one statement included), a create is claimed once, outcomes are read by rep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from dialogs.context import CoachContext
from storage import crm, crm_links, crm_outcomes, outbox
from storage.accounts import get_or_create_account
from storage.crm_links import Claim
from tests.factories import make_person, store_debrief

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_a_debrief_in_a_workspace_with_a_crm_plans_one_write(coach, db, database_url) -> None:
    rep = await make_person(db)
    async with db() as session, session.begin():
        await crm.connect(
            session=session, workspace_id=rep.workspace_id, crm="hubspot", source="token", tokens="", now=NOW
        )
    debrief_id = await store_debrief(coach, rep, account="Acme")  # a new account: the general way
    second = await store_debrief(coach, rep, account="Acme", customer_questions="Again")  # PG: one statement
    async with db() as session:
        rows = [r for r in await outbox.list_rows(session=session) if r.kind == crm.CRM_WRITE]
    assert sorted((r.dedup_key, r.payload["debrief_id"]) for r in rows) == [
        (f"crm:d{debrief_id}", debrief_id),
        (f"crm:d{second}", second),
    ]


async def test_a_create_is_claimed_once_and_an_unknown_outcome_is_settled_once(db, database_url) -> None:
    rep = await make_person(db)
    async with db() as session, session.begin():
        await crm.connect(
            session=session, workspace_id=rep.workspace_id, crm="hubspot", source="token", tokens="", now=NOW
        )
    debrief_id = await store_debrief(CoachContext(db=db, clock=lambda: NOW), rep, account="Acme")

    async def claim(at: datetime) -> crm_links.Claimed:
        async with db() as session, session.begin():
            return await crm_links.claim_record(
                session=session,
                debrief_id=debrief_id,
                kind="note",
                marker="m1",
                now=at,
                stale_before=at - timedelta(minutes=2),
            )

    assert (await claim(NOW)).claim == Claim.FRESH
    assert (await claim(NOW + timedelta(seconds=5))).claim == Claim.BUSY  # another writer is on it
    later = await claim(NOW + timedelta(minutes=3))  # the first writer died: search before creating
    assert later.claim == Claim.UNKNOWN
    async with db() as session, session.begin():
        await crm_links.record_written(session=session, record_id=later.record_id, external_id="n-1", now=NOW)
    written = await claim(NOW + timedelta(minutes=4))
    assert written.claim == Claim.WRITTEN and written.external_id == "n-1"


async def test_outcomes_for_reps_within_a_period(db, database_url) -> None:
    rep = await make_person(db)
    other = await make_person(db, user_id="U2")
    assert rep.id is not None and other.id is not None
    async with db() as session, session.begin():
        account = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name="Acme")
        await crm_outcomes.save_outcomes(
            session=session,
            workspace_id=rep.workspace_id,
            crm="hubspot",
            outcomes=[
                crm_outcomes.DealOutcome(account, rep.id, "won", NOW, "d1"),
                crm_outcomes.DealOutcome(account, other.id, "lost", NOW, "d2"),
                crm_outcomes.DealOutcome(account, rep.id, "lost", NOW - timedelta(days=30), "d3"),
            ],
        )
        await crm_outcomes.save_outcomes(
            session=session,
            workspace_id=rep.workspace_id,
            crm="hubspot",
            outcomes=[crm_outcomes.DealOutcome(account, rep.id, "lost", NOW, "d1")],
        )  # the same deal again: updated, not added
    async with db() as session:
        rows = await crm_outcomes.crm_outcomes_for(
            session, [rep.id], NOW - timedelta(days=7), NOW + timedelta(days=1)
        )
    assert rows == [crm_outcomes.OutcomeRow(rep.id, account, "lost", NOW)]


async def test_each_interval_poll_is_claimed_by_one_of_the_replicas_asking_at_once(
    concurrent_db, database_url
) -> None:
    db = concurrent_db
    reps = [await make_person(db, workspace=w) for w in ("w1", "w2", "w3")]
    async with db() as session, session.begin():
        ids = [
            await crm.connect(
                session=session, workspace_id=p.workspace_id, crm="hubspot", source="token", tokens="",
                now=NOW,
            )
            for p in reps
        ]
        await crm.mark_broken(session=session, connection_id=ids[2], reason="revoked", now=NOW)
    every = timedelta(minutes=15)

    async def claim(at: datetime) -> list[int]:
        async with db() as session, session.begin():
            return await crm_outcomes.claim_due_polls(session=session, now=at, polled_before=at - every)

    taken = await asyncio.gather(*(claim(NOW) for _ in range(6)))
    assert sorted(i for t in taken for i in t) == ids[:2], "each connected one once; a broken one never"
    assert await claim(NOW + every - timedelta(seconds=1)) == []
    assert await claim(NOW + every) == ids[:2], "the next interval (a poll that died included)"
    async with db() as session, session.begin():
        await crm_outcomes.mark_polled(
            session=session, connection_id=ids[0], now=NOW + every + timedelta(minutes=5)
        )
    assert await claim(NOW + 2 * every) == [ids[1]], "polled by `coach crm poll` five minutes later"
    async with db() as session, session.begin():  # the admin connects it again (a new token)
        await crm.connect(session=session, workspace_id=reps[2].workspace_id, crm="hubspot", source="token",
                          tokens="", now=NOW + 2 * every)
        await crm.connect(session=session, workspace_id=reps[0].workspace_id, crm="hubspot", source="token",
                          tokens="", now=NOW + 2 * every)
    assert await claim(NOW + 2 * every) == [ids[0], ids[2]], "a (re)connected CRM is read at once"
