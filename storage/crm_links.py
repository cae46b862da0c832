"""What the coach knows of the CRM's side: which company and deal an account is, which CRM user a
rep is, and the CRM ids of what each debrief wrote (claimed before the CRM is asked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.crm_models import CrmAccountLink, CrmOwner, CrmRecord
from storage.debriefs import StoredDebrief, debriefs_by_id
from storage.engine import session_insert
from storage.models import Account, Debrief, Outbox, Person


# -- the debrief to write ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WriteSubject:
    """A debrief with the account and the rep it belongs to, as a CRM write needs them."""

    stored: StoredDebrief
    account: Account
    rep: Person


async def write_subject(*, session: AsyncSession, debrief_id: int) -> WriteSubject | None:
    """The debrief, its account and its rep in two queries; None when the debrief is gone."""
    found = (await debriefs_by_id(session=session, debrief_ids=[debrief_id])).get(debrief_id)
    if found is None:
        return None
    row = (
        await session.execute(
            sa.select(Account, Person)
            .join(Debrief, col(Debrief.account_id) == col(Account.id))
            .join(Person, col(Person.id) == col(Debrief.person_id))
            .where(col(Debrief.id) == debrief_id)
        )
    ).first()
    return None if row is None else WriteSubject(found, row[0], row[1])


async def account_reps(*, session: AsyncSession, account_ids: list[int]) -> dict[int, int]:
    """account id -> the rep of its latest debrief (the deal's rep when the CRM owner is unknown)."""
    if not account_ids:
        return {}
    latest = (
        sa.select(col(Debrief.account_id), sa.func.max(col(Debrief.id)).label("last"))
        .where(col(Debrief.account_id).in_(account_ids))
        .group_by(col(Debrief.account_id))
        .subquery()
    )
    rows = await session.execute(
        sa.select(col(Debrief.account_id), col(Debrief.person_id)).join(
            latest, latest.c.last == col(Debrief.id)
        )
    )
    return {int(a): int(p) for a, p in rows.all()}


# -- companies and deals ------------------------------------------------------------------------------
async def account_link(*, session: AsyncSession, account_id: int) -> CrmAccountLink | None:
    return await session.get(CrmAccountLink, account_id)


async def links_by_company(*, session: AsyncSession, workspace_id: int) -> dict[str, int]:
    """CRM company id -> account id, for the workspace's matched accounts."""
    rows = await session.execute(
        sa.select(col(CrmAccountLink.company_id), col(CrmAccountLink.account_id))
        .join(Account, col(Account.id) == col(CrmAccountLink.account_id))
        .where(col(Account.workspace_id) == workspace_id, col(CrmAccountLink.company_id).is_not(None))
    )
    return {str(c): int(a) for c, a in rows.all()}


async def save_account_link(
    *,
    session: AsyncSession,
    account_id: int,
    company_id: str | None,
    company_name: str,
    matched_by: str,
    now: datetime,
    deal_id: str | None = None,
    deal_decided: bool = False,
) -> None:
    values = {
        "company_id": company_id,
        "company_name": company_name[:300],
        "matched_by": matched_by,
        "deal_id": deal_id,
        "deal_decided": deal_decided,
        "decided_at": now,
    }
    stmt = session_insert(session, CrmAccountLink).values(account_id=account_id, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["account_id"], set_=values))


async def save_deal(*, session: AsyncSession, account_id: int, deal_id: str | None, now: datetime) -> None:
    await session.execute(
        sa.update(CrmAccountLink)
        .where(col(CrmAccountLink.account_id) == account_id)
        .values(deal_id=deal_id, deal_decided=True, decided_at=now)
    )


# -- the rep's CRM user ---------------------------------------------------------------------------------
async def owner_of(*, session: AsyncSession, person_id: int) -> CrmOwner | None:
    return await session.get(CrmOwner, person_id)


async def save_owner(*, session: AsyncSession, person_id: int, owner_id: str | None, now: datetime) -> None:
    stmt = session_insert(session, CrmOwner).values(person_id=person_id, owner_id=owner_id, matched_at=now)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["person_id"], set_={"owner_id": owner_id, "matched_at": now}
        )
    )


async def people_by_owner(*, session: AsyncSession, workspace_id: int) -> dict[str, int]:
    rows = await session.execute(
        sa.select(col(CrmOwner.owner_id), col(CrmOwner.person_id))
        .join(Person, col(Person.id) == col(CrmOwner.person_id))
        .where(col(Person.workspace_id) == workspace_id, col(CrmOwner.owner_id).is_not(None))
    )
    return {str(o): int(p) for o, p in rows.all()}


