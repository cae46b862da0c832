"""Submitting a validated debrief (forms: Slack modal, Teams card), corrections, coaching, history."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dialogs.checklist import POINTS
from dialogs.context import CoachContext
from dialogs.debrief import (
    Rep,
    coaching,
    history,
    load_rep,
    submit_correction,
    submit_debrief,
    what_next,
)
from dialogs.text import format_when
from dialogs.validation import CleanDebrief, Locality, validate_form
from storage.debriefs import count_debriefs, get_debrief, latest_debriefs
from storage.errors import EditWindowClosed, NotFound
from storage.models import Account, Outbox, not_null
from tests.factories import full_form, make_person, statements_sent


def clean(coach: CoachContext, locale: str = "en", **overrides: object) -> CleanDebrief:
    loc = Locality(locale=locale, timezone="Europe/Amsterdam", now=coach.clock())
    debrief, errors = validate_form(full_form(**overrides), texts=coach.texts, loc=loc)
    assert not errors and debrief is not None
    return debrief


ALL_YES = {f"rating:{p}": "yes" for p in POINTS}
# Nothing a pattern rule (a habit drill) could count: the history need not be read.
NO_HABIT = {"rating:opening": "yes", "agenda_set_by": "rep_informal", "supplier_check": "cannot_solve"}


# -- submitting ------------------------------------------------------------------------------------
async def test_submit_stores_once_per_idempotency_key(coach, db, database_url) -> None:
    rep = await make_person(db)
    assert rep.id is not None
    debrief = clean(coach)
    first = await submit_debrief(ctx=coach, person_id=rep.id, debrief=debrief, idempotency_key="slack:V1")
    again = await submit_debrief(ctx=coach, person_id=rep.id, debrief=debrief, idempotency_key="slack:V1")
    assert first.created and not again.created
    assert first.debrief_id == again.debrief_id
    assert again.replies[0].text == coach.texts.message("en", "already_saved")
    other = await submit_debrief(ctx=coach, person_id=rep.id, debrief=debrief, idempotency_key="slack:V2")
    assert other.created and other.debrief_id != first.debrief_id
    async with db() as session:
        assert await count_debriefs(session=session, person_id=rep.id) == 2
        stored = await get_debrief(session=session, debrief_id=first.debrief_id, person_id=rep.id)
    assert stored.debrief.created_at == coach.clock()
    assert stored.account_name == "Acme"
    assert {p: a.rating for p, a in stored.answers.items()} == {
        "opening": "no",
        "interaction": "yes",
        "situation": "partly",
        "concessions": "yes",
        "next_step": "yes",
    }
    assert stored.answers["opening"].note == "They sent a formal agenda by mail."


async def test_concurrent_submissions_with_one_key_store_one(concurrent_db, clock, database_url) -> None:
    coach = CoachContext(db=concurrent_db, clock=clock)
    rep = await make_person(concurrent_db)
    assert rep.id is not None
    debrief = clean(coach)
    results = await asyncio.gather(
        *[
            submit_debrief(ctx=coach, person_id=rep.id, debrief=debrief, idempotency_key="slack:retry")
            for _ in range(4)
        ]
    )
    assert len({r.debrief_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    async with concurrent_db() as session:
        assert await count_debriefs(session=session, person_id=rep.id) == 1


async def test_reps_filing_a_new_account_at_once_each_store_theirs(
    concurrent_db, clock, database_url
) -> None:
    """Twelve reps of one team debrief the same new account at the same moment: every debrief is
    stored (none taken for a repeat), and the account exists once."""
    coach = CoachContext(db=concurrent_db, clock=clock)
    reps = [await make_person(concurrent_db, user_id=f"U{i}") for i in range(12)]
    debrief = clean(coach, account="Nieuw Account BV")
    for attempt in range(3):  # the race is narrow: give it a few chances to happen
        results = await asyncio.gather(*[
            submit_debrief(ctx=coach, person_id=not_null(rep.id), debrief=debrief,
                           idempotency_key=f"web:{attempt}:{rep.id}")
            for rep in reps
        ])
        assert all(r.created for r in results) and len({r.debrief_id for r in results}) == len(reps)
        debrief = clean(coach, account=f"Nieuw Account {attempt}")
    async with concurrent_db() as session:
        assert await count_debriefs(session=session) == 3 * len(reps)
        names = (await session.scalars(sa.select(Account.name).order_by(Account.name))).all()
    assert names == ["Nieuw Account 0", "Nieuw Account 1", "Nieuw Account BV"]


async def test_a_plain_submission_is_two_statements(coach, db, engine, database_url) -> None:
    """Known rep and account, nothing to plan: the rep comes back with the insert, and carrying
    out the follow-ups reads nothing (no next meeting, no due date, no tactics awaiting a verdict).
    On PostgreSQL it is all one statement (storage.filing_at_once). Nothing in it could make a
    pattern over the rep's last debriefs (a habit drill), so their history is not read either."""
    boss = await make_person(db, user_id="M1", name="Mark", role="manager")
    rep = await make_person(db, manager_id=boss.id, locale="nl")
    assert rep.id is not None
    plain = clean(coach, "nl", next_meeting_at=None, next_step_due=None, **NO_HABIT)
    await submit_debrief(ctx=coach, person_id=rep.id, debrief=plain, idempotency_key="first")  # new account
    async with statements_sent(engine) as statements:
        result = await submit_debrief(ctx=coach, person_id=rep.id, debrief=plain, idempotency_key="second")
    assert statements == (["WITH"] if database_url.startswith("postgresql") else ["INSERT", "INSERT"])
    assert result.created
    assert result.replies[-1] == what_next(
        ctx=coach,
        rep=Rep(id=rep.id, workspace_id=rep.workspace_id, name=rep.display_name, locale="nl",
                timezone="Europe/Amsterdam", manager_name="Mark"),
        debrief=plain,
    )
    async with db() as session:
        assert await count_debriefs(session=session, person_id=rep.id) == 2
        outbox = await session.scalar(sa.select(sa.func.count()).select_from(Outbox))
    assert outbox == 0


