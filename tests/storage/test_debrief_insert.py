"""Inserting a debrief by rep and account name, returning the rep (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.accounts import account_names, get_or_create_account
from storage.debrief_insert import FiledDebrief, SignedOwner, insert_debrief
from storage.debriefs import get_debrief
from storage.engine import sessions_dialect, sessions_engine
from storage.errors import NotFound
from storage.filing import file_debrief
from storage.filing_at_once import file_debrief_at_once
from storage.follow_ups import FollowUps
from storage.models import Account, Debrief, DebriefAnswer, Meeting, Person
from tests.factories import make_person
from tests.storage.debrief_rows import ANSWERS, FIELDS, count, new_debrief

pytestmark = pytest.mark.usefixtures("database_url")


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


async def test_filing_checks_the_signed_owner_in_the_statement(db) -> None:
    """A person id with the signed requester: stored only when the person row is theirs (the
    one-statement filing on PostgreSQL, statement by statement on SQLite; new and known account)."""
    anna = await make_person(db, user_id="UA", platform="slack", workspace="T1")
    ben = await make_person(db, user_id="UB", platform="slack", workspace="T1")
    await new_debrief(db, anna, key="seed")  # Acme is known: PostgreSQL's one statement applies
    assert anna.id is not None and ben.id is not None

    async def file_as(person_id: int, owner: SignedOwner, key: str, account: str = "Acme") -> FiledDebrief:
        return await file_debrief(
            sessions=db, person_id=person_id, account_name=account, idempotency_key=key, fields=FIELDS,
            answers=ANSWERS, created_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
            plan=lambda tz: FollowUps(), timezone="Europe/Amsterdam", default_timezone="UTC", owner=owner,
        )

    before = await count(db, Debrief)
    for owner in (
        SignedOwner("slack", "T1", "UB"),  # another user's id
        SignedOwner("slack", "T2", "UA"),  # the same user id in another workspace
        SignedOwner("teams", "T1", "UA"),  # another platform
    ):
        for account in ("Acme", "Brand new"):
            with pytest.raises(NotFound):
                await file_as(anna.id, owner, f"k-{owner}-{account}", account)
    assert await count(db, Debrief) == before
    filed = await file_as(anna.id, SignedOwner("slack", "T1", "UA"), "k-ok")
    assert filed.created and filed.person_name == "Sanne de Vries"
    assert await count(db, Debrief) == before + 1
    if sessions_dialect(db) == "postgresql":  # the owner check keeps the one-statement way
        common = dict(person_id=anna.id, account_name="Acme", fields=FIELDS, answers=ANSWERS,
                      created_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC), follow_ups=FollowUps())
        at_once = await file_debrief_at_once(engine=sessions_engine(db), idempotency_key="k-once",
                                             owner=SignedOwner("slack", "T1", "UA"), **common)
        assert at_once is not None and at_once.filed.created
        refused = await file_debrief_at_once(engine=sessions_engine(db), idempotency_key="k-not",
                                             owner=SignedOwner("slack", "T1", "UB"), **common)
        assert refused is None


async def test_a_repeated_key_of_another_person_is_refused(db) -> None:
    """A key is only a repeat for its own rep: another person's key (Teams card data is made by the
    client) neither stores nor hands back that person's debrief."""
    anna = await make_person(db, user_id="UA")
    ben = await make_person(db, user_id="UB")
    first = await file(db, anna, key="same-key")
    before = await count(db, Debrief)
    with pytest.raises(NotFound):
        await file(db, ben, key="same-key")
    assert await count(db, Debrief) == before
    again = await file(db, anna, key="same-key")
    assert (again.debrief_id, again.created) == (first.debrief_id, False)
