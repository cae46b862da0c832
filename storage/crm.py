"""A workspace's CRM connection, the outbox rows that write debriefs into it and what `coach crm
status` shows; the won / lost deals read back are storage.crm_outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.crm_models import CrmAccountLink, CrmConnection, CrmOwner, CrmStatus
from storage.engine import session_insert
from storage.models import (
    Account,
    Debrief,
    Outbox,
    OutboxStatus,
    Person,
    Role,
    Workspace,
    not_null,
    table_of,
)

CRM_WRITE = "crm_write"  # outbox kind: write one debrief (its note and next-step task) into the CRM
CRM_QUESTION = "crm_question"  # outbox kind: ask the rep which CRM company (or deal) an account is
CRM_BROKEN = "crm_broken"  # outbox kind: tell a workspace admin the CRM connection needs them
WRITE_HEAD = "crm:d"  # a write's dedup key: crm:d<debrief id>, an edit's crm:d<debrief id>:u<micros>

_CONNECTIONS, _OUTBOX, _DEBRIEFS = table_of(CrmConnection), table_of(Outbox), table_of(Debrief)


# -- the connection ------------------------------------------------------------------------------
async def connection_of(*, session: AsyncSession, workspace_id: int) -> CrmConnection | None:
    return await session.scalar(
        sa.select(CrmConnection).where(col(CrmConnection.workspace_id) == workspace_id)
    )


async def connection_by_id(*, session: AsyncSession, connection_id: int) -> CrmConnection | None:
    return await session.get(CrmConnection, connection_id)


async def all_connections(*, session: AsyncSession) -> list[CrmConnection]:
    return list((await session.scalars(sa.select(CrmConnection).order_by(col(CrmConnection.id)))).all())


async def connect(
    *,
    session: AsyncSession,
    workspace_id: int,
    crm: str,
    source: str,
    tokens: str,
    now: datetime,
    instance_url: str | None = None,
    external_org: str | None = None,
) -> int:
    """Store (or replace) the workspace's connection, connected; a different CRM than before drops
    the matches made in the old one. Failed writes of the workspace go back to pending, and its deals
    are read back at the next tick (a reconnect does not wait out the last poll's interval)."""
    old = await connection_of(session=session, workspace_id=workspace_id)
    if old is not None and old.crm != crm:
        accounts = sa.select(col(Account.id)).where(col(Account.workspace_id) == workspace_id)
        people = sa.select(col(Person.id)).where(col(Person.workspace_id) == workspace_id)
        await session.execute(sa.delete(CrmAccountLink).where(col(CrmAccountLink.account_id).in_(accounts)))
        await session.execute(sa.delete(CrmOwner).where(col(CrmOwner.person_id).in_(people)))
    values = {
        "crm": crm,
        "source": source,
        "tokens": tokens,
        "status": CrmStatus.CONNECTED,
        "reason": None,
        "instance_url": instance_url,
        "external_org": external_org,
        "updated_at": now,
        "polled_at": None,
    }
    stmt = session_insert(session, CrmConnection).values(workspace_id=workspace_id, created_at=now, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["workspace_id"], set_=values))
    await session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.kind) == CRM_WRITE,
            col(Outbox.status) == OutboxStatus.FAILED,
            col(Outbox.person_id).in_(
                sa.select(col(Person.id)).where(col(Person.workspace_id) == workspace_id)
            ),
        )
        .values(status=OutboxStatus.PENDING, attempts=0, due_at=now, last_error=None)
    )
    found = await connection_of(session=session, workspace_id=workspace_id)
    assert found is not None and found.id is not None
    return found.id


async def save_tokens(
    *, session: AsyncSession, connection_id: int, tokens: str, now: datetime, instance_url: str | None = None
) -> None:
    values: dict[str, Any] = {"tokens": tokens, "updated_at": now}
    if instance_url:
        values["instance_url"] = instance_url
    await session.execute(
        sa.update(CrmConnection).where(col(CrmConnection.id) == connection_id).values(values)
    )


