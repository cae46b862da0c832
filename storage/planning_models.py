"""Tables of what the coach plans per person: coach preferences, invite flags, calendar feeds and
kept recurring series, tactic feedback, missed next steps (for the digest) and the web-chat inbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime, utcnow


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class CoachPreference(SQLModel, table=True):
    """A rep's pause (until a date, local) and whether pre-meeting nudges are on."""

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    paused_until: date | None = Field(default=None)
    nudges_off: bool = Field(default=False)
    updated_at: datetime = _ts(default_factory=utcnow)


class MeetingInvite(SQLModel, table=True):
    """What the calendar invite says about the meeting: organised by the customer, an agenda."""

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True, ondelete="CASCADE")
    organiser: str | None = Field(default=None, max_length=320)
    organiser_external: bool = Field(default=False)
    formal_agenda: bool = Field(default=False)


class CalendarFeed(SQLModel, table=True):
    """An iCalendar URL a rep registered; polled with conditional GET (ETag / Last-Modified)."""

    __table_args__ = (sa.UniqueConstraint("person_id", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=2000)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    next_poll_at: datetime = _ts(default_factory=utcnow)
    last_polled_at: datetime | None = _ts(default=None)
    last_status: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _ts(default_factory=utcnow)


class CalendarSeries(SQLModel, table=True):
    """A recurring customer series from a calendar file or feed, kept as its own iCalendar text and
    expanded as its occurrences come within the import horizon (a daily re-expansion)."""

    __table_args__ = (sa.UniqueConstraint("person_id", "source", "uid"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    source: str = Field(max_length=16)  # the meetings' source: "ics" or "feed:<id>"
    uid: str = Field(max_length=255)
    ical: str = Field(sa_type=sa.Text)
    next_expand_at: datetime = _ts(default_factory=utcnow, index=True)
    created_at: datetime = _ts(default_factory=utcnow)


class SuggestedTactic(SQLModel, table=True):
    """A counter-tactic a nudge suggested, and the rep's later verdict on it."""

    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "tactic"),
        sa.Index("ix_suggestedtactic_person_account", "person_id", "account_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    tactic: str = Field(max_length=64)
    suggested_at: datetime = _ts(default_factory=utcnow)
    verdict: str | None = Field(default=None, max_length=16)  # worked | flopped | unused | drop
    answered_at: datetime | None = _ts(default=None)


class MissedNextStep(SQLModel, table=True):
    """A promised next step whose date passed without a meeting or debrief (read by the digest)."""

    __table_args__ = (sa.Index("ix_missednextstep_person_due", "person_id", "due"),)

    id: int | None = Field(default=None, primary_key=True)
    debrief_id: int = Field(foreign_key="debrief.id", unique=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    due: date
    recorded_at: datetime = _ts(default_factory=utcnow)


class WebChatInbox(SQLModel, table=True):
    """Messages the coach started for a web-chat person, waiting for the page to poll them."""

    __table_args__ = (sa.Index("ix_webchatinbox_person_seen", "person_id", "seen_at"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    dedup_key: str | None = Field(default=None, max_length=255, unique=True)
    messages: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = _ts(default_factory=utcnow)
    seen_at: datetime | None = _ts(default=None)
