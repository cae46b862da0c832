"""Cutting a forgotten person out of rows that only mention them (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from storage import outbox
from storage.forget_mentions import Identity, forget_mentions
from storage.models import Outbox, Person
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("database_url")


async def test_mentions_are_cut_and_nothing_else(db) -> None:
    rep = await make_person(db, user_id="U1", name="Bo Rep")
    namesake = await make_person(db, user_id="U2", name="Ann Lee")
    payload = {
        "manager": "Ann Lee",
        "line": "Annual review with Ann Lee, ann@example.com.\nSecond line",
        "user": {"id": "29:ann", "name": "Ann Lee", "aadObjectId": "aad-ann"},
        "others": ["Zoë Ann Lee", "Annlee"],
        "count": 3,
    }
    async with db() as session, session.begin():
        await outbox.enqueue(session=session, dedup_key="n1", kind="team_notice", person_id=rep.id,
                             due_at=datetime(2026, 12, 1, tzinfo=UTC), payload=payload)
        await outbox.enqueue(session=session, dedup_key="n2", kind="team_notice", person_id=rep.id,
                             due_at=datetime(2026, 12, 1, tzinfo=UTC), payload={"manager": "Piet"})
        changed = await forget_mentions(session=session, identity=Identity(
            name="ann lee", email="ANN@example.com", platform_ids=("aad-ann", "29:ann")))
    assert changed == 1
    async with db() as session:
        rows = {r.dedup_key: r.payload for r in await session.scalars(sa.select(Outbox))}
        same_name = await session.get(Person, namesake.id)
    assert rows["n1"] == {
        "manager": "",
        "line": "Annual review with , .\nSecond line",
        "user": {},
        "others": ["Zoë", "Annlee"],
        "count": 3,
    }
    assert rows["n2"] == {"manager": "Piet"}
    assert same_name is not None and same_name.display_name == "Ann Lee"  # a namesake keeps their name