async def mark_broken(*, session: AsyncSession, connection_id: int, reason: str, now: datetime) -> bool:
    """Mark the connection broken; True only for the call that broke it (so admins are told once)."""
    result = await session.execute(
        sa.update(CrmConnection)
        .where(col(CrmConnection.id) == connection_id, col(CrmConnection.status) == CrmStatus.CONNECTED)
        .values(status=CrmStatus.BROKEN, reason=reason[:2000], updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_synced(*, session: AsyncSession, connection_id: int, now: datetime) -> None:
    await session.execute(
        sa.update(CrmConnection).where(col(CrmConnection.id) == connection_id).values(last_sync_at=now)
    )


async def connected_crms(*, session: AsyncSession) -> dict[int, str]:
    """workspace id -> its CRM, for every workspace with a connection (any status)."""
    rows = await session.execute(sa.select(col(CrmConnection.workspace_id), col(CrmConnection.crm)))
    return {int(ws): str(crm) for ws, crm in rows.all()}


async def workspace_admins(*, session: AsyncSession, workspace_id: int) -> list[int]:
    """The people to tell about the workspace's CRM: its admins, else its managers."""
    rows = await session.execute(
        sa.select(col(Person.id), col(Person.role))
        .where(col(Person.workspace_id) == workspace_id, col(Person.role).in_([Role.ADMIN, Role.MANAGER]))
        .order_by(col(Person.id))
    )
    found = rows.all()
    admins = [not_null(i) for i, role in found if role == Role.ADMIN]
    return admins or [not_null(i) for i, _ in found]


# -- the outbox rows that write a debrief ---------------------------------------------------------
def connected(workspace_id: Any) -> sa.ColumnElement[bool]:
    """The workspace has a CRM connection (a condition to plan a write on, in any statement)."""
    return sa.exists().where(_CONNECTIONS.c.workspace_id == workspace_id)


async def plan_write(
    *, session: AsyncSession, debrief_id: int, due_at: datetime, edit_of: datetime | None = None
) -> None:
    """Plan the CRM write of a debrief, in the caller's transaction, when its workspace has a CRM:
    one INSERT ... SELECT (no row without a CRM). `edit_of`: a correction at that moment, its own
    row (the first write may be sent already); the write sends the debrief as it is then."""
    tail = "" if edit_of is None else f":u{int(edit_of.timestamp() * 1_000_000)}"
    select = sa.select(
        sa.literal(f"{WRITE_HEAD}{debrief_id}{tail}"),
        sa.literal(CRM_WRITE),
        _DEBRIEFS.c.person_id,
        sa.literal({"debrief_id": debrief_id}, type_=_OUTBOX.c.payload.type),
        sa.literal(due_at, type_=_OUTBOX.c.due_at.type),
        sa.literal(OutboxStatus.PENDING.value),
        sa.literal(0),
        sa.literal(due_at, type_=_OUTBOX.c.created_at.type),
    ).where(_DEBRIEFS.c.id == debrief_id, connected(_DEBRIEFS.c.workspace_id))
    columns = ["dedup_key", "kind", "person_id", "payload", "due_at", "status", "attempts", "created_at"]
    stmt = session_insert(session, _OUTBOX).from_select(columns, select)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["dedup_key"]))


async def wake_writes(*, session: AsyncSession, person_id: int, now: datetime) -> int:
    """Bring the rep's waiting CRM writes forward (they waited for the rep's answer)."""
    result = await session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.kind) == CRM_WRITE,
            col(Outbox.status) == OutboxStatus.PENDING,
            col(Outbox.person_id) == person_id,
        )
        .values(due_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- coach crm status ------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkspaceStatus:
    workspace: str  # platform:external id
    crm: str | None
    status: str | None  # connected | broken | None (no CRM)
    reason: str | None
    last_sync_at: datetime | None
    pending: int
    failed: int


async def status_by_workspace(*, session: AsyncSession) -> list[WorkspaceStatus]:
    """Every workspace with its CRM and its CRM writes pending and failed, in two queries."""
    counts = await session.execute(
        sa.select(col(Person.workspace_id), col(Outbox.status), sa.func.count())
        .join(Person, col(Person.id) == col(Outbox.person_id))
        .where(
            col(Outbox.kind) == CRM_WRITE,
            col(Outbox.status).in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED, OutboxStatus.FAILED]),
        )
        .group_by(col(Person.workspace_id), col(Outbox.status))
    )
    pending: dict[int, int] = {}
    failed: dict[int, int] = {}
    for ws_id, status, n in counts.all():
        target = failed if status == OutboxStatus.FAILED else pending
        target[int(ws_id)] = target.get(int(ws_id), 0) + int(n)
    rows = await session.execute(
        sa.select(Workspace, CrmConnection)
        .outerjoin(CrmConnection, col(CrmConnection.workspace_id) == col(Workspace.id))
        .order_by(col(Workspace.id))
    )
    out = []
    for ws, conn in rows.all():
        wid = not_null(ws.id)
        out.append(
            WorkspaceStatus(
                workspace=f"{ws.platform}:{ws.external_id}",
                crm=conn.crm if conn else None,
                status=conn.status if conn else None,
                reason=conn.reason if conn else None,
                last_sync_at=conn.last_sync_at if conn else None,
                pending=pending.get(wid, 0),
                failed=failed.get(wid, 0),
            )
        )
    return out


async def server_workspace(*, session: AsyncSession, named: str | None) -> tuple[int | None, str]:
    """The workspace a server-wide CRM credential serves: `named` ("slack:T0123"), else the only
    workspace there is; (None, why) when there is none yet or several to choose from."""
    if named:
        platform, _, external = named.partition(":")
        found = await session.scalar(
            sa.select(col(Workspace.id)).where(
                col(Workspace.platform) == platform, col(Workspace.external_id) == external
            )
        )
        return (int(found), "") if found is not None else (None, f"no workspace {named} yet")
    ids = list((await session.scalars(sa.select(col(Workspace.id)).limit(2))).all())
    if len(ids) == 1:
        return not_null(ids[0]), ""
    return None, "no workspace yet" if not ids else "several workspaces: set crm.workspace in app.yaml"