# -- what a debrief wrote -------------------------------------------------------------------------------
class Claim(StrEnum):
    WRITTEN = "written"  # the CRM has it: `external_id` (update it)
    FRESH = "fresh"  # nobody tried before: create it
    UNKNOWN = "unknown"  # an earlier try's outcome is unknown: search for the marker, then create
    BUSY = "busy"  # another writer is creating it right now: come back later


@dataclass(frozen=True)
class Claimed:
    claim: Claim
    record_id: int
    external_id: str | None


async def claim_record(
    *, session: AsyncSession, debrief_id: int, kind: str, marker: str, now: datetime, stale_before: datetime
) -> Claimed:
    """Claim the creation of a debrief's note or task, or say why not (see Claim). Commit right
    after: the claim is what keeps a second replica from creating a twin."""
    stmt = (
        session_insert(session, CrmRecord)
        .values(debrief_id=debrief_id, kind=kind, marker=marker, started_at=now)
        .on_conflict_do_nothing(index_elements=["debrief_id", "kind"])
    )
    inserted = (await session.execute(stmt)).rowcount  # type: ignore[attr-defined]
    record = await session.scalar(
        sa.select(CrmRecord).where(col(CrmRecord.debrief_id) == debrief_id, col(CrmRecord.kind) == kind)
    )
    assert record is not None and record.id is not None
    if inserted:
        return Claimed(Claim.FRESH, record.id, None)
    if record.external_id is not None:
        return Claimed(Claim.WRITTEN, record.id, record.external_id)
    if record.started_at is not None and record.started_at > stale_before:
        return Claimed(Claim.BUSY, record.id, None)
    taken = await session.execute(  # the unknown outcome is ours to settle, once
        sa.update(CrmRecord)
        .where(
            col(CrmRecord.id) == record.id,
            col(CrmRecord.external_id).is_(None),
            col(CrmRecord.started_at).is_(None)
            if record.started_at is None
            else col(CrmRecord.started_at) == record.started_at,
        )
        .values(started_at=now)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        return Claimed(Claim.BUSY, record.id, None)
    return Claimed(Claim.UNKNOWN, record.id, None)


async def record_written(*, session: AsyncSession, record_id: int, external_id: str, now: datetime) -> None:
    await session.execute(
        sa.update(CrmRecord)
        .where(col(CrmRecord.id) == record_id)
        .values(external_id=external_id, started_at=None, written_at=now)
    )


async def record_unknown(*, session: AsyncSession, record_id: int) -> None:
    """The create's outcome is unknown (a timeout, a 5xx): the next try searches first."""
    await session.execute(
        sa.update(CrmRecord)
        .where(col(CrmRecord.id) == record_id, col(CrmRecord.external_id).is_(None))
        .values(started_at=None)
    )


async def record_not_created(*, session: AsyncSession, record_id: int) -> None:
    """The CRM said no (nothing was created): the next try may create without searching."""
    await session.execute(
        sa.delete(CrmRecord).where(col(CrmRecord.id) == record_id, col(CrmRecord.external_id).is_(None))
    )


# -- the rep's choice -----------------------------------------------------------------------------------
def question_key(ask: str, account_id: int) -> str:
    """The one outbox row that asks about an account (`ask`: company | deal): asked once."""
    return f"crm:ask:{ask}:{account_id}"


async def asked(*, session: AsyncSession, ask: str, account_id: int) -> dict[str, object] | None:
    """The payload of the question asked about this account (its candidates), if one was planned."""
    payload = await session.scalar(
        sa.select(col(Outbox.payload)).where(col(Outbox.dedup_key) == question_key(ask, account_id))
    )
    return dict(payload) if isinstance(payload, dict) else None


async def workspace_account(*, session: AsyncSession, account_id: int, workspace_id: int) -> Account | None:
    return await session.scalar(
        sa.select(Account).where(col(Account.id) == account_id, col(Account.workspace_id) == workspace_id)
    )


async def release_deals(*, session: AsyncSession, deal_ids: list[str]) -> None:
    """Deals closed in the CRM: their accounts' next debrief looks for the open deal again."""
    if deal_ids:
        await session.execute(
            sa.update(CrmAccountLink)
            .where(col(CrmAccountLink.deal_id).in_(deal_ids))
            .values(deal_id=None, deal_decided=False)
        )