async def test_a_debrief_that_could_make_a_habit_reads_the_history_in_one_statement(
    coach, db, engine, database_url
) -> None:
    """The customer set the agenda again: whether that is a habit (3 of the last 5) takes one
    read of the rep's earlier debriefs, inside the filing's transaction (SQLite) or on its own,
    without a transaction around it (PostgreSQL; asyncpg's log does not show a prepared SELECT,
    so there the drill says it was read)."""
    rep = await make_person(db, locale="nl")
    assert rep.id is not None
    formal = clean(coach, "nl", next_meeting_at=None, next_step_due=None)
    for key in ("first", "second"):
        result = await submit_debrief(ctx=coach, person_id=rep.id, debrief=formal, idempotency_key=key)
        assert result.replies[1].meta["rules"][0] == "opening_formal_agenda_with_demand"  # no habit yet
    async with statements_sent(engine) as statements:
        result = await submit_debrief(ctx=coach, person_id=rep.id, debrief=formal, idempotency_key="third")
    postgres = database_url.startswith("postgresql")
    assert statements == (["WITH"] if postgres else ["INSERT", "INSERT", "SELECT"])
    assert result.replies[1].meta["rules"][0] == "opening_formal_agenda_habit"  # 3 of 3


async def test_correction_keeps_created_at_within_the_window(coach, db, clock, database_url) -> None:
    rep = await make_person(db)
    assert rep.id is not None
    first = await submit_debrief(ctx=coach, person_id=rep.id, debrief=clean(coach), idempotency_key="k")
    created = clock()
    clock.advance(days=7)  # exactly at the edge: still allowed
    fixed = clean(coach, **{"rating:opening": "yes", "outcome": "closed"}, next_meeting_at=None)
    result = await submit_correction(ctx=coach, person_id=rep.id, debrief_id=first.debrief_id, debrief=fixed)
    assert result.debrief_id == first.debrief_id and not result.created
    assert result.replies[0].text == coach.texts.message(
        "en", "updated", account="Acme", when=format_when(created, locale="en", tz="Europe/Amsterdam")
    )
    async with db() as session:
        stored = await get_debrief(session=session, debrief_id=first.debrief_id, person_id=rep.id)
        assert await count_debriefs(session=session) == 1
    assert stored.debrief.created_at == created
    assert stored.debrief.updated_at == clock()
    assert stored.debrief.outcome == "closed"
    assert stored.debrief.next_meeting_at is None
    assert stored.answers["opening"].rating == "yes"
    assert len(stored.answers) == 5


