"""Tables of the CRM connection per workspace: its (encrypted) tokens, the CRM companies, deals and
owners the coach matched, the CRM ids of what each debrief wrote, and the won / lost deals read back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime, utcnow


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class CrmStatus(StrEnum):
    CONNECTED = "connected"
    BROKEN = "broken"  # a token that failed again after one refresh: an admin must reconnect


class CrmConnection(SQLModel, table=True):
    """A workspace's CRM. `tokens` is Fernet ciphertext (COACH_SECRET_KEY) of the token JSON; empty
    when the token lives in the environment (HUBSPOT_ACCESS_TOKEN, the Salesforce JWT flow)."""

    __tablename__ = "crm_connection"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", unique=True, ondelete="CASCADE")
    crm: str = Field(max_length=16)  # hubspot | salesforce
    source: str = Field(max_length=16)  # token (environment) | oauth | jwt
    status: str = Field(default=CrmStatus.CONNECTED, max_length=16)
    reason: str | None = Field(default=None, sa_type=sa.Text)  # why it is broken
    tokens: str = Field(default="", sa_type=sa.Text)
    instance_url: str | None = Field(default=None, max_length=500)  # Salesforce's, per org
    external_org: str | None = Field(default=None, max_length=64)  # HubSpot portal / Salesforce org
    last_sync_at: datetime | None = _ts(default=None)  # the last write that reached the CRM
    outcomes_since: datetime | None = _ts(default=None)  # read-back watermark (CRM modification time)
    # When a replica (or `coach crm poll`) last took the read-back of deal stages: the interval's
    # claim, so one replica polls per crm.poll_minutes; a poll that died is due again after it.
    polled_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class CrmAccountLink(SQLModel, table=True):
    """Which CRM company (and open deal) an account is; `company_id` None: the rep said none."""

    __tablename__ = "crm_account_link"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    company_id: str | None = Field(default=None, max_length=64)
    company_name: str = Field(default="", max_length=300)
    matched_by: str = Field(max_length=16)  # domain | name | rep
    deal_id: str | None = Field(default=None, max_length=64)
    deal_decided: bool = Field(default=False)  # the deal question is settled (one found, or chosen)
    decided_at: datetime = _ts(default_factory=utcnow)


class CrmOwner(SQLModel, table=True):
    """The rep's CRM user (matched by e-mail); `owner_id` None: no CRM user has their e-mail."""

    __tablename__ = "crm_owner"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    owner_id: str | None = Field(default=None, max_length=64)
    matched_at: datetime = _ts(default_factory=utcnow)


class CrmRecord(SQLModel, table=True):
    """What a debrief wrote into the CRM (its note, its next-step task), by CRM id.

    The row is stored before the CRM is asked (`external_id` None, `started_at` set): a second
    writer waits instead of creating a twin, and after an unknown outcome (a timeout, a crash) the
    CRM is searched for `marker` before anything is created again."""

    __tablename__ = "crm_record"
    __table_args__ = (sa.UniqueConstraint("debrief_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    debrief_id: int = Field(foreign_key="debrief.id", ondelete="CASCADE")
    kind: str = Field(max_length=8)  # note | task
    marker: str = Field(max_length=64, unique=True)
    external_id: str | None = Field(default=None, max_length=64)
    started_at: datetime | None = _ts(default=None)  # a create in flight since (None: none / unknown)
    written_at: datetime | None = _ts(default=None)


class CrmDealOutcome(SQLModel, table=True):
    """A deal closed won or lost in the CRM, read back: the outcome of that account's deal."""

    __tablename__ = "crm_deal_outcome"
    __table_args__ = (
        sa.UniqueConstraint("crm", "external_deal_id"),
        sa.Index("ix_crm_deal_outcome_person_closed", "person_id", "closed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    # The rep of the deal (CASCADE: forgetting the rep removes the local copy of their outcomes).
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    outcome: str = Field(max_length=8)  # won | lost
    closed_at: datetime = _ts()
    crm: str = Field(max_length=16)
    external_deal_id: str = Field(max_length=64)
