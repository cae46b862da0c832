"""Salesforce: REST /services/data/<version>/ (SOQL /query, sobjects Task), the OAuth 2.0 token
endpoint: the web-server flow with PKCE, refresh tokens, and the JWT bearer flow for a server install.
The login URL is SALESFORCE_LOGIN_URL; every other call goes to the instance URL Salesforce returns.

The debrief is a completed Task on the Opportunity (so also on its Account), or on the Account when
no deal is linked; the next step a Task due on its date. Long text fields can't be filtered in SOQL,
so the unique marker sits at the end of the Subject."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt

from bot.crm.api import ClosedDeal, Company, Deal, NoteWrite, StageChanges, TaskWrite
from bot.crm.tokens import Credentials
from bot.crm.transport import Transport, Verdict, post_form

NAME = "salesforce"
LIMIT_BACKOFF = 900.0  # REQUEST_LIMIT_EXCEEDED is the org's 24-hour allowance: try again in 15 minutes
SUBJECT_MAX = 255
MAX_PAGES = 10


def classify(status: int, headers: Mapping[str, str], body: Any) -> Verdict:
    errors = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    codes = {str(e.get("errorCode")) for e in errors if isinstance(e, dict)}
    message = "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in errors if isinstance(e, dict))
    if 200 <= status < 300:
        return Verdict("ok")
    if status == 401 or "INVALID_SESSION_ID" in codes:
        return Verdict("unauthorized", f"{status} {message}")
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        return Verdict("rate_limited", f"{status} {message}", retry_after=LIMIT_BACKOFF, pause=10.0)
    if status >= 500 or "SERVER_UNAVAILABLE" in codes:
        return Verdict("unavailable", f"{status} {message}")
    return Verdict("rejected", f"{status} {message}")


def soql_quote(value: str, *, like: bool = False) -> str:
    """A SOQL string literal; in a LIKE pattern also % and _ stand for themselves."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    if like:
        escaped = escaped.replace("%", "\\%").replace("_", "\\_")
    return f"'{escaped}'"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(raw: Any) -> datetime | None:
    if not raw:
        return None
    text = str(raw).replace("Z", "+00:00")
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    if text[-5] in "+-" and text[-3] != ":":  # Salesforce writes +0000
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text).astimezone(UTC)


def _host(website: str) -> str:
    host = website.strip().lower().split("://", 1)[-1].split("/", 1)[0]
    return host.removeprefix("www.")


class SalesforceApi:
    name = NAME

    def __init__(self, transport: Transport, instance_url: str, version: str) -> None:
        self.t = transport
        self.data = f"{instance_url.rstrip('/')}/services/data/{version}"
        self.instance = instance_url.rstrip("/")

    async def query(self, soql: str, *, pages: int = 1) -> list[dict[str, Any]]:
        answer = await self.t.call("GET", f"{self.data}/query", params={"q": soql})
        body = answer.body if isinstance(answer.body, dict) else {}
        records = list(body.get("records") or [])
        for _ in range(pages - 1):
            if body.get("done", True) or not body.get("nextRecordsUrl"):
                break
            answer = await self.t.call("GET", f"{self.instance}{body['nextRecordsUrl']}")
            body = answer.body if isinstance(answer.body, dict) else {}
            records += body.get("records") or []
        return records

    @staticmethod
    def _account(row: dict[str, Any]) -> Company:
        return Company(str(row["Id"]), str(row.get("Name") or ""), _host(str(row.get("Website") or "")))

    async def companies_by_domain(self, domain: str) -> list[Company]:
        pattern = soql_quote(domain, like=True)[1:-1]
        rows = await self.query(
            f"SELECT Id, Name, Website FROM Account WHERE Website LIKE '%{pattern}%' LIMIT 20"
        )
        return [a for a in map(self._account, rows) if a.domain == domain.lower()]

    async def companies_by_name(self, name: str) -> list[Company]:
        rows = await self.query(
            f"SELECT Id, Name, Website FROM Account WHERE Name = {soql_quote(name)} LIMIT 5"
        )
        return [self._account(r) for r in rows]

    async def company_candidates(self, text: str, limit: int = 4) -> list[Company]:
        word = max(text.split(), key=len) if text.split() else text
        pattern = soql_quote(word, like=True)
        rows = await self.query(
            f"SELECT Id, Name, Website FROM Account WHERE Name LIKE '%{pattern[1:-1]}%' "
            f"ORDER BY Name LIMIT {int(limit)}"
        )
        return [self._account(r) for r in rows]

    async def open_deals(self, company_id: str, limit: int = 4) -> list[Deal]:
        rows = await self.query(
            f"SELECT Id, Name FROM Opportunity WHERE AccountId = {soql_quote(company_id)} "
            f"AND IsClosed = false ORDER BY CloseDate LIMIT {int(limit)}"
        )
        return [Deal(str(r["Id"]), str(r.get("Name") or "")) for r in rows]

    async def owner_by_email(self, email: str) -> str | None:
        rows = await self.query(
            f"SELECT Id FROM User WHERE Email = {soql_quote(email)} AND IsActive = true LIMIT 1"
        )
        return str(rows[0]["Id"]) if rows else None

    async def find_by_marker(self, kind: str, marker: str) -> str | None:
        pattern = soql_quote(f"[{marker}]", like=True)
        rows = await self.query(f"SELECT Id FROM Task WHERE Subject LIKE '%{pattern[1:-1]}' LIMIT 1")
        return str(rows[0]["Id"]) if rows else None

    @staticmethod
    def _subject(title: str, marker: str) -> str:
        tag = f" [{marker}]"
        return title[: SUBJECT_MAX - len(tag)] + tag

    def _note_fields(self, note: NoteWrite) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "Subject": self._subject(note.title, note.marker),
            "Description": note.text[:32000],
            "Status": "Completed",
            "ActivityDate": note.at.date().isoformat(),
            "WhatId": note.deal_id or note.company_id,
        }
        if note.owner_id:
            fields["OwnerId"] = note.owner_id
        return fields

    def _task_fields(self, task: TaskWrite) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "Subject": self._subject(task.subject, task.marker),
            "Description": task.body[:32000],
            "Status": "Not Started",
            "Priority": "Normal",
            "ActivityDate": task.due.isoformat(),
            "WhatId": task.deal_id or task.company_id,
        }
        if task.owner_id:
            fields["OwnerId"] = task.owner_id
        return fields

    async def _create(self, fields: dict[str, Any]) -> str:
        answer = await self.t.call(
            "POST", f"{self.data}/sobjects/Task", json={**fields, "TaskSubtype": "Task"}
        )
        return str(answer.body["id"])

    async def create_note(self, note: NoteWrite) -> str:
        return await self._create(self._note_fields(note))

    async def update_note(self, note_id: str, note: NoteWrite) -> None:
        await self.t.call("PATCH", f"{self.data}/sobjects/Task/{note_id}", json=self._note_fields(note))

    async def create_task(self, task: TaskWrite) -> str:
        return await self._create(self._task_fields(task))

    async def update_task(self, task_id: str, task: TaskWrite) -> None:
        await self.t.call("PATCH", f"{self.data}/sobjects/Task/{task_id}", json=self._task_fields(task))

    async def stage_changes(self, since: datetime | None) -> StageChanges:
        where = f"WHERE SystemModstamp > {_stamp(since)} " if since else ""
        rows = await self.query(
            "SELECT Id, AccountId, OwnerId, IsClosed, IsWon, CloseDate, SystemModstamp FROM Opportunity "
            f"{where}ORDER BY SystemModstamp ASC LIMIT 2000",
            pages=MAX_PAGES,
        )
        closed, reopened, watermark = [], [], since
        for row in rows:
            modified = _parse(row.get("SystemModstamp"))
            if modified and (watermark is None or modified > watermark):
                watermark = modified
            if not row.get("IsClosed"):
                reopened.append(str(row["Id"]))
                continue
            closed.append(
                ClosedDeal(
                    id=str(row["Id"]),
                    won=bool(row.get("IsWon")),
                    closed_at=_parse(row.get("CloseDate")) or modified or datetime.now(UTC),
                    company_ids=(str(row["AccountId"]),) if row.get("AccountId") else (),
                    owner_id=str(row["OwnerId"]) if row.get("OwnerId") else None,
                )
            )
        return StageChanges(closed, reopened, watermark)


