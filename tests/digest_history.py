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


# -- A second team, for the coaching figures: deals, the team's evidence, patterns, action points --
#
# Manager Vera Visser, reps Rita Roos and Sem Smit; same clock. Each row below is one debrief
# (rep, account, month, day, ratings, outcome, fields); a deal is an account's run until closed
# (won) or lost. Only the opening point varies in the deals (other points "y", except Sem's next
# step in November), so the evidence per point can be counted by hand:
#
# deals concluded since 1 Jun, opening well (mean score above ½) / not:
#   well: R1 won, R2 won, R3 lost, R6 won (y, p), R9 lost, R11 won, S1 won, S2 lost, S6 won,
#         S9 lost, R13 lost, R15 won, R17 won, R19 lost, S11 lost (y, y), S14 lost, S15 lost
#         -> 17 deals, 8 won
#   not:  R4 lost, R5 lost, R7 lost (y, n: exactly ½), R8 won, R10 lost, S3 lost, S4 lost,
#         S5 lost (n, p, n), S7 lost, S8 won, S10 lost, R12 lost (n, y), R14 won, R16 lost,
#         R18 won (p) -> 15 deals, 4 won
# per month: Sep 6 of 15 won, Oct 2 of 6, Nov 4 of 11; Jun–Aug none.
# previous period (11-16 09:00 .. 11-23 09:00): R12 lost, R13 lost, R14 won, S11 lost, S15 lost
#   -> 1 of 5; current period: R15 won, R16 lost, R17 won, R18 won, R19 lost (Rita 3 of 5),
#   S14 lost (Sem 0 of 1) -> team 3 of 6; meetings closing: Rita 3 of 5, Sem 1 of 2 (S13 next step)
COACHING_DEBRIEFS: tuple[tuple[str, str, int, int, str, str, dict[str, Any]], ...] = (
    ("R", "R1", 9, 1, "yyyyy", "closed", {}),
    ("S", "S1", 9, 2, "yyyyy", "closed", {}),
    ("R", "R2", 9, 3, "yyyyy", "closed", {}),
    ("S", "S2", 9, 4, "yyyyy", "lost", {}),
    ("R", "R3", 9, 7, "yyyyy", "lost", {}),
    ("S", "S3", 9, 8, "nyyyy", "lost", {}),
    ("R", "R4", 9, 9, "nyyyy", "lost", {}),
    ("S", "S4", 9, 10, "pyyyy", "lost", {}),
    ("R", "R5", 9, 11, "nyyyy", "lost", {}),
    ("R", "R6", 9, 14, "yyyyy", "next_step", {}),
    ("R", "R7", 9, 15, "yyyyy", "next_step", {}),
    ("S", "S5", 9, 16, "nyyyy", "next_step", {}),
    ("S", "S6", 9, 17, "yyyyy", "closed", {}),
    ("R", "R6", 9, 21, "pyyyy", "closed", {}),
    ("R", "R7", 9, 22, "nyyyy", "lost", {}),
    ("S", "S5", 9, 23, "pyyyy", "postponed", {}),
    ("R", "R8", 9, 24, "nyyyy", "closed", {}),
    ("S", "S7", 9, 25, "nyyyy", "lost", {}),
    ("S", "S5", 9, 30, "nyyyy", "lost", {}),
    ("R", "R9", 10, 5, "yyyyy", "lost", {}),
    ("S", "S8", 10, 6, "nyyyy", "closed", {}),
    ("R", "R10", 10, 7, "nyyyy", "lost", {}),
    ("R", "R11", 10, 12, "yyyyy", "closed", {}),
    ("S", "S9", 10, 13, "yyyyy", "lost", {}),
    ("S", "S10", 10, 14, "nyyyy", "lost", {}),
    # Rita's open run with R20 (never concluded): the customer set the agenda both times
    ("R", "R20", 10, 26, "nyyyy", "next_step", {"agenda_set_by": "customer_formal"}),
    ("R", "R12", 11, 3, "nyyyy", "next_step", {"agenda_set_by": "customer_formal"}),
    ("S", "S11", 11, 4, "yyyyn", "next_step", {}),  # no date for the next step
    ("R", "R20", 11, 9, "nyyyy", "next_step", {"agenda_set_by": "customer_formal"}),
    ("S", "S12", 11, 10, "yyyyp", "postponed", {}),  # no date; S12 stays open
    ("R", "R12", 11, 17, "yyyyy", "lost", {}),
    ("R", "R13", 11, 18, "yyyyy", "lost", {"agenda_set_by": "rep_informal"}),
    ("R", "R14", 11, 19, "nyyyy", "closed", {"agenda_set_by": "customer_formal"}),
    ("S", "S11", 11, 20, "yyyyy", "lost", {}),
    ("S", "S15", 11, 21, "yyyyy", "lost", {}),
    ("R", "R15", 11, 24, "yyyyy", "closed", {"agenda_set_by": "rep_informal"}),
    ("R", "R16", 11, 25, "nyyyy", "lost", {"agenda_set_by": "customer_formal"}),
    ("R", "R17", 11, 26, "yyyyy", "closed", {}),
    ("S", "S13", 11, 26, "yyyyp", "next_step", {"next_step_due": date(2026, 12, 3)}),
    ("R", "R18", 11, 27, "pyyyy", "closed", {"agenda_set_by": "nobody"}),
    ("S", "S14", 11, 27, "yyyyy", "lost", {}),
    ("R", "R19", 11, 28, "yyyyy", "lost", {}),
)


