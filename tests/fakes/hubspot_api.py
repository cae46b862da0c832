"""A fake of HubSpot's APIs on port 0, from HubSpot's documented request and response shapes:
CRM v3 objects (companies, deals, notes, tasks) with v4 associations, the CRM search API
(filterGroups with EQ / GTE / CONTAINS_TOKEN, `query`, sorts, paging `after`), owners, the OAuth v1
token endpoint (authorization_code, refresh_token) and access-token info, and the app's
/oauth/authorize page (approving at once). Records every call; answers 429 with the
X-HubSpot-RateLimit-* headers on demand or at a ratio; can drop the connection after storing.

Point HUBSPOT_API_URL and HUBSPOT_APP_URL (Settings.hubspot_api_url / hubspot_app_url) at `fake.url`.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.serving import serve


@dataclass
class Call:
    method: str
    path: str
    body: Any
    status: int


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class FakeHubSpot:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    tokens: set[str] = field(default_factory=lambda: {"pat-test"})  # access tokens it accepts
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> its latest access token
    codes: dict[str, str] = field(default_factory=dict)  # authorization code -> redirect_uri
    expires_in: int = 1800
    hub_id: int = 424242
    companies: dict[str, dict[str, Any]] = field(default_factory=dict)
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)  # props + "companies": [ids]
    owners: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)  # {"properties", "associations"}
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    rate_limit_ratio: float = 0.0  # share of API calls answered 429 (seeded: the same run each time)
    interval_ms: int = 100  # X-HubSpot-RateLimit-Interval-Milliseconds on a 429
    _limited: int = 0  # the next this many API calls get 429
    _drop: dict[str, int] = field(default_factory=dict)  # "notes"/"tasks": drop the answer after storing
    _rng: random.Random = field(default_factory=lambda: random.Random(15))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _runner: web.AppRunner | None = None

    # -- set up and inspect -------------------------------------------------------------------
    def add_company(self, name: str, domain: str = "") -> str:
        cid = str(next(self._ids))
        self.companies[cid] = {"name": name, "domain": domain}
        return cid

    def add_deal(self, name: str, company_id: str, *, owner: str | None = None) -> str:
        did = str(next(self._ids))
        self.deals[did] = {
            "dealname": name,
            "hs_is_closed": "false",
            "hs_is_closed_won": "false",
            "closedate": None,
            "hubspot_owner_id": owner,
            "hs_lastmodifieddate": _now_iso(),
            "companies": [company_id],
        }
        return did

    def close_deal(self, deal_id: str, *, won: bool) -> None:
        self.deals[deal_id].update(
            hs_is_closed="true",
            hs_is_closed_won="true" if won else "false",
            closedate=_now_iso(),
            hs_lastmodifieddate=_now_iso(),
        )

    def add_owner(self, email: str) -> str:
        oid = str(next(self._ids))
        self.owners.append({"id": oid, "email": email, "firstName": "", "lastName": "", "archived": False})
        return oid

    def limit_next(self, times: int = 1) -> None:
        self._limited += times

    def drop_after_store(self, object_type: str, times: int = 1) -> None:
        """Store the next `times` created notes / tasks, then drop the connection before answering."""
        self._drop[object_type] = self._drop.get(object_type, 0) + times

    def revoke(self, token: str) -> None:
        self.tokens.discard(token)
        for refresh, access in list(self.refresh_tokens.items()):
            if access == token:
                del self.refresh_tokens[refresh]

    def to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path) and c.status < 300]

    # -- server -------------------------------------------------------------------------------
    async def start(self) -> FakeHubSpot:
        app = web.Application()
        app.router.add_post("/oauth/v1/token", self._token)
        app.router.add_get("/oauth/v1/access-tokens/{token}", self._token_info)
        app.router.add_get("/oauth/authorize", self._authorize)
        app.router.add_get("/crm/v3/owners/", self._owners)
        app.router.add_post("/crm/v3/objects/{type}/search", self._search)
        app.router.add_post("/crm/v3/objects/{type}", self._create)
        app.router.add_patch("/crm/v3/objects/{type}/{id}", self._update)
        app.router.add_post("/crm/v4/associations/deals/companies/batch/read", self._deal_companies)
        app.router.add_get("/__fake/stats", self._stats)
        self._runner, self.url = await serve(app)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, request: web.Request, body: Any, status: int) -> None:
        self.calls.append(Call(request.method, request.path, body, status))

    def _refuse(self, request: web.Request, body: Any) -> web.Response | None:
        """401 without a valid bearer token; 429 when limited. None: go on."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            self._record(request, body, 401)
            return web.json_response(
                {
                    "status": "error",
                    "category": "INVALID_AUTHENTICATION",
                    "correlationId": secrets.token_hex(8),
                    "message": "Authentication credentials not found. "
                    "This API supports OAuth 2.0 authentication.",
                },
                status=401,
            )
        if self._limited > 0 or (self.rate_limit_ratio and self._rng.random() < self.rate_limit_ratio):
            self._limited = max(0, self._limited - 1)
            self._record(request, body, 429)
            return web.json_response(
                {
                    "status": "error",
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": secrets.token_hex(8),
                    "policyName": "TEN_SECONDLY_ROLLING",
                },
                status=429,
                headers={
                    "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.interval_ms),
                    "X-HubSpot-RateLimit-Max": "100",
                    "X-HubSpot-RateLimit-Remaining": "0",
                },
            )
        return None

    @staticmethod
    def _ok(body: Any, status: int = 200) -> web.Response:
        return web.json_response(
            body,
            status=status,
            headers={
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": "99",
                "X-HubSpot-RateLimit-Daily": "250000",
                "X-HubSpot-RateLimit-Daily-Remaining": "249000",
            },
        )

    # -- OAuth ----------------------------------------------------------------------------------
    async def _authorize(self, request: web.Request) -> web.Response:
        """The admin approves at once: back to the app with a code."""
        code = secrets.token_hex(8)
        self.codes[code] = request.query["redirect_uri"]
        self._record(request, dict(request.query), 302)
        query = urlencode({"code": code, "state": request.query.get("state", "")})
        raise web.HTTPFound(f"{request.query['redirect_uri']}?{query}")

    def _issue(self, refresh: str | None = None) -> dict[str, Any]:
        access = f"oauth-{secrets.token_hex(8)}"
        refresh = refresh or f"refresh-{secrets.token_hex(8)}"
        self.tokens.add(access)
        self.refresh_tokens[refresh] = access
        return {
            "token_type": "bearer",
            "refresh_token": refresh,
            "access_token": access,
            "expires_in": self.expires_in,
        }

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self._record(request, {k: v for k, v in form.items() if k != "client_secret"}, 200)
        grant = form.get("grant_type")
        if grant == "authorization_code" and self.codes.get(str(form.get("code"))) == form.get(
            "redirect_uri"
        ):
            del self.codes[str(form["code"])]
            return web.json_response(self._issue())
        if grant == "refresh_token" and str(form.get("refresh_token")) in self.refresh_tokens:
            old = self.refresh_tokens[str(form["refresh_token"])]
            self.tokens.discard(old)
            return web.json_response(self._issue(str(form["refresh_token"])))
        self.calls[-1].status = 400
        return web.json_response(
            {
                "status": "BAD_REFRESH_TOKEN" if grant == "refresh_token" else "BAD_AUTH_CODE",
                "message": "missing or unknown refresh token"
                if grant == "refresh_token"
                else "missing or invalid auth code",
                "correlationId": secrets.token_hex(8),
            },
            status=400,
        )

    async def _token_info(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token not in self.tokens:
            return web.json_response({"status": "error", "message": "not found"}, status=404)
        return web.json_response(
            {
                "token": token,
                "hub_id": self.hub_id,
                "app_id": 1,
                "expires_in": 1700,
                "user": "admin@example.com",
                "hub_domain": "example.com",
            }
        )

    # -- CRM ------------------------------------------------------------------------------------
    def _store_of(self, object_type: str) -> dict[str, dict[str, Any]]:
        return {"notes": self.notes, "tasks": self.tasks}[object_type]

    def _rows(self, object_type: str) -> list[tuple[str, dict[str, Any]]]:
        if object_type == "companies":
            return list(self.companies.items())
        if object_type == "deals":
            return list(self.deals.items())
        return [(i, o["properties"]) for i, o in self._store_of(object_type).items()]

    @staticmethod
    def _matches(oid: str, props: dict[str, Any], f: dict[str, Any]) -> bool:
        name, op, value = f["propertyName"], f["operator"], str(f.get("value", ""))
        if name == "associations.company":
            return value in props.get("companies", [])
        have = props.get(name)
        if op == "EQ":
            return str(have or "").casefold() == value.casefold()
        if op == "CONTAINS_TOKEN":
            return value.casefold() in str(have or "").casefold()
        if op == "GTE":
            if have is None:
                return False
            moment = datetime.fromisoformat(str(have).replace("Z", "+00:00"))
            return moment.timestamp() * 1000 >= int(value)
        raise AssertionError(f"the fake does not know operator {op}")

    async def _search(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = self._refuse(request, body)
        if refused is not None:
            return refused
        object_type = request.match_info["type"]
        rows = self._rows(object_type)
        groups = body.get("filterGroups") or []
        if groups:
            rows = [
                (i, p)
                for i, p in rows
                if any(all(self._matches(i, p, f) for f in g.get("filters", [])) for g in groups)
            ]
        if body.get("query"):
            q = str(body["query"]).casefold()
            rows = [
                (i, p)
                for i, p in rows
                if any(w in str(p.get("name", "")).casefold() for w in q.split())
                or q in str(p.get("domain", "")).casefold()
            ]
        for sort in body.get("sorts") or []:
            rows.sort(
                key=lambda r: str(r[1].get(sort["propertyName"]) or ""),
                reverse=sort.get("direction") == "DESCENDING",
            )
        start, limit = int(body.get("after") or 0), int(body.get("limit") or 10)
        page = rows[start : start + limit]
        wanted = body.get("properties") or []
        results = [
            {
                "id": i,
                "properties": {k: p.get(k) for k in wanted} | {"hs_object_id": i},
                "createdAt": _now_iso(),
                "updatedAt": _now_iso(),
                "archived": False,
            }
            for i, p in page
        ]
        out: dict[str, Any] = {"total": len(rows), "results": results}
        if start + limit < len(rows):
            out["paging"] = {"next": {"after": str(start + limit), "link": "?after=" + str(start + limit)}}
        self._record(request, body, 200)
        return self._ok(out)

    async def _owners(self, request: web.Request) -> web.Response:
        refused = self._refuse(request, dict(request.query))
        if refused is not None:
            return refused
        email = request.query.get("email", "").casefold()
        found = [o for o in self.owners if o["email"].casefold() == email] if email else self.owners
        self._record(request, dict(request.query), 200)
        return self._ok({"results": found})

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        object_type = request.match_info["type"]
        refused = self._refuse(request, body)
        if refused is not None:
            return refused
        if object_type not in ("notes", "tasks"):
            self._record(request, body, 400)
            return web.json_response({"status": "error", "message": "unsupported here"}, status=400)
        oid = str(next(self._ids))
        self._store_of(object_type)[oid] = {
            "properties": dict(body.get("properties") or {}),
            "associations": list(body.get("associations") or []),
        }
        self._record(request, body, 201)
        if self._drop.get(object_type):
            self._drop[object_type] -= 1
            assert request.transport is not None
            request.transport.abort()  # stored, but the client never hears so
            return web.Response(status=201)
        return self._ok(
            {
                "id": oid,
                "properties": body.get("properties"),
                "createdAt": _now_iso(),
                "updatedAt": _now_iso(),
                "archived": False,
            },
            status=201,
        )

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = self._refuse(request, body)
        if refused is not None:
            return refused
        store = self._store_of(request.match_info["type"])
        oid = request.match_info["id"]
        if oid not in store:
            self._record(request, body, 404)
            return web.json_response(
                {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"},
                status=404,
            )
        store[oid]["properties"].update(body.get("properties") or {})
        self._record(request, body, 200)
        return self._ok({"id": oid, "properties": store[oid]["properties"], "updatedAt": _now_iso()})

    async def _stats(self, request: web.Request) -> web.Response:
        """What a benchmark in another process reads: objects written, and markers seen twice."""
        markers = [
            m
            for o in [*self.notes.values(), *self.tasks.values()]
            for m in re.findall(
                r"ref (cc\w+)",
                str(o["properties"].get("hs_note_body") or o["properties"].get("hs_task_body") or ""),
            )
        ]
        return web.json_response(
            {
                "notes": len(self.notes),
                "tasks": len(self.tasks),
                "calls": len(self.calls),
                "limited": sum(1 for c in self.calls if c.status == 429),
                "duplicates": len(markers) - len(set(markers)),
            }
        )

    async def _deal_companies(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = self._refuse(request, body)
        if refused is not None:
            return refused
        results = [
            {
                "from": {"id": d["id"]},
                "to": [
                    {
                        "toObjectId": int(c),
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}
                        ],
                    }
                    for c in self.deals.get(str(d["id"]), {}).get("companies", [])
                ],
            }
            for d in body.get("inputs") or []
            if str(d["id"]) in self.deals
        ]
        self._record(request, body, 200)
        return self._ok(
            {"status": "COMPLETE", "results": results, "startedAt": _now_iso(), "completedAt": _now_iso()}
        )
