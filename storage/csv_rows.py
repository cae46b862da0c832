"""Debriefs read for the CSV export: each with its workspace, person, account and every point's
rating and note, in one statement (one outer join per checklist point)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.models import Account, Debrief, DebriefAnswer, Person, Workspace


@dataclass(frozen=True)
class DebriefRow:
    """One debrief as exported; `answers` maps each point asked for to its (rating, note)."""

    platform: str
    workspace: str
    person: str
    person_email: str | None
    person_name: str
    account: str
    debrief: Debrief
    answers: dict[str, tuple[str | None, str | None]]


async def debrief_rows(
    *, session: AsyncSession, points: Sequence[str], workspace_id: int | None = None
) -> list[DebriefRow]:
    """Every debrief (of one workspace, or all), oldest first, with the answers on `points`."""
    answers = {p: aliased(DebriefAnswer, name=f"a_{p}") for p in points}
    stmt = (
        sa.select(
            col(Workspace.platform),
            col(Workspace.external_id),
            col(Person.platform_user_id),
            col(Person.email),
            col(Person.display_name),
            col(Account.name),
            Debrief,
            *(c for p in points for c in (col(answers[p].rating), col(answers[p].note))),
        )
        .join(Person, col(Person.id) == col(Debrief.person_id))
        .join(Workspace, col(Workspace.id) == col(Debrief.workspace_id))
        .join(Account, col(Account.id) == col(Debrief.account_id))
    )
    for p, a in answers.items():
        stmt = stmt.outerjoin(a, sa.and_(col(a.debrief_id) == col(Debrief.id), col(a.point) == p))
    if workspace_id is not None:
        stmt = stmt.where(col(Debrief.workspace_id) == workspace_id)
    out = []
    for row in (await session.execute(stmt.order_by(col(Debrief.created_at), col(Debrief.id)))).all():
        platform, ext, user, email, name, account, debrief = row[:7]
        cells: tuple[str | None, ...] = tuple(row[7:])
        per_point = dict(zip(points, zip(cells[::2], cells[1::2], strict=True), strict=True))
        out.append(DebriefRow(platform, ext, user, email, name, account, debrief, per_point))
    return out