@dataclass
class CoachingHistory:
    manager: Person
    rita: Person
    sem: Person
    debrief_ids: dict[tuple[str, int, int], int]  # (account, month, day) -> debrief id
    rita_action_id: int
    sem_action_id: int


async def seed_coaching(
    db: async_sessionmaker[AsyncSession], *, manager_locale: str = "en"
) -> CoachingHistory:
    from storage.action_points import assign_action_point, finish_action_point

    manager = await make_person(
        db, user_id="V", name="Vera Visser", role="manager", locale=manager_locale, email="vera@example.com"
    )
    rita = await make_person(
        db, user_id="R", name="Rita Roos", manager_id=manager.id, email="rita@example.com"
    )
    sem = await make_person(db, user_id="S", name="Sem Smit", manager_id=manager.id, email="sem@example.com")
    reps = {"R": rita, "S": sem}
    ids = {}
    async with db() as s, s.begin():
        for rep, code, month, day, ratings, outcome, fields in COACHING_DEBRIEFS:
            ids[(f"{code} Logistics", month, day)] = await add_debrief(
                s, reps[rep], f"{code} Logistics", at(month, day), ratings, outcome, **fields
            )
        assert manager.id is not None and rita.id is not None and sem.id is not None
        rita_point = (await assign_action_point(
            session=s,
            workspace_id=rita.workspace_id,
            person_id=rita.id,
            manager_id=manager.id,
            text="Ask for their agenda before every meeting",
            pattern="agenda:customer_formal",
            point="opening",
            now=at(11, 16, 9),
        )).point
        sem_point = (await assign_action_point(
            session=s,
            workspace_id=sem.workspace_id,
            person_id=sem.id,
            manager_id=manager.id,
            text="Put a date on every next step",
            pattern="next_step:no_date",
            point="next_step",
            now=at(11, 2, 10),
        )).point
        old = (await assign_action_point(
            session=s,
            workspace_id=sem.workspace_id,
            person_id=sem.id,
            manager_id=manager.id,
            text="Ask what they tried",
            pattern="situation:supplier_not_asked",
            point="situation",
            now=at(9, 1),
        )).point
        assert sem_point.id is not None and old.id is not None and rita_point.id is not None
        await finish_action_point(session=s, action_id=sem_point.id, by_person_id=sem.id, now=at(11, 25))
        await finish_action_point(session=s, action_id=old.id, by_person_id=manager.id, now=at(10, 1))
    return CoachingHistory(manager, rita, sem, ids, rita_point.id, sem_point.id)
