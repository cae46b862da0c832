"""Rows the storage tests share: a debrief's answers and fields, a stored debrief, a row count."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from storage.accounts import get_or_create_account
from storage.debriefs import AnswerRow, create_debrief
from storage.models import Person

ANSWERS = [
    AnswerRow(p, r, n)
    for p, r, n in [
        ("opening", "no", "formal agenda"),
        ("interaction", "yes", None),
        ("situation", "partly", None),
        ("concessions", "yes", None),
        ("next_step", "yes", "pilot"),
    ]
]


FIELDS = {
    "outcome": "next_step",
    "agenda_set_by": "customer_formal",
    "next_step_due": date(2026, 12, 7),
    "next_meeting_at": datetime(2026, 12, 8, 13, 0, tzinfo=UTC),
}


async def new_debrief(
    db, person: Person, *, key: str = "k1", account: str = "Acme", created_at: datetime | None = None
) -> int:
    async with db() as session, session.begin():
        account_id = await get_or_create_account(
            session=session, workspace_id=person.workspace_id, name=account
        )
        assert person.id is not None
        debrief_id, created = await create_debrief(
            session=session,
            workspace_id=person.workspace_id,
            person_id=person.id,
            account_id=account_id,
            idempotency_key=key,
            fields=FIELDS,
            answers=ANSWERS,
            created_at=created_at,
        )
    assert created
    return debrief_id


async def count(db, table) -> int:
    async with db() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
