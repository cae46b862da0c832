"""The steps every channel's action-point journey shares: a manager and a rep with a history, a
customer meeting coming up (so a nudge is due at once), the stored points, the next digest."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from dialogs.context import CoachContext
from dialogs.digest import compute_digests
from dialogs.meetings import add_meeting
from storage.accounts import get_or_create_account
from storage.action_points import ActionPoint
from storage.digest_queries import Period
from storage.models import Person, Role
from storage.people import update_person
from tests.factories import store_debrief

# The rep's history: three debriefs this week in which the customer set the agenda formally.
HISTORY = ({"account": "Acme", "outcome": "next_step"}, {"account": "Brouwer", "outcome": "postponed"},
           {"account": "Acme", "outcome": "next_step"})


async def make_team(coach: CoachContext, manager: Person, rep: Person) -> None:
    """`manager` manages `rep`, who has debriefed a few meetings this week."""
    assert manager.id is not None and rep.id is not None
    async with coach.db() as session, session.begin():
        await update_person(session=session, person_id=manager.id, role=Role.MANAGER)
        await update_person(session=session, person_id=rep.id, manager_id=manager.id)
    rep.manager_id = manager.id
    for n, form in enumerate(HISTORY):
        await store_debrief(coach, rep, **form, **{"note:opening": f"Formal agenda, meeting {n}"})


async def meeting_soon(coach: CoachContext, rep: Person, account: str = "Acme") -> None:
    """A customer meeting in 30 minutes: its nudge is due now (the lead time is longer)."""
    assert rep.id is not None
    now = coach.clock()
    async with coach.db() as session, session.begin():
        account_id = await get_or_create_account(session=session, workspace_id=rep.workspace_id, name=account)
        await add_meeting(session=session, person_id=rep.id, account_id=account_id,
                          starts_at=now + timedelta(minutes=30), source="test",
                          external_uid=f"soon:{rep.id}:{now.isoformat()}", tz=rep.timezone or "UTC",
                          policy=coach.schedule, now=now)


async def points(coach: CoachContext) -> list[ActionPoint]:
    async with coach.db() as session:
        return list(await session.scalars(sa.select(ActionPoint).order_by(ActionPoint.id)))


async def digest_of(coach: CoachContext, manager_id: int) -> dict[str, Any]:
    """The manager's digest for the period ending now, as `coach digest preview --json` prints it."""
    async with coach.db() as session:
        (digest,) = await compute_digests(session=session, period=Period.ending(coach.clock()),
                                          manager_ids=[manager_id])
    return digest.as_json()


def rep_in(digest: dict[str, Any], person_id: int) -> dict[str, Any]:
    return next(r for r in digest["reps"] if r["person_id"] == person_id)
