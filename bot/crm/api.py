"""The one shape every CRM connector has (`CrmApi`), the values it trades in, and its errors.

A third CRM (Pipedrive, Dynamics) is one module implementing `CrmApi` plus its entry in
bot.crm.connectors. Errors are DeliveryErrors, so the outbox scheduler retries or fails the write
as each says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.delivery import DeliveryError


class CrmRateLimited(DeliveryError):
    """The CRM said slow down (HubSpot 429, Salesforce REQUEST_LIMIT_EXCEEDED): retry after."""


class CrmUnauthorized(DeliveryError):
    """The token was refused again after one refresh (revoked, expired for good): broken."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class CrmRejected(DeliveryError):
    """The CRM refused the request itself (4xx): nothing was created, retrying will not help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class CrmUnavailable(DeliveryError):
    """No clear answer (a timeout, a 5xx, a dropped connection): what happened is unknown."""


class CrmNotReady(DeliveryError):
    """The write waits for something (the rep's choice, another replica's create): come back later."""


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    domain: str = ""


@dataclass(frozen=True)
class Deal:
    id: str
    name: str


@dataclass(frozen=True)
class ClosedDeal:
    id: str
    won: bool
    closed_at: datetime
    company_ids: tuple[str, ...]
    owner_id: str | None


@dataclass(frozen=True)
class StageChanges:
    """Deals whose stage changed since the watermark: the closed ones, the reopened ones, and the
    watermark to ask from next time (the newest modification time seen)."""

    closed: list[ClosedDeal]
    reopened: list[str]
    watermark: datetime | None


@dataclass(frozen=True)
class NoteWrite:
    """The debrief as the CRM gets it: `html` for CRMs whose notes are HTML, `text` otherwise."""

    title: str
    html: str
    text: str
    marker: str
    at: datetime
    company_id: str
    deal_id: str | None
    owner_id: str | None


@dataclass(frozen=True)
class TaskWrite:
    subject: str
    body: str
    marker: str
    due: date
    company_id: str
    deal_id: str | None
    owner_id: str | None


class CrmApi(Protocol):
    """What the coach asks of a CRM. Ids are the CRM's own, as strings."""

    name: str  # hubspot | salesforce

    async def companies_by_domain(self, domain: str) -> list[Company]: ...
    async def companies_by_name(self, name: str) -> list[Company]: ...
    async def company_candidates(self, text: str, limit: int = 4) -> list[Company]: ...
    async def open_deals(self, company_id: str, limit: int = 4) -> list[Deal]: ...
    async def owner_by_email(self, email: str) -> str | None: ...
    async def find_by_marker(self, kind: str, marker: str) -> str | None:
        """The id of the note or task carrying `marker` (written by an earlier, unanswered try)."""

    async def create_note(self, note: NoteWrite) -> str: ...
    async def update_note(self, note_id: str, note: NoteWrite) -> None: ...
    async def create_task(self, task: TaskWrite) -> str: ...
    async def update_task(self, task_id: str, task: TaskWrite) -> None: ...
    async def stage_changes(self, since: datetime | None) -> StageChanges: ...
