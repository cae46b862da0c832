"""Dialog state that spans requests, versioned so a double click cannot apply an answer twice."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import DialogState, utcnow


async def load_dialog(*, session: AsyncSession, person_id: int, channel: str) -> DialogState | None:
    return await session.scalar(
        sa.select(DialogState).where(
            col(DialogState.person_id) == person_id, col(DialogState.channel) == channel
        )
    )


async def save_dialog(
    *,
    session: AsyncSession,
    person_id: int,
    channel: str,
    kind: str,
    step: str,
    data: dict[str, Any],
    expected_version: int | None,
) -> bool:
    """Write the dialog if nobody else moved it on since `expected_version` (None: a new dialog).

    Returns False when another request got there first (a double click), so the caller answers
    "already done" instead of applying the same answer twice.
    """
    if expected_version is None:
        await session.execute(
            sa.delete(DialogState).where(
                col(DialogState.person_id) == person_id, col(DialogState.channel) == channel
            )
        )
        session.add(
            DialogState(person_id=person_id, channel=channel, kind=kind, step=step, data=data, version=1)
        )
        await session.flush()
        return True
    result = await session.execute(
        sa.update(DialogState)
        .where(
            col(DialogState.person_id) == person_id,
            col(DialogState.channel) == channel,
            col(DialogState.version) == expected_version,
        )
        .values(kind=kind, step=step, data=data, version=expected_version + 1, updated_at=utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def clear_dialog(
    *, session: AsyncSession, person_id: int, channel: str, expected_version: int | None = None
) -> bool:
    stmt = sa.delete(DialogState).where(
        col(DialogState.person_id) == person_id, col(DialogState.channel) == channel
    )
    if expected_version is not None:
        stmt = stmt.where(col(DialogState.version) == expected_version)
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]