async def test_correction_refused_after_the_window_changes_nothing(coach, db, clock) -> None:
    rep = await make_person(db)
    assert rep.id is not None
    first = await submit_debrief(ctx=coach, person_id=rep.id, debrief=clean(coach), idempotency_key="k")
    clock.advance(days=7, seconds=1)
    with pytest.raises(EditWindowClosed):
        await submit_correction(
            ctx=coach, person_id=rep.id, debrief_id=first.debrief_id, debrief=clean(coach, outcome="lost")
        )
    async with db() as session:
        stored = await get_debrief(session=session, debrief_id=first.debrief_id, person_id=rep.id)
    assert stored.debrief.outcome == "next_step" and stored.debrief.updated_at is None


async def test_a_rep_cannot_correct_someone_elses_debrief(coach, db) -> None:
    owner = await make_person(db, user_id="U1")
    other = await make_person(db, user_id="U2")
    assert owner.id is not None and other.id is not None
    first = await submit_debrief(ctx=coach, person_id=owner.id, debrief=clean(coach), idempotency_key="k")
    with pytest.raises(NotFound):
        await submit_correction(
            ctx=coach, person_id=other.id, debrief_id=first.debrief_id, debrief=clean(coach, outcome="lost")
        )


# -- coaching ----------------------------------------------------------------------------------------
# The rules that use what the rep said are tested in tests/dialogs/test_coaching.py; here a weak
# point that no rule matches gets its plain tip from tips.yaml.
@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize(
    ("overrides", "point"),
    [
        ({"rating:opening": "no", "agenda_set_by": "rep_informal", "note:opening": None}, "opening"),
        ({"rating:situation": "no", "supplier_check": "cannot_solve", "customer_tried": None}, "situation"),
        ({"rating:concessions": "partly"}, "concessions"),
        ({"rating:interaction": "no"}, "interaction"),
        ({"rating:next_step": "partly"}, "next_step"),
    ],
)
async def test_plain_tip_for_a_weak_point_no_rule_matches(
    coach, db, locale: str, overrides: dict[str, object], point: str
) -> None:
    person = await make_person(db, locale=locale)
    assert person.id is not None
    async with db() as session:
        rep = await load_rep(session=session, ctx=coach, person_id=person.id)
    debrief = clean(coach, locale, **(ALL_YES | overrides))
    reply = coaching(ctx=coach, rep=rep, debrief=debrief)
    tip, say = coach.texts.tip(locale, point, "default", account="Acme")
    title = coach.texts.point(locale, point, "title")
    assert reply.items[0] == coach.texts.message(locale, "tip_line", title=title, tip=tip)
    assert say is not None
    assert reply.items[1] == coach.texts.message(locale, "say_line", say=say)
    assert reply.meta["points"] == [point]
    assert reply.meta["rules"] == [f"{point}_plain"]
    assert "{{" not in tip and "{%" not in tip


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_two_tips_at_most_opening_first(coach, db, locale: str) -> None:
    person = await make_person(db, locale=locale)
    assert person.id is not None
    async with db() as session:
        rep = await load_rep(session=session, ctx=coach, person_id=person.id)
    debrief = clean(
        coach,
        locale,
        **{
            "rating:opening": "partly",
            "rating:interaction": "partly",
            "rating:situation": "no",
            "rating:concessions": "no",
            "rating:next_step": "partly",
        },
    )
    reply = coaching(ctx=coach, rep=rep, debrief=debrief)
    # The opening first (the method: the start decides the close), then the first point rated "no"
    # in the method's order (the current situation before concessions); the other half-weak
    # points add nothing next to them.
    assert reply.meta["points"] == ["opening", "situation"]
    assert len(reply.items) == 4  # a tip and a line to say, for each


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_praise_when_all_five_went_well(coach, db, locale: str) -> None:
    person = await make_person(db, locale=locale)
    assert person.id is not None
    result = await submit_debrief(
        ctx=coach, person_id=person.id, debrief=clean(coach, locale, **ALL_YES), idempotency_key="k"
    )
    tips = result.replies[1]
    assert tips.kind == "tips"
    assert tips.items == (coach.texts.praise(locale, account="Acme"),)
    assert tips.title == coach.texts.message(locale, "tips_title")


