"""Slack installation, bot and OAuth-state tables (slack_sdk's own schema) in our database,
and the few queries only the Slack channel needs (customer select, App Home).

The tables are slack_sdk's (built by its SQLAlchemy stores' classmethods) so its async stores
read and write them unchanged; registering them on our metadata lets Alembic own their creation.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import SQLModel, col

from storage.accounts import account_key, account_names
from storage.models import Account, Debrief, DebriefAnswer, Meeting, Outbox, OutboxStatus, not_null

INSTALLATIONS_TABLE = AsyncSQLAlchemyInstallationStore.default_installations_table_name
BOTS_TABLE = AsyncSQLAlchemyInstallationStore.default_bots_table_name
STATES_TABLE = AsyncSQLAlchemyOAuthStateStore.default_table_name

slack_installations = AsyncSQLAlchemyInstallationStore.build_installations_table(
    SQLModel.metadata, INSTALLATIONS_TABLE
)
slack_bots = AsyncSQLAlchemyInstallationStore.build_bots_table(SQLModel.metadata, BOTS_TABLE)
slack_oauth_states = AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(SQLModel.metadata, STATES_TABLE)

OAUTH_STATE_SECONDS = 600


def installation_store(*, client_id: str, engine: AsyncEngine) -> AsyncSQLAlchemyInstallationStore:
    """slack_sdk's async store on our engine; its tables come from migration 0002, not create_tables()."""
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)


def state_store(*, engine: AsyncEngine) -> AsyncSQLAlchemyOAuthStateStore:
    return AsyncSQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=engine)


# -- queries the Slack channel needs (keyword-only, on the caller's AsyncSession) -------------------
async def rep_accounts(
    *, session: AsyncSession, person_id: int, workspace_id: int, query: str = "", limit: int = 20
) -> list[str]:
    """Names of the customers this rep debriefed, most recent first, filtered by `query`."""
    stmt = (
        sa.select(col(Account.name), sa.func.max(col(Debrief.created_at)).label("last"))
        .join(Debrief, col(Debrief.account_id) == col(Account.id))
        .where(col(Debrief.person_id) == person_id, col(Account.workspace_id) == workspace_id)
        .group_by(col(Account.id), col(Account.name))
        .order_by(sa.desc("last"))
        .limit(limit)
    )
    key = account_key(query)
    if key:
        stmt = stmt.where(col(Account.name_key).contains(key, autoescape=True))
    return [str(name) for name, _ in (await session.execute(stmt)).all()]


async def checklist_profile(
    *, session: AsyncSession, person_id: int, last: int = 20
) -> tuple[int, dict[str, dict[str, int]]]:
    """Ratings per point over the person's last `last` debriefs: (debriefs counted, point->rating->n)."""
    recent = (
        sa.select(col(Debrief.id))
        .where(col(Debrief.person_id) == person_id)
        .order_by(col(Debrief.created_at).desc(), col(Debrief.id).desc())
        .limit(last)
        .subquery()
    )
    rows = (
        await session.execute(
            sa.select(col(DebriefAnswer.point), col(DebriefAnswer.rating), sa.func.count())
            .where(col(DebriefAnswer.debrief_id).in_(sa.select(recent.c.id)))
            .group_by(col(DebriefAnswer.point), col(DebriefAnswer.rating))
        )
    ).all()
    count = int(await session.scalar(sa.select(sa.func.count()).select_from(recent)) or 0)
    profile: dict[str, dict[str, int]] = {}
    for point, rating, n in rows:
        profile.setdefault(str(point), {})[str(rating)] = int(n)
    return count, profile


async def upcoming_outbox(
    *, session: AsyncSession, person_id: int, now: datetime, limit: int = 5
) -> list[tuple[Outbox, str | None]]:
    """The person's scheduled messages still to come (nudges, prompts), soonest first, each with
    the customer it is about when its payload names one (an account or a meeting)."""
    rows = list(
        (
            await session.scalars(
                sa.select(Outbox)
                .where(
                    col(Outbox.person_id) == person_id,
                    col(Outbox.status) == OutboxStatus.PENDING,
                    col(Outbox.due_at) >= now,
                )
                .order_by(col(Outbox.due_at))
                .limit(limit)
            )
        ).all()
    )
    meeting_ids = {int(r.payload["meeting_id"]) for r in rows if isinstance(r.payload.get("meeting_id"), int)}
    via_meeting: dict[int, int] = {}
    if meeting_ids:
        found = await session.execute(
            sa.select(col(Meeting.id), col(Meeting.account_id)).where(col(Meeting.id).in_(meeting_ids))
        )
        via_meeting = {not_null(m): int(a) for m, a in found.all()}

    def account_of(row: Outbox) -> int | None:
        if isinstance(row.payload.get("account_id"), int):
            return int(row.payload["account_id"])
        meeting = row.payload.get("meeting_id")
        return via_meeting.get(meeting) if isinstance(meeting, int) else None

    names = await account_names(session=session, account_ids=[a for r in rows if (a := account_of(r))])
    return [(r, names.get(account_of(r) or 0)) for r in rows]
