"""Filing a new debrief and what it plans, in one call: one statement on PostgreSQL's usual case
(storage.filing_at_once), statement by statement otherwise (storage.follow_ups)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import crm, outbox
from storage.debrief_insert import FiledDebrief, SignedOwner, insert_debrief
from storage.debriefs import AnswerRow
from storage.engine import sessions_dialect, sessions_engine
from storage.filing_at_once import file_debrief_at_once
from storage.follow_ups import FollowUps, follow_up_rows, write_follow_ups

# What a new debrief plans, given the rep's timezone (its times are in the rep's working hours).
FollowUpPlanner = Callable[[str], FollowUps]
# A read the caller's reply needs right after the filing (the rep's earlier debriefs), given the
# session: the filing's own transaction where there is one, so it costs no transaction of its own.
ReadAfter = Callable[[AsyncSession, FiledDebrief], Awaitable[None]]


async def file_debrief(
    *,
    sessions: async_sessionmaker[AsyncSession],
    person_id: int,
    account_name: str,
    idempotency_key: str,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    created_at: datetime,
    plan: FollowUpPlanner,
    timezone: str | None,
    default_timezone: str,
    owner: SignedOwner | None = None,
    read_after: ReadAfter | None = None,
) -> FiledDebrief:
    """Store a debrief once (atomically) with its answers and, when it is new, what it plans; a
    repeated key stores nothing and returns the first debrief (created=False). `read_after` runs
    in the same transaction (statement by statement) or right after it (PostgreSQL's one statement).

    `timezone` is the rep's when the caller knows it: PostgreSQL's one statement plans with it (else
    `default_timezone`) before the insert says the stored one, and moves the planned rows (same
    keys) in one more statement when that guess was wrong. `owner`, the signed requester, is
    checked against the person row in the same statement: NotFound when they differ.
    """
    if sessions_dialect(sessions) == "postgresql":
        guess = timezone or default_timezone
        at_once = await file_debrief_at_once(
            engine=sessions_engine(sessions), person_id=person_id, account_name=account_name,
            idempotency_key=idempotency_key, fields=fields, answers=answers, created_at=created_at,
            follow_ups=plan(guess), owner=owner,
        )
        if at_once is not None:
            filed = at_once.filed
            stored_tz = filed.timezone or default_timezone
            if stored_tz != guess:  # planned in the wrong timezone: move the pending rows
                rows = follow_up_rows(plan(stored_tz), person_id=person_id, debrief_id=filed.debrief_id,
                                      account_id=filed.account_id, meeting_id=at_once.meeting_id)
                async with sessions() as session, session.begin():
                    await outbox.enqueue_many(session=session, rows=rows)
            if read_after is not None:  # a read on its own: no BEGIN / ROLLBACK around it
                async with sessions() as session:
                    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                    await read_after(session, filed)
            return filed
    async with sessions() as session, session.begin():
        filed = await file_debrief_in(
            session=session, person_id=person_id, account_name=account_name,
            idempotency_key=idempotency_key, fields=fields, answers=answers, created_at=created_at,
            plan=plan, timezone=None, default_timezone=default_timezone, owner=owner,
        )
        if read_after is not None:
            await read_after(session, filed)
        return filed


async def file_debrief_in(
    *,
    session: AsyncSession,
    person_id: int,
    account_name: str,
    idempotency_key: str,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    created_at: datetime,
    plan: FollowUpPlanner,
    timezone: str | None,
    default_timezone: str,
    owner: SignedOwner | None = None,
) -> FiledDebrief:
    """`file_debrief` inside the caller's transaction, statement by statement (any database).

    The follow-ups are planned in `timezone`, else the person's stored one, else `default_timezone`;
    carrying them out reads nothing it need not: the insert already said whether tactics await a
    verdict.
    """
    filed = await insert_debrief(
        session=session, person_id=person_id, account_name=account_name,
        idempotency_key=idempotency_key, fields=fields, answers=answers, created_at=created_at,
        owner=owner,
    )
    if filed.created:
        await write_follow_ups(
            session=session, person_id=person_id, workspace_id=filed.workspace_id,
            debrief_id=filed.debrief_id, account_id=filed.account_id,
            plan=plan(timezone or filed.timezone or default_timezone), now=created_at,
            tactics_open=filed.tactics_open,
        )
        if filed.crm_connected:  # the insert said so: no statement for workspaces without a CRM
            await crm.plan_write(session=session, debrief_id=filed.debrief_id, due_at=created_at)
    return filed