# -- what happens next ---------------------------------------------------------------------------
@pytest.mark.parametrize(("locale", "weekday"), [("en", "Monday"), ("nl", "maandag")])
@pytest.mark.parametrize("share_notes", [False, True])
async def test_what_next_with_a_manager(coach, db, locale: str, weekday: str, share_notes: bool) -> None:
    boss = await make_person(db, user_id="M1", name="Mark Jansen", role="manager")
    person = await make_person(db, locale=locale, manager_id=boss.id)
    assert person.id is not None
    ctx = replace(coach, share_notes=share_notes)
    async with db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=person.id)
    text = what_next(ctx=ctx, rep=rep).text
    key = "next_manager_notes" if share_notes else "next_manager"
    expected = ctx.texts.message(locale, key, manager="Mark Jansen", weekday=weekday, time="08:30")
    assert text.splitlines() == [expected, ctx.texts.message(locale, "next_edit", days=7)]
    assert "Mark Jansen" in text and weekday in text and "08:30" in text


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_what_next_without_a_manager(coach, db, locale: str) -> None:
    person = await make_person(db, locale=locale)
    assert person.id is not None
    result = await submit_debrief(
        ctx=coach, person_id=person.id, debrief=clean(coach, locale), idempotency_key="k"
    )
    # what happens next comes last (after the tips and the recap for the customer)
    assert result.replies[-1].text.splitlines()[0] == coach.texts.message(locale, "next_private")


# -- history -------------------------------------------------------------------------------------
async def test_history_newest_first_with_edit_buttons_inside_the_window(coach, db, clock) -> None:
    person = await make_person(db, locale="nl")
    assert person.id is not None
    async with db() as session:
        rep = await load_rep(session=session, ctx=coach, person_id=person.id)
    empty = await history(ctx=coach, rep=rep)
    assert empty.text == coach.texts.message("nl", "history_empty")
    for n, account in enumerate(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"]):
        await submit_debrief(
            ctx=coach,
            person_id=person.id,
            debrief=clean(coach, "nl", account=account),
            idempotency_key=f"k{n}",
        )
        clock.advance(days=2)
    reply = await history(ctx=coach, rep=rep)
    assert len(reply.items) == 5  # the latest five
    assert [i.split(" · ")[1] for i in reply.items] == ["Stark", "Hooli", "Umbrella", "Initech", "Globex"]
    # now = 12 days after the first; Stark (2 days ago), Hooli (4), Umbrella (6) can be corrected
    assert [b.value for b in reply.buttons] == ["edit 1", "edit 2", "edit 3"]
    assert reply.text == coach.texts.message("nl", "history_edit_hint", days=7)
    weakest = coach.texts.point("nl", "opening", "title")
    assert all(weakest in item for item in reply.items)
    assert clock() - timedelta(days=2) == (await _first_created(db, person.id))


async def _first_created(db, person_id: int):
    async with db() as session:
        rows = await latest_debriefs(session=session, person_id=person_id, limit=1)
    return rows[0].debrief.created_at
