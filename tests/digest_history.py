"""A small team history with figures worked out by hand (see the expectations in the digest tests).

Clock: Monday 2026-11-30 09:00 UTC. Period [11-23 09:00, 11-30 09:00), previous [11-16, 11-23).
Manager Mira (en) has reps Anna, Bram and Cor; manager Olaf has rep Dirk; workspace "other" has
Eve, wrongly pointing at Mira (the digest must ignore her: workspaces never mix).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.checklist import POINTS
from storage.accounts import get_or_create_account
from storage.debriefs import AnswerRow, create_debrief
from storage.models import Meeting, Person
from storage.people import update_person
from tests.factories import make_person


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@dataclass
class History:
    manager: Person
    anna: Person
    bram: Person
    cor: Person
    olaf: Person
    dirk: Person
    eve: Person


async def add_debrief(
    session: AsyncSession,
    person: Person,
    account: str,
    when: datetime,
    ratings: str,
    outcome: str,
    **fields: Any,
) -> int:
    """`ratings` is five letters, y/p/n, in checklist order."""
    rating = {"y": "yes", "p": "partly", "n": "no"}
    assert person.id is not None
    account_id = await get_or_create_account(
        session=session, workspace_id=person.workspace_id, name=account
    )
    debrief_id, _ = await create_debrief(
        session=session,
        workspace_id=person.workspace_id,
        person_id=person.id,
        account_id=account_id,
        idempotency_key=f"t:{person.id}:{account}:{when.isoformat()}",
        created_at=when,
        fields={"outcome": outcome, **fields},
        answers=[AnswerRow(p, rating[r], f"note {p}") for p, r in zip(POINTS, ratings, strict=True)],
    )
    return debrief_id


async def add_meeting(
    session: AsyncSession, person: Person, account: str, when: datetime, *, cancelled: bool = False
) -> None:
    assert person.id is not None
    account_id = await get_or_create_account(
        session=session, workspace_id=person.workspace_id, name=account
    )
    session.add(
        Meeting(
            workspace_id=person.workspace_id,
            person_id=person.id,
            account_id=account_id,
            starts_at=when,
            external_uid=f"m:{account}:{when.isoformat()}",
            cancelled=cancelled,
        )
    )
    await session.flush()


async def seed_history(db: async_sessionmaker[AsyncSession], *, manager_locale: str = "en") -> History:
    manager = await make_person(
        db, user_id="M", name="Mira Manager", role="manager", locale=manager_locale, email="mira@example.com"
    )
    anna = await make_person(
        db, user_id="A", name="Anna Aalders", manager_id=manager.id, email="anna@example.com"
    )
    bram = await make_person(
        db, user_id="B", name="Bram Bos", manager_id=manager.id, email="bram@example.com"
    )
    cor = await make_person(db, user_id="C", name="Cor Claes", manager_id=manager.id)
    olaf = await make_person(db, user_id="O", name="Olaf Other", role="manager")
    dirk = await make_person(
        db, user_id="D", name="Dirk Dekker", manager_id=olaf.id, email="dirk@example.com"
    )
    eve = await make_person(db, user_id="E", name="Eve Elsewhere", workspace="other", email="eve@example.com")
    async with db() as s, s.begin():
        await update_person(
            session=s, person_id=eve.id, manager_id=manager.id
        )  # cross-workspace: ignored
        # Anna, current period
        await add_debrief(
            s,
            anna,
            "Acme",
            at(11, 24),
            "nypyy",
            "closed",
            concessions_given="60 days",
            concessions_got="pilot",
        )
        await add_debrief(s, anna, "Brouwer", at(11, 25), "pynny", "next_step", concessions_given="discount")
        await add_debrief(s, anna, "Kappa", at(11, 27), "npyyp", "lost")
        # Anna, previous period: Acme's next step is followed up (11-24), Delta's is not
        await add_debrief(
            s,
            anna,
            "Acme",
            at(11, 18),
            "yyyyy",
            "next_step",
            next_step_what="Proposal",
            next_step_due=date(2026, 11, 25),
        )
        await add_debrief(
            s,
            anna,
            "Delta",
            at(11, 20),
            "yyypn",
            "postponed",
            next_step_what="Call the CFO",
            next_step_due=date(2026, 11, 26),
        )
        # Anna, two periods back
        await add_debrief(s, anna, "Acme", at(11, 10), "yyyyy", "closed")
        # Bram, current period only
        await add_debrief(s, bram, "Acme", at(11, 26, 14), "yyyyy", "closed")
        await add_debrief(
            s, bram, "Noord", at(11, 28, 8), "ynnpy", "next_step", next_step_due=date(2026, 12, 5)
        )
        await add_meeting(s, bram, "Zeta", at(11, 25, 13))  # no debrief: missed
        await add_meeting(s, bram, "Noord", at(11, 28, 7))  # debriefed at 08:00
        await add_meeting(s, bram, "Yank", at(11, 26), cancelled=True)  # cancelled: not counted
        await add_meeting(s, bram, "Zeta", at(11, 20))  # previous period: not counted
        # Olaf's team and the other workspace
        await add_debrief(s, dirk, "Acme", at(11, 26), "nnnnn", "lost")
        await add_debrief(s, eve, "Elsewhere", at(11, 26), "nnnnn", "lost")
    return History(manager, anna, bram, cor, olaf, dirk, eve)