# -- OAuth ---------------------------------------------------------------------------------------
def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) for S256 (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(login_url: str, *, client_id: str, redirect_uri: str, state: str, challenge: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scope": "api refresh_token",
        }
    )
    return f"{login_url.rstrip('/')}/services/oauth2/authorize?{query}"


def _credentials(body: dict[str, Any], previous: Credentials | None = None) -> Credentials:
    return Credentials(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token") or (previous.refresh_token if previous else None),
        instance_url=str(body.get("instance_url") or (previous.instance_url if previous else "") or ""),
    )


def org_of(body: Mapping[str, Any]) -> str | None:
    """The org id in the identity URL Salesforce returns (…/id/<org id>/<user id>)."""
    parts = str(body.get("id") or "").rstrip("/").split("/")
    return parts[-2] if len(parts) >= 3 and parts[-3] == "id" else None


async def exchange_code(
    http: aiohttp.ClientSession,
    login_url: str,
    *,
    client_id: str,
    client_secret: str | None,
    redirect_uri: str,
    code: str,
    verifier: str,
) -> tuple[Credentials, str | None]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    if client_secret:
        form["client_secret"] = client_secret
    body = await post_form(http, f"{login_url.rstrip('/')}/services/oauth2/token", form)
    return _credentials(body), org_of(body)


async def refresh(
    http: aiohttp.ClientSession,
    login_url: str,
    *,
    client_id: str,
    client_secret: str | None,
    creds: Credentials,
) -> Credentials:
    form = {"grant_type": "refresh_token", "refresh_token": creds.refresh_token or "", "client_id": client_id}
    if client_secret:
        form["client_secret"] = client_secret
    body = await post_form(http, f"{login_url.rstrip('/')}/services/oauth2/token", form)
    return _credentials(body, creds)


async def jwt_bearer(
    http: aiohttp.ClientSession,
    login_url: str,
    *,
    client_id: str,
    username: str,
    private_key: str,
    now: datetime,
) -> tuple[Credentials, str | None]:
    """A token for the integration user, signed with the connected app's key (no refresh token:
    a new one is minted the same way when it expires)."""
    claims = {
        "iss": client_id,
        "sub": username,
        "aud": login_url.rstrip("/"),
        "exp": int((now + timedelta(minutes=3)).timestamp()),
    }
    assertion = jwt.encode(claims, private_key, algorithm="RS256")
    body = await post_form(
        http,
        f"{login_url.rstrip('/')}/services/oauth2/token",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion,
        },
    )
    return _credentials(body), org_of(body)
