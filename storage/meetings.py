"""Customer meetings: stored from a calendar, a debrief or by hand, found near a time, read with
the account's name and the invite's flags."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.engine import session_insert
from storage.models import Account, Debrief, Meeting, Person, not_null, table_of, utcnow
from storage.planning_models import MeetingInvite

DEFAULT_LENGTH = timedelta(hours=1)
# A meeting from a debrief or typed by hand within this window of one already known (e.g. from
# the calendar) with the same account is the same meeting.
SAME_MEETING = timedelta(hours=2)


@dataclass(frozen=True)
class InviteFlags:
    organiser: str | None = None
    organiser_external: bool = False
    formal_agenda: bool = False


@dataclass(frozen=True)
class MeetingView:
    """A meeting with its account's name and what its invite says (None: no invite known)."""

    meeting: Meeting
    account: str
    invite: MeetingInvite | None

    @property
    def formal(self) -> bool:
        return bool(self.invite and (self.invite.organiser_external or self.invite.formal_agenda))


async def upsert_meeting(
    *,
    session: AsyncSession,
    person: Person,
    account_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    source: str,
    external_uid: str,
    title: str = "",
    cancelled: bool = False,
    invite: InviteFlags | None = None,
) -> tuple[Meeting, bool]:
    """Insert or update by (person, source, external_uid); returns (meeting, changed)."""
    existing = await session.scalar(
        sa.select(Meeting).where(
            col(Meeting.person_id) == person.id,
            col(Meeting.source) == source,
            col(Meeting.external_uid) == external_uid,
        )
    )
    if existing is None:
        meeting = Meeting(
            workspace_id=person.workspace_id,
            person_id=not_null(person.id),
            account_id=account_id,
            starts_at=starts_at,
            ends_at=ends_at,
            source=source,
            external_uid=external_uid,
            title=title[:500],
            cancelled=cancelled,
            created_at=utcnow(),
        )
        session.add(meeting)
        await session.flush()
        changed = True
    else:
        meeting = existing
        new = {
            "account_id": account_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "title": title[:500],
            "cancelled": cancelled,
        }
        changed = any(getattr(meeting, k) != v for k, v in new.items())
        for k, v in new.items():
            setattr(meeting, k, v)
        await session.flush()
    if invite is not None and meeting.id is not None:
        stmt = session_insert(session, MeetingInvite).values(
            meeting_id=meeting.id,
            organiser=invite.organiser,
            organiser_external=invite.organiser_external,
            formal_agenda=invite.formal_agenda,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["meeting_id"],
                set_={
                    "organiser": stmt.excluded.organiser,
                    "organiser_external": stmt.excluded.organiser_external,
                    "formal_agenda": stmt.excluded.formal_agenda,
                },
            )
        )
    return meeting, changed


async def meeting_near(
    *, session: AsyncSession, person_id: int, account_id: int, starts_at: datetime
) -> Meeting | None:
    """A live meeting of this person with this account close to this time, if one is known."""
    return await session.scalar(
        _MEETING_NEAR,
        {
            "person_id": person_id,
            "account_id": account_id,
            "earliest": starts_at - SAME_MEETING,
            "latest": starts_at + SAME_MEETING,
        },
    )


_MEETINGS = table_of(Meeting)
_MEETING_COLUMNS = (
    "workspace_id", "person_id", "account_id", "starts_at", "ends_at", "source", "external_uid",
    "title", "cancelled", "created_at",
)
_NEW_MEETING_UNLESS_NEAR = (
    sa.insert(_MEETINGS)
    .from_select(
        _MEETING_COLUMNS,
        sa.select(*[sa.bindparam(name, type_=_MEETINGS.c[name].type) for name in _MEETING_COLUMNS]).where(
            ~sa.exists().where(
                _MEETINGS.c.person_id == sa.bindparam("person_id"),
                _MEETINGS.c.account_id == sa.bindparam("account_id"),
                _MEETINGS.c.cancelled.is_(False),
                _MEETINGS.c.starts_at.between(sa.bindparam("earliest"), sa.bindparam("latest")),
            )
        ),
    )
    .returning(_MEETINGS.c.id)
)
# Built once (every new debrief with a next meeting asks); values arrive as parameters.
_MEETING_NEAR = (
    sa.select(Meeting)
    .where(
        col(Meeting.person_id) == sa.bindparam("person_id"),
        col(Meeting.account_id) == sa.bindparam("account_id"),
        col(Meeting.cancelled).is_(False),
        col(Meeting.starts_at).between(sa.bindparam("earliest"), sa.bindparam("latest")),
    )
    .order_by(col(Meeting.id))
    .limit(1)
)


