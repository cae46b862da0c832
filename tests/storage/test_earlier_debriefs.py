"""The rep's earlier debriefs, for one debrief or a batch of any size (SQLite and PostgreSQL): a batch
reads what each debrief alone reads, across statements and the padding that rounds a batch up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.debriefs import DebriefMoment, earlier_debriefs
from tests.factories import make_person
from tests.storage.debrief_rows import new_debrief

pytestmark = pytest.mark.usefixtures("database_url")
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def history(db, reps: int, each: int) -> list[DebriefMoment]:
    """`each` debriefs a day apart for each of `reps` reps, oldest first per rep."""
    moments = []
    for r in range(reps):
        rep = await make_person(db, user_id=f"U{r}", name=f"Rep {r}")
        assert rep.id is not None
        for n in range(each):
            at = START + timedelta(days=n, minutes=r)
            debrief_id = await new_debrief(db, rep, key=f"k{r}-{n}", created_at=at)
            moments.append(DebriefMoment(debrief_id, rep.id, at))
    return moments


async def read(db, moments: list[DebriefMoment], limit: int = 3) -> dict[int, list[int]]:
    async with db() as session:
        found = await earlier_debriefs(session=session, moments=moments, limit=limit)
    return {debrief_id: [p.debrief_id for p in past] for debrief_id, past in found.items()}


async def test_each_debrief_gets_the_reps_own_earlier_ones_newest_first(db) -> None:
    moments = await history(db, reps=2, each=5)
    first_rep = moments[:5]
    alone = await read(db, [first_rep[4]])
    assert alone == {first_rep[4].debrief_id: [m.debrief_id for m in reversed(first_rep[1:4])]}
    assert await read(db, [first_rep[0]]) == {first_rep[0].debrief_id: []}  # nothing before the first
    async with db() as session:
        (past,) = (await earlier_debriefs(session=session, moments=[first_rep[1]], limit=1))[
            first_rep[1].debrief_id]
    assert past.ratings["opening"] == "no" and past.notes["next_step"] == "pilot"
    assert past.fields["outcome"] == "next_step"


@pytest.mark.parametrize("size", [3, 5, 130])  # padded to 4 and 8; over one statement's 128
async def test_a_batch_reads_what_each_debrief_alone_reads(db, size: int) -> None:
    moments = await history(db, reps=2, each=3) if size < 130 else await history(db, reps=26, each=5)
    moments = (moments * 3)[:size] if size < 130 else moments
    alone: dict[int, list[int]] = {}
    for m in moments:
        alone |= await read(db, [m])
    together = await read(db, moments)
    assert together == alone
    assert len(together) == len({m.debrief_id for m in moments})
    assert any(together.values())  # the batch found earlier debriefs, not only empty lists
