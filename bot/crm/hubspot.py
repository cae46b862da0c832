"""HubSpot: CRM v3 objects (companies, deals, notes and tasks with associations), the search API,
owners, and the OAuth v1 token endpoint. Base URLs from HUBSPOT_API_URL / HUBSPOT_APP_URL.

HubSpot's 429 says which limit ran out in its X-HubSpot-RateLimit-* headers: a used-up window is
waited out by every write on this replica (Throttle), a used-up day goes back to the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.crm.api import ClosedDeal, Company, Deal, NoteWrite, StageChanges, TaskWrite
from bot.crm.tokens import Credentials
from bot.crm.transport import Transport, Verdict, post_form

NAME = "hubspot"
# HubSpot-defined association types (v4): note->company, note->deal, task->company, task->deal.
NOTE_COMPANY, NOTE_DEAL, TASK_COMPANY, TASK_DEAL = 190, 214, 192, 216
SCOPES = (
    "oauth crm.objects.companies.read crm.objects.deals.read crm.objects.owners.read "
    "crm.objects.contacts.write"
)
DAILY_BACKOFF = 3600.0  # the day's calls are used up: try again in an hour
MAX_PAGES = 10  # deals read per poll: 10 pages of 100; the watermark carries on next time
_DEAL_PROPS = [
    "dealname",
    "hs_is_closed",
    "hs_is_closed_won",
    "closedate",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
]


def classify(status: int, headers: Mapping[str, str], body: Any) -> Verdict:
    message = str(body.get("message") or body.get("category") or "") if isinstance(body, dict) else ""
    if 200 <= status < 300:
        if headers.get("X-HubSpot-RateLimit-Remaining") == "0":
            return Verdict("ok", pause=_interval(headers))
        return Verdict("ok")
    if status == 401:
        return Verdict("unauthorized", f"401 {message}")
    if status == 429:
        daily = headers.get("X-HubSpot-RateLimit-Daily-Remaining") == "0" or (
            isinstance(body, dict) and body.get("policyName") == "DAILY"
        )
        retry = headers.get("Retry-After")
        after = float(retry) if retry is not None and _number(retry) else _interval(headers)
        after = DAILY_BACKOFF if daily else after
        return Verdict("rate_limited", f"429 {message}", retry_after=after, pause=min(after, 10.0))
    if status >= 500:
        return Verdict("unavailable", f"{status} {message}")
    return Verdict("rejected", f"{status} {message}")


def _number(value: str | None) -> bool:
    try:
        return value is not None and float(value) >= 0
    except ValueError:
        return False


def _interval(headers: Mapping[str, str]) -> float:
    """The rate-limit window HubSpot names (X-HubSpot-RateLimit-Interval-Milliseconds), else 1 s."""
    raw = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
    return float(raw) / 1000 if raw is not None and _number(raw) else 1.0


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _parse_time(raw: Any) -> datetime | None:
    if not raw:
        return None
    text = str(raw)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _assoc(to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


class HubSpotApi:
    name = NAME

    def __init__(self, transport: Transport, base_url: str) -> None:
        self.t = transport
        self.base = base_url.rstrip("/")

    async def _search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.t.call("POST", f"{self.base}/crm/v3/objects/{object_type}/search", json=body)
        return answer.body if isinstance(answer.body, dict) else {}

    async def _filter(
        self, object_type: str, filters: list[dict[str, Any]], properties: list[str], limit: int
    ) -> list[dict[str, Any]]:
        found = await self._search(
            object_type,
            {
                "filterGroups": [{"filters": filters}],
                "properties": properties,
                "limit": limit,
            },
        )
        return list(found.get("results") or [])

    @staticmethod
    def _company(row: dict[str, Any]) -> Company:
        props = row.get("properties") or {}
        return Company(str(row["id"]), str(props.get("name") or ""), str(props.get("domain") or ""))

    async def companies_by_domain(self, domain: str) -> list[Company]:
        rows = await self._filter(
            "companies",
            [{"propertyName": "domain", "operator": "EQ", "value": domain}],
            ["name", "domain"],
            5,
        )
        return [self._company(r) for r in rows]

    async def companies_by_name(self, name: str) -> list[Company]:
        rows = await self._filter(
            "companies", [{"propertyName": "name", "operator": "EQ", "value": name}], ["name", "domain"], 5
        )
        return [self._company(r) for r in rows]

    async def company_candidates(self, text: str, limit: int = 4) -> list[Company]:
        found = await self._search(
            "companies", {"query": text, "properties": ["name", "domain"], "limit": limit}
        )
        return [self._company(r) for r in found.get("results") or []]

    async def open_deals(self, company_id: str, limit: int = 4) -> list[Deal]:
        rows = await self._filter(
            "deals",
            [
                {"propertyName": "associations.company", "operator": "EQ", "value": company_id},
                {"propertyName": "hs_is_closed", "operator": "EQ", "value": "false"},
            ],
            ["dealname"],
            limit,
        )
        return [Deal(str(r["id"]), str((r.get("properties") or {}).get("dealname") or "")) for r in rows]

    async def owner_by_email(self, email: str) -> str | None:
        answer = await self.t.call(
            "GET", f"{self.base}/crm/v3/owners/", params={"email": email, "limit": "1"}
        )
        rows = answer.body.get("results") if isinstance(answer.body, dict) else None
        return str(rows[0]["id"]) if rows else None

    async def find_by_marker(self, kind: str, marker: str) -> str | None:
        object_type, prop = ("notes", "hs_note_body") if kind == "note" else ("tasks", "hs_task_body")
        rows = await self._filter(
            object_type, [{"propertyName": prop, "operator": "CONTAINS_TOKEN", "value": marker}], [prop], 1
        )
        return str(rows[0]["id"]) if rows else None

    async def create_note(self, note: NoteWrite) -> str:
        body = {
            "properties": self._note_props(note),
            "associations": [
                _assoc(note.company_id, NOTE_COMPANY),
                *([_assoc(note.deal_id, NOTE_DEAL)] if note.deal_id else []),
            ],
        }
        answer = await self.t.call("POST", f"{self.base}/crm/v3/objects/notes", json=body)
        return str(answer.body["id"])

    async def update_note(self, note_id: str, note: NoteWrite) -> None:
        await self.t.call(
            "PATCH",
            f"{self.base}/crm/v3/objects/notes/{note_id}",
            json={"properties": self._note_props(note)},
        )

    @staticmethod
    def _note_props(note: NoteWrite) -> dict[str, str]:
        props = {
            "hs_timestamp": note.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "hs_note_body": note.html,
        }
        if note.owner_id:
            props["hubspot_owner_id"] = note.owner_id
        return props

    async def create_task(self, task: TaskWrite) -> str:
        body = {
            "properties": self._task_props(task),
            "associations": [
                _assoc(task.company_id, TASK_COMPANY),
                *([_assoc(task.deal_id, TASK_DEAL)] if task.deal_id else []),
            ],
        }
        answer = await self.t.call("POST", f"{self.base}/crm/v3/objects/tasks", json=body)
        return str(answer.body["id"])

    async def update_task(self, task_id: str, task: TaskWrite) -> None:
        await self.t.call(
            "PATCH",
            f"{self.base}/crm/v3/objects/tasks/{task_id}",
            json={"properties": self._task_props(task)},
        )

    @staticmethod
    def _task_props(task: TaskWrite) -> dict[str, str]:
        due = datetime.combine(task.due, time(9, 0), UTC)
        props = {
            "hs_timestamp": due.isoformat().replace("+00:00", "Z"),
            "hs_task_subject": task.subject[:250],
            "hs_task_body": task.body,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": "MEDIUM",
            "hs_task_type": "TODO",
        }
        if task.owner_id:
            props["hubspot_owner_id"] = task.owner_id
        return props

    async def stage_changes(self, since: datetime | None) -> StageChanges:
        closed: list[ClosedDeal] = []
        reopened: list[str] = []
        rows: list[dict[str, Any]] = []
        watermark = since
        after: str | None = None
        filters = (
            [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": _ms(since)}] if since else []
        )
        for _ in range(MAX_PAGES):
            body: dict[str, Any] = {
                "filterGroups": [{"filters": filters}] if filters else [],
                "properties": _DEAL_PROPS,
                "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
                "limit": 100,
            }
            if after:
                body["after"] = after
            page = await self._search("deals", body)
            rows += page.get("results") or []
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        companies = await self._deal_companies([str(r["id"]) for r in rows])
        for row in rows:
            props = row.get("properties") or {}
            modified = _parse_time(props.get("hs_lastmodifieddate") or row.get("updatedAt"))
            if modified and (watermark is None or modified > watermark):
                watermark = modified
            if str(props.get("hs_is_closed")).lower() != "true":
                reopened.append(str(row["id"]))
                continue
            closed.append(
                ClosedDeal(
                    id=str(row["id"]),
                    won=str(props.get("hs_is_closed_won")).lower() == "true",
                    closed_at=_parse_time(props.get("closedate")) or modified or datetime.now(UTC),
                    company_ids=tuple(companies.get(str(row["id"]), ())),
                    owner_id=str(props["hubspot_owner_id"]) if props.get("hubspot_owner_id") else None,
                )
            )
        return StageChanges(closed, reopened, watermark)

    async def _deal_companies(self, deal_ids: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for start in range(0, len(deal_ids), 1000):
            answer = await self.t.call(
                "POST",
                f"{self.base}/crm/v4/associations/deals/companies/batch/read",
                json={"inputs": [{"id": d} for d in deal_ids[start : start + 1000]]},
            )
            for result in (answer.body or {}).get("results") or []:
                out[str(result["from"]["id"])] = [str(t["toObjectId"]) for t in result.get("to") or []]
        return out


# -- OAuth ---------------------------------------------------------------------------------------
def authorize_url(app_url: str, *, client_id: str, redirect_uri: str, state: str) -> str:
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "scope": SCOPES, "state": state})
    return f"{app_url.rstrip('/')}/oauth/authorize?{query}"


async def exchange_code(
    http: aiohttp.ClientSession,
    api_url: str,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    now: datetime,
) -> Credentials:
    body = await post_form(
        http,
        f"{api_url.rstrip('/')}/oauth/v1/token",
        {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        },
    )
    return Credentials("").renewed(
        str(body["access_token"]),
        expires_in=float(body.get("expires_in") or 0),
        now=now,
        refresh_token=body.get("refresh_token"),
    )


async def refresh(
    http: aiohttp.ClientSession,
    api_url: str,
    *,
    client_id: str,
    client_secret: str,
    creds: Credentials,
    now: datetime,
) -> Credentials:
    body = await post_form(
        http,
        f"{api_url.rstrip('/')}/oauth/v1/token",
        {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": creds.refresh_token or "",
        },
    )
    return creds.renewed(
        str(body["access_token"]),
        expires_in=float(body.get("expires_in") or 0),
        now=now,
        refresh_token=body.get("refresh_token"),
    )


async def portal_of(http: aiohttp.ClientSession, api_url: str, access_token: str) -> str | None:
    """The HubSpot account (hub id) a token belongs to (GET /oauth/v1/access-tokens/<token>)."""
    try:
        async with http.get(f"{api_url.rstrip('/')}/oauth/v1/access-tokens/{access_token}") as resp:
            body = await resp.json(content_type=None) if resp.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    return str(body["hub_id"]) if isinstance(body, dict) and body.get("hub_id") else None
