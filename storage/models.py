"""SQLModel tables: workspaces, people, accounts, meetings, debriefs and answers, dialog state, outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

_T = TypeVar("_T")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC on every engine and always hands back an aware UTC datetime."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a `table=True` model (`Model.__table__`, which SQLModel's stubs do not declare)."""
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table), f"{model.__name__} is not a table model"
    return table


# Table.info key: a row that rewriting a text column (forget_mentions) would make equal to another
# under one of the table's unique indexes is deleted instead; the other row stands for both.
MERGES_DUPLICATES = "merges_duplicates"


def not_null(value: _T | None) -> _T:
    """A value read back that the query guarantees is set: a primary key (SQLModel types `id` as
    `int | None` because it is None before insert), or a column its WHERE or inner join rules NULL out of."""
    if value is None:
        raise TypeError("unexpected NULL in a column the query guarantees is set")
    return value


class Platform(StrEnum):
    WEB = "web"
    SLACK = "slack"
    TEAMS = "teams"


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"


class Rating(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Outcome(StrEnum):
    CLOSED = "closed"
    NEXT_STEP = "next_step"
    POSTPONED = "postponed"
    LOST = "lost"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Workspace(SQLModel, table=True):
    """A Slack workspace, a Teams tenant, or the local web chat."""

    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    name: str = Field(default="", max_length=200)
    created_at: datetime = _ts(default_factory=utcnow)


class PersonBase(SQLModel):
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    role: str = Field(default=Role.REP, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=8)


class Person(PersonBase, table=True):
    """Anyone the coach talks to; identified per workspace by their platform user id. Ids are never
    reused (AUTOINCREMENT on SQLite), so an id a forgotten person had points at nobody."""

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "platform_user_id"),
        {"sqlite_autoincrement": True},  # ids are never reused (see migration 0006)
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    platform_user_id: str = Field(max_length=128)
    manager_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    reachable: bool = Field(default=True)
    created_at: datetime = _ts(default_factory=utcnow)
    # When the platform profile (Slack users.info) was last read; None: never (refresh it).
    profile_synced_at: datetime | None = _ts(default=None)


class Account(SQLModel, table=True):
    """A customer account (the company the rep sells to), per workspace."""

    __table_args__ = (sa.UniqueConstraint("workspace_id", "name_key"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    domain: str | None = Field(default=None, max_length=255)
    created_at: datetime = _ts(default_factory=utcnow)


class Meeting(SQLModel, table=True):
    """A customer meeting: from a debrief's next step, a calendar, or typed in by hand."""

    __table_args__ = (
        sa.Index("ix_meeting_person_starts", "person_id", "starts_at"),
        sa.UniqueConstraint("person_id", "source", "external_uid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    starts_at: datetime = _ts()
    ends_at: datetime | None = _ts(default=None)
    source: str = Field(default="debrief", max_length=16)
    external_uid: str = Field(max_length=255)
    title: str = Field(default="", max_length=500)
    cancelled: bool = Field(default=False)
    created_at: datetime = _ts(default_factory=utcnow)


class DebriefBase(SQLModel):
    outcome: str = Field(max_length=16)
    agenda_set_by: str | None = Field(default=None, max_length=24)
    customer_questions: str | None = Field(default=None, sa_type=sa.Text)
    answers_given: str | None = Field(default=None, sa_type=sa.Text)
    customer_tried: str | None = Field(default=None, sa_type=sa.Text)
    supplier_check: str | None = Field(default=None, max_length=24)
    concessions_asked: str | None = Field(default=None, sa_type=sa.Text)
    concessions_given: str | None = Field(default=None, sa_type=sa.Text)
    concessions_got: str | None = Field(default=None, sa_type=sa.Text)
    next_step_what: str | None = Field(default=None, sa_type=sa.Text)
    next_step_who: str | None = Field(default=None, max_length=2000)
    next_step_due: date | None = Field(default=None)
    next_meeting_at: datetime | None = _ts(default=None)


class Debrief(DebriefBase, table=True):
    """One post-meeting debrief: five answers (DebriefAnswer) plus the point-specific fields."""

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "idempotency_key"),
        sa.Index("ix_debrief_person_created", "person_id", "created_at"),
        sa.Index("ix_debrief_account_created", "account_id", "created_at"),
        {"sqlite_autoincrement": True},  # ids are never reused (see migration 0006)
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="SET NULL")
    idempotency_key: str = Field(max_length=200)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime | None = _ts(default=None)


class DebriefAnswer(SQLModel, table=True):
    """The rep's yes / partly / no on one checklist point, with an optional note."""

    __table_args__ = (sa.UniqueConstraint("debrief_id", "point"),)

    id: int | None = Field(default=None, primary_key=True)
    debrief_id: int = Field(foreign_key="debrief.id", ondelete="CASCADE")
    point: str = Field(max_length=32)
    rating: str = Field(max_length=8)
    note: str | None = Field(default=None, sa_type=sa.Text)


class DialogState(SQLModel, table=True):
    """A conversation that spans requests, kept in the database so any replica can continue it."""

    __table_args__ = (sa.UniqueConstraint("person_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    step: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    version: int = Field(default=0)
    updated_at: datetime = _ts(default_factory=utcnow)


class Outbox(SQLModel, table=True):
    """A scheduled message. dedup_key is unique so each item exists once; claimed with a lease."""

    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "due_at"),
        sa.Index("ix_outbox_person", "person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=32)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    due_at: datetime = _ts()
    expires_at: datetime | None = _ts(default=None)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    lease_until: datetime | None = _ts(default=None)
    claimed_by: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    sent_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
