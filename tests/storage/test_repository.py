"""Repository functions on SQLite and on PostgreSQL (every test runs on both: `database_url`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from storage.accounts import account_names, get_or_create_account
from storage.debrief_insert import FiledDebrief, insert_debrief
from storage.debriefs import (
    AnswerRow,
    count_debriefs,
    create_debrief,
    get_debrief,
    latest_debriefs,
    update_debrief,
)
from storage.dialog_state import clear_dialog, load_dialog, save_dialog
from storage.errors import NotFound
from storage.models import (
    Account,
    Debrief,
    DebriefAnswer,
    DialogState,
    Meeting,
    Person,
    Workspace,
)
from storage.people import get_or_create_person, get_or_create_workspace, get_person, update_person
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("database_url")

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


# -- workspaces, people, accounts -------------------------------------------------------------------
async def test_workspace_and_person_get_or_create(db) -> None:
    async with db() as session, session.begin():
        ws = await get_or_create_workspace(
            session=session, platform="slack", external_id="T1", name="Acme"
        )
        again = await get_or_create_workspace(session=session, platform="slack", external_id="T1")
        teams = await get_or_create_workspace(session=session, platform="teams", external_id="T1")
        assert ws.id == again.id != teams.id
        assert ws.id is not None
        p1 = await get_or_create_person(
            session=session,
            workspace_id=ws.id,
            platform_user_id="U1",
            display_name="Sanne",
            timezone="Europe/Amsterdam",
            locale="nl",
        )
        p2 = await get_or_create_person(
            session=session, workspace_id=ws.id, platform_user_id="U1", display_name="Someone else"
        )
        assert p1.id == p2.id
        assert p2.display_name == "Sanne"  # the first write wins; updates go through update_person
        assert p1.id is not None
        await update_person(session=session, person_id=p1.id, display_name="Sanne de Vries", locale="en")
        with pytest.raises(ValueError, match="cannot update"):
            await update_person(session=session, person_id=p1.id, workspace_id=99)
    async with db() as session:
        person = await get_person(session=session, person_id=p1.id)
        assert (person.display_name, person.locale, person.timezone) == (
            "Sanne de Vries",
            "en",
            "Europe/Amsterdam",
        )
        with pytest.raises(NotFound):
            await get_person(session=session, person_id=123456)
    assert await count(db, Workspace) == 2
    assert await count(db, Person) == 1


@pytest.mark.parametrize(
    "spelling", ["acme corp", "ACME CORP", "  Acme   Corp ", "Acme\tCorp", "Acme\u00a0Corp"]
)
async def test_account_names_ignore_case_and_spacing(db, spelling: str) -> None:
    rep = await make_person(db)
    async with db() as session, session.begin():
        first = await get_or_create_account(
            session=session, workspace_id=rep.workspace_id, name="Acme Corp"
        )
        same = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name=spelling)
        other = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name="Acme")
        names = await account_names(session=session, account_ids=[first, other])
    assert first == same != other
    assert names == {first: "Acme Corp", other: "Acme"}  # the first spelling is kept
    elsewhere = await make_person(db, workspace="other")
    async with db() as session, session.begin():
        theirs = await get_or_create_account(
            session=session, workspace_id=elsewhere.workspace_id, name="acme corp"
        )
        assert await account_names(session=session, account_ids=[]) == {}
    assert theirs != first  # workspaces never share accounts


# -- debriefs ---------------------------------------------------------------------------------------
async def test_create_debrief_is_idempotent_per_workspace_key(db) -> None:
    rep = await make_person(db)
    first = await new_debrief(db, rep, key="slack:abc")
    async with db() as session, session.begin():
        assert rep.id is not None
        again, created = await create_debrief(
            session=session,
            workspace_id=rep.workspace_id,
            person_id=rep.id,
            account_id=1,
            idempotency_key="slack:abc",
            fields={"outcome": "lost"},
            answers=ANSWERS[:1],
        )
    assert (again, created) == (first, False)
    assert await count(db, Debrief) == 1
    assert await count(db, DebriefAnswer) == 5
    other_ws = await make_person(db, workspace="T2")
    await new_debrief(db, other_ws, key="slack:abc")  # same key, other workspace: a new debrief
    assert await count(db, Debrief) == 2
    async with db() as session:
        stored = await get_debrief(session=session, debrief_id=first, person_id=rep.id)
    assert stored.debrief.outcome == "next_step"


async def test_concurrent_inserts_with_one_key_make_one_row(concurrent_db) -> None:
    db = concurrent_db
    rep = await make_person(db)
    async with db() as session, session.begin():
        account_id = await get_or_create_account(
            session=session, workspace_id=rep.workspace_id, name="Acme"
        )
    started = asyncio.Event()

    async def insert() -> tuple[int, bool]:
        async with db() as session, session.begin():
            assert rep.id is not None
            result = await create_debrief(
                session=session,
                workspace_id=rep.workspace_id,
                person_id=rep.id,
                account_id=account_id,
                idempotency_key="teams:activity-1",
                fields=FIELDS,
                answers=ANSWERS,
            )
            started.set()
            await asyncio.sleep(0.05)  # hold the transaction open while the twin tries
            return result

    results = await asyncio.gather(insert(), insert(), insert())
    assert len({i for i, _ in results}) == 1
    assert sorted(c for _, c in results) == [False, False, True]
    assert await count(db, Debrief) == 1
    assert await count(db, DebriefAnswer) == 5


async def test_concurrent_account_creation_makes_one_account(concurrent_db) -> None:
    db = concurrent_db
    rep = await make_person(db)

    async def create(name: str) -> int:
        async with db() as session, session.begin():
            return await get_or_create_account(session=session, workspace_id=rep.workspace_id, name=name)

    ids = await asyncio.gather(create("Globex"), create("globex"), create(" GLOBEX "))
    assert len(set(ids)) == 1
    assert await count(db, Account) == 1


async def test_update_debrief_keeps_created_at_and_replaces_answers(db) -> None:
    rep = await make_person(db)
    created = datetime(2026, 11, 2, 8, 15, tzinfo=UTC)
    debrief_id = await new_debrief(db, rep, created_at=created)
    assert rep.id is not None
    later = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    async with db() as session, session.begin():
        await update_debrief(
            session=session,
            debrief_id=debrief_id,
            person_id=rep.id,
            updated_at=later,
            fields={"outcome": "closed", "next_meeting_at": None},
            answers=[AnswerRow(a.point, "yes", None) for a in ANSWERS],
        )
    async with db() as session:
        stored = await get_debrief(session=session, debrief_id=debrief_id, person_id=rep.id)
    assert stored.debrief.created_at == created
    assert stored.debrief.updated_at == later
    assert stored.debrief.outcome == "closed" and stored.debrief.next_meeting_at is None
    assert stored.debrief.agenda_set_by == "customer_formal"  # not in `fields`: untouched
    assert {p: (a.rating, a.note) for p, a in stored.answers.items()} == {
        a.point: ("yes", None) for a in ANSWERS
    }
    assert await count(db, DebriefAnswer) == 5
    other = await make_person(db, user_id="U2")
    assert other.id is not None
    async with db() as session, session.begin():
        with pytest.raises(NotFound):
            await update_debrief(
                session=session,
                debrief_id=debrief_id,
                person_id=other.id,
                fields={"outcome": "lost"},
                answers=ANSWERS,
            )
        with pytest.raises(NotFound):
            await get_debrief(session=session, debrief_id=debrief_id, person_id=other.id)


async def test_latest_debriefs_newest_first_own_only(db) -> None:
    rep = await make_person(db)
    other = await make_person(db, user_id="U2")
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    ids = [
        await new_debrief(db, rep, key=f"k{i}", account=f"Account {i}", created_at=base + timedelta(days=i))
        for i in range(7)
    ]
    await new_debrief(db, other, key="theirs", created_at=base + timedelta(days=30))
    assert rep.id is not None
    async with db() as session:
        rows = await latest_debriefs(session=session, person_id=rep.id, limit=5)
        assert await count_debriefs(session=session, person_id=rep.id) == 7
        assert await count_debriefs(session=session) == 8
    assert [r.debrief.id for r in rows] == ids[::-1][:5]
    assert [r.account_name for r in rows] == [f"Account {i}" for i in (6, 5, 4, 3, 2)]
    assert all(set(r.answers) == {a.point for a in ANSWERS} for r in rows)
    assert rows[0].answers["opening"].note == "formal agenda"


# -- dialog state ---------------------------------------------------------------------------------
async def test_dialog_save_with_version_check(db) -> None:
    rep = await make_person(db)
    assert rep.id is not None
    kw = {"person_id": rep.id, "channel": "web", "kind": "debrief"}
    async with db() as session, session.begin():
        assert await save_dialog(
            session=session, step="account", data={"a": 1}, expected_version=None, **kw
        )
    async with db() as session, session.begin():
        assert await save_dialog(
            session=session, step="rating:opening", data={"a": 2}, expected_version=1, **kw
        )
        # a second writer that read version 1 too loses
        assert not await save_dialog(session=session, step="x", data={}, expected_version=1, **kw)
    async with db() as session:
        state = await load_dialog(session=session, person_id=rep.id, channel="web")
        assert state is not None
        assert (state.step, state.data, state.version) == ("rating:opening", {"a": 2}, 2)
        assert await load_dialog(session=session, person_id=rep.id, channel="slack") is None
    async with db() as session, session.begin():
        assert not await clear_dialog(
            session=session, person_id=rep.id, channel="web", expected_version=1
        )
        # a new dialog replaces the old one, at version 1
        assert await save_dialog(session=session, step="account", data={}, expected_version=None, **kw)
    assert await count(db, DialogState) == 1
    async with db() as session, session.begin():
        assert await clear_dialog(session=session, person_id=rep.id, channel="web", expected_version=1)
        assert not await clear_dialog(session=session, person_id=rep.id, channel="web")
    assert await count(db, DialogState) == 0


async def test_concurrent_dialog_moves_one_wins(concurrent_db) -> None:
    db = concurrent_db
    rep = await make_person(db)
    assert rep.id is not None
    kw = {"person_id": rep.id, "channel": "web", "kind": "debrief"}
    async with db() as session, session.begin():
        await save_dialog(session=session, step="a", data={}, expected_version=None, **kw)

    async def move(step: str) -> bool:
        async with db() as session, session.begin():
            moved = await save_dialog(
                session=session, step=step, data={"by": step}, expected_version=1, **kw
            )
            await asyncio.sleep(0.05)
            return moved

    assert sorted(await asyncio.gather(move("b"), move("c"))) == [False, True]
    async with db() as session:
        state = await load_dialog(session=session, person_id=rep.id, channel="web")
    assert state is not None and state.version == 2 and state.data == {"by": state.step}


# -- time --------------------------------------------------------------------------------------------
async def test_datetimes_round_trip_as_aware_utc(db) -> None:
    rep = await make_person(db)
    local = datetime(2027, 3, 28, 3, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Amsterdam"))  # just after DST
    debrief_id = await new_debrief(db, rep, created_at=local)
    async with db() as session:
        created, meeting = (
            await session.execute(
                sa.select(Debrief.created_at, Debrief.next_meeting_at).where(Debrief.id == debrief_id)
            )
        ).one()
    assert created == local and meeting == FIELDS["next_meeting_at"]
    assert created.tzinfo == UTC and meeting.tzinfo == UTC
    assert created == datetime(2027, 3, 28, 1, 30, 15, 123456, tzinfo=UTC)
    # ordering and comparison happen in UTC in the database too
    async with db() as session:
        found = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Debrief)
            .where(Debrief.created_at > datetime(2027, 3, 28, 2, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))
        )
    assert found == 1
    with pytest.raises(StatementError, match="naive datetime"):
        await new_debrief(db, rep, key="naive", created_at=datetime(2026, 1, 1, 12, 0))


# -- foreign keys ------------------------------------------------------------------------------------
async def test_foreign_key_cascades(db) -> None:
    boss = await make_person(db, user_id="M1", role="manager")
    rep = await make_person(db, manager_id=boss.id)
    debrief_id = await new_debrief(db, rep)
    assert rep.id is not None
    async with db() as session, session.begin():
        meeting = Meeting(
            workspace_id=rep.workspace_id,
            person_id=rep.id,
            account_id=1,
            starts_at=datetime(2026, 12, 8, 13, 0, tzinfo=UTC),
            external_uid="m1",
        )
        session.add(meeting)
        await session.flush()
        await session.execute(
            sa.update(Debrief).where(Debrief.id == debrief_id).values(meeting_id=meeting.id)
        )
        await save_dialog(
            session=session,
            person_id=rep.id,
            channel="web",
            kind="debrief",
            step="a",
            data={},
            expected_version=None,
        )
    # deleting a meeting unlinks the debrief; deleting the manager unlinks the rep
    async with db() as session, session.begin():
        await session.execute(sa.delete(Meeting))
        await session.execute(sa.delete(Person).where(Person.id == boss.id))
    async with db() as session:
        assert await session.scalar(sa.select(Debrief.meeting_id).where(Debrief.id == debrief_id)) is None
        assert await session.scalar(sa.select(Person.manager_id).where(Person.id == rep.id)) is None
    # deleting a debrief takes its answers
    async with db() as session, session.begin():
        await session.execute(sa.delete(Debrief).where(Debrief.id == debrief_id))
    assert await count(db, DebriefAnswer) == 0
    # deleting a workspace takes everything in it
    await new_debrief(db, rep, key="k2")
    async with db() as session, session.begin():
        await session.execute(sa.delete(Workspace))
    for table in (Person, Account, Debrief, DebriefAnswer, DialogState):
        assert await count(db, table) == 0, table.__name__


async def test_foreign_keys_are_enforced(db) -> None:
    rep = await make_person(db)
    assert rep.id is not None
    with pytest.raises(sa.exc.IntegrityError):
        async with db() as session, session.begin():
            await create_debrief(
                session=session,
                workspace_id=rep.workspace_id,
                person_id=rep.id,
                account_id=987654,
                idempotency_key="x",
                fields={"outcome": "lost"},
                answers=ANSWERS,
            )
    assert await count(db, Debrief) == 0


async def file(db, person: Person, *, account: str = "Acme", key: str = "k1", at: datetime | None = None):
    async with db() as session, session.begin():
        assert person.id is not None
        return await insert_debrief(
            session=session, person_id=person.id, account_name=account, idempotency_key=key,
            fields=FIELDS, answers=ANSWERS, created_at=at or datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        )


async def test_file_debrief_returns_the_rep_with_the_insert(db) -> None:
    boss = await make_person(db, user_id="M1", name="Mark", role="manager")
    rep = await make_person(db, manager_id=boss.id, locale="nl", timezone="America/New_York")
    await new_debrief(db, rep, key="old", account="Acme Corp")  # the account exists
    filed = await file(db, rep, account="  ACME corp ", key="k1")
    async with db() as session:
        account_id = await get_or_create_account(
            session=session, workspace_id=rep.workspace_id, name="Acme Corp"
        )
        stored = await get_debrief(session=session, debrief_id=filed.debrief_id, person_id=rep.id or 0)
    assert filed == FiledDebrief(
        debrief_id=filed.debrief_id, created=True, workspace_id=rep.workspace_id, account_id=account_id,
        person_name="Sanne de Vries", locale="nl", timezone="America/New_York", manager_name="Mark",
        tactics_open=False,
    )
    assert stored.debrief.created_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert stored.debrief.next_step_due == FIELDS["next_step_due"]
    assert stored.debrief.next_meeting_at == FIELDS["next_meeting_at"]
    assert stored.debrief.idempotency_key == "k1" and stored.account_name == "Acme Corp"
    assert {p: (a.rating, a.note) for p, a in stored.answers.items()} == {
        a.point: (a.rating, a.note) for a in ANSWERS
    }


async def test_file_debrief_manager_named_by_email_or_absent(db) -> None:
    unnamed = await make_person(db, user_id="M2", name="", email="boss@example.com", role="manager")
    rep = await make_person(db, manager_id=unnamed.id, locale=None, timezone=None)
    loner = await make_person(db, user_id="U3")
    await new_debrief(db, rep, key="seed")  # the account exists
    filed = await file(db, rep, key="k1")
    assert (filed.manager_name, filed.locale, filed.timezone) == ("boss@example.com", None, None)
    filed = await file(db, loner, key="k2")
    assert filed.created and filed.manager_name is None and filed.person_name == "Sanne de Vries"


async def test_file_debrief_new_account(db) -> None:
    rep = await make_person(db)
    filed = await file(db, rep, account=" Globex  Inc ", key="k1")
    assert filed.created and filed.person_name == "Sanne de Vries"
    async with db() as session:
        names = await account_names(session=session, account_ids=[filed.account_id])
    assert names == {filed.account_id: "Globex Inc"}
    assert await count(db, Account) == 1
    assert await count(db, DebriefAnswer) == 5


async def test_file_debrief_repeated_key_stores_nothing(db) -> None:
    boss = await make_person(db, user_id="M1", name="Mark", role="manager")
    rep = await make_person(db, manager_id=boss.id)
    first = await file(db, rep, key="slack:V1")
    again = await file(db, rep, key="slack:V1", account="Other name")  # a retry: never a second one
    assert first.created and not again.created
    assert again.debrief_id == first.debrief_id
    assert (again.person_name, again.manager_name, again.locale) == ("Sanne de Vries", "Mark", "en")
    assert await count(db, Debrief) == 1
    assert await count(db, DebriefAnswer) == 5


async def test_file_debrief_for_nobody_writes_nothing(db) -> None:
    rep = await make_person(db)
    await new_debrief(db, rep, key="seed")
    with pytest.raises(NotFound):
        async with db() as session, session.begin():
            await insert_debrief(
                session=session, person_id=424242, account_name="Acme", idempotency_key="k",
                fields=FIELDS, answers=ANSWERS, created_at=datetime(2026, 11, 30, tzinfo=UTC),
            )
    assert await count(db, Debrief) == 1


async def test_file_debrief_says_whether_tactics_await_a_verdict(db) -> None:
    from storage.planning_models import SuggestedTactic

    rep = await make_person(db)
    other = await make_person(db, user_id="U2")
    await new_debrief(db, rep, key="seed")
    async with db() as session, session.begin():
        account_id = await get_or_create_account(
            session=session, workspace_id=rep.workspace_id, name="Acme"
        )
        meeting = Meeting(
            workspace_id=rep.workspace_id, person_id=rep.id or 0, account_id=account_id,
            starts_at=datetime(2026, 11, 20, 9, tzinfo=UTC), external_uid="m1",
        )
        session.add(meeting)
        await session.flush()
        for tactic, verdict, who in (("a", "worked", rep), ("b", None, other)):
            session.add(SuggestedTactic(
                person_id=who.id or 0, account_id=account_id, meeting_id=meeting.id or 0, tactic=tactic,
                suggested_at=datetime(2026, 11, 20, 8, tzinfo=UTC), verdict=verdict,
            ))
    assert not (await file(db, rep, key="k1")).tactics_open  # answered, or someone else's
    async with db() as session, session.begin():
        session.add(SuggestedTactic(
            person_id=rep.id or 0, account_id=account_id, meeting_id=meeting.id or 0, tactic="c",
            suggested_at=datetime(2026, 11, 30, 10, tzinfo=UTC),
        ))
    assert not (await file(db, rep, key="k2")).tactics_open  # suggested after this debrief
    assert (await file(db, rep, key="k3", at=datetime(2026, 11, 30, 11, tzinfo=UTC))).tactics_open