async def new_meeting_unless_near(
    *,
    session: AsyncSession,
    workspace_id: int,
    person_id: int,
    account_id: int,
    starts_at: datetime,
    external_uid: str,
) -> int | None:
    """Insert a debrief's next meeting in one statement, unless a live meeting of this person with
    this account is already known near that time (`meeting_near`); its id, or None."""
    conn = await session.connection()
    row = (await conn.execute(_NEW_MEETING_UNLESS_NEAR, {
        "workspace_id": workspace_id, "person_id": person_id, "account_id": account_id,
        "starts_at": starts_at, "ends_at": starts_at + DEFAULT_LENGTH, "source": "debrief",
        "external_uid": external_uid, "title": "", "cancelled": False, "created_at": utcnow(),
        "earliest": starts_at - SAME_MEETING, "latest": starts_at + SAME_MEETING,
    })).first()
    return None if row is None else int(row[0])


def _with_account_and_invite() -> sa.Select[Meeting, str, MeetingInvite]:
    return (
        sa.select(Meeting, col(Account.name), MeetingInvite)
        .join(Account, col(Account.id) == col(Meeting.account_id))
        .outerjoin(MeetingInvite, col(MeetingInvite.meeting_id) == col(Meeting.id))
    )


async def load_meeting(*, session: AsyncSession, meeting_id: int, person_id: int) -> MeetingView | None:
    """One of this person's meetings with its account and invite; None for anyone else's."""
    row = (
        await session.execute(
            _with_account_and_invite().where(
                col(Meeting.id) == meeting_id, col(Meeting.person_id) == person_id
            )
        )
    ).first()
    return MeetingView(row[0], row[1], row[2]) if row else None


async def load_meetings(*, session: AsyncSession, meeting_ids: Collection[int]) -> dict[int, MeetingView]:
    """These meetings (whoever's) with their accounts and invites, by id, in one query."""
    rows = await session.execute(_with_account_and_invite().where(col(Meeting.id).in_(meeting_ids)))
    return {not_null(m.id): MeetingView(m, name, invite) for m, name, invite in rows.all()}


async def debriefed_since(*, session: AsyncSession, person_id: int, account_id: int, since: datetime) -> bool:
    found = await session.scalar(
        sa.select(col(Debrief.id))
        .where(
            col(Debrief.person_id) == person_id,
            col(Debrief.account_id) == account_id,
            col(Debrief.created_at) >= since,
        )
        .limit(1)
    )
    return found is not None


async def upcoming(*, session: AsyncSession, person_id: int, now: datetime, limit: int = 5) -> list[Meeting]:
    """The person's next live meetings, soonest first."""
    return list(
        (
            await session.scalars(
                sa.select(Meeting)
                .where(
                    col(Meeting.person_id) == person_id,
                    col(Meeting.cancelled).is_(False),
                    col(Meeting.starts_at) > now,
                )
                .order_by(col(Meeting.starts_at))
                .limit(limit)
            )
        ).all()
    )


async def count_upcoming(*, session: AsyncSession, person_id: int, now: datetime) -> int:
    """How many live meetings the person has after `now` (the list of `upcoming` may be cut)."""
    return int(
        await session.scalar(
            sa.select(sa.func.count())
            .select_from(Meeting)
            .where(
                col(Meeting.person_id) == person_id,
                col(Meeting.cancelled).is_(False),
                col(Meeting.starts_at) > now,
            )
        )
        or 0
    )


async def cancel_meeting(*, session: AsyncSession, meeting_id: int, person_id: int) -> MeetingView | None:
    """Mark one of this person's live meetings cancelled; the meeting as it was, or None when it
    is not theirs or already cancelled (a second press of the same button changes nothing)."""
    result = await session.execute(
        sa.update(Meeting)
        .where(
            col(Meeting.id) == meeting_id,
            col(Meeting.person_id) == person_id,
            col(Meeting.cancelled).is_(False),
        )
        .values(cancelled=True)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return await load_meeting(session=session, meeting_id=meeting_id, person_id=person_id)
