"""A fake of Salesforce on port 0, from its documented request and response shapes: the OAuth 2.0
endpoints (/services/oauth2/authorize approving at once, /services/oauth2/token with
authorization_code + PKCE S256, refresh_token and the JWT bearer grant checked against a public
key), and REST /services/data/vXX.X/ (query with a small SOQL reader: SELECT fields FROM object
WHERE a AND b … ORDER BY … LIMIT n; sobjects/Task create and update). Errors as Salesforce sends
them: a list of {message, errorCode} (INVALID_SESSION_ID 401, REQUEST_LIMIT_EXCEEDED 403).

Point SALESFORCE_LOGIN_URL at `fake.url`; the instance URL it hands out is `fake.url` too.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web

from tests.serving import serve

_QUERY = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<object>\w+)(?: WHERE (?P<where>.+?))?"
    r"(?: ORDER BY (?P<order>\w+)(?: (?:ASC|DESC))?)?(?: LIMIT (?P<limit>\d+))?$",
    re.S,
)
_CONDITION = re.compile(r"^(\w+) (=|LIKE|>) (.+)$", re.S)


def _literal(raw: str) -> Any:
    raw = raw.strip()
    if raw in ("true", "false"):
        return raw == "true"
    if raw.startswith("'") and raw.endswith("'"):
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def _like(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.I | re.S)


def _split_and(where: str) -> list[str]:
    """WHERE a AND b: split on AND outside quotes."""
    parts, current, quoted, i = [], "", False, 0
    while i < len(where):
        if where[i] == "\\" and quoted:
            current += where[i : i + 2]
            i += 2
            continue
        if where[i] == "'":
            quoted = not quoted
        if not quoted and where[i : i + 5] == " AND ":
            parts.append(current)
            current, i = "", i + 5
            continue
        current += where[i]
        i += 1
    return [*parts, current]


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


@dataclass
class Call:
    method: str
    path: str
    body: Any
    status: int


@dataclass
class FakeSalesforce:
    url: str = ""
    version: str = "v62.0"
    calls: list[Call] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (redirect_uri, challenge)
    public_key: str | None = None  # the connected app's certificate, for the JWT bearer grant
    org_id: str = "00D000000000001EAA"
    records: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"Account": {}, "Opportunity": {}, "User": {}, "Task": {}}
    )
    _limited: int = 0
    _expire_next: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    # -- set up and inspect -------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):012d}AAA"

    def add(self, object_type: str, **fields: Any) -> str:
        prefix = {"Account": "001", "Opportunity": "006", "User": "005", "Task": "00T"}[object_type]
        rid = self._id(prefix)
        self.records[object_type][rid] = {"Id": rid, "SystemModstamp": _stamp(), **fields}
        return rid

    def close_opportunity(self, opp_id: str, *, won: bool) -> None:
        self.records["Opportunity"][opp_id].update(
            IsClosed=True, IsWon=won, CloseDate=date.today().isoformat(), SystemModstamp=_stamp()
        )

    def issue(self) -> str:
        """A session (access) token, as a login would give."""
        token = f"00D!{secrets.token_hex(12)}"
        self.tokens.add(token)
        return token

    def expire_sessions(self) -> None:
        self.tokens.clear()

    def limit_next(self, times: int = 1) -> None:
        self._limited += times

    def tasks(self) -> list[dict[str, Any]]:
        return list(self.records["Task"].values())

    def to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and path in c.path and c.status < 300]

    # -- server -------------------------------------------------------------------------------
    async def start(self) -> FakeSalesforce:
        app = web.Application()
        app.router.add_get("/services/oauth2/authorize", self._authorize)
        app.router.add_post("/services/oauth2/token", self._token)
        app.router.add_get("/services/data/{version}/query", self._query)
        app.router.add_post("/services/data/{version}/sobjects/{object}", self._create)
        app.router.add_patch("/services/data/{version}/sobjects/{object}/{id}", self._update)
        self._runner, self.url = await serve(app)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _refuse(self, request: web.Request, body: Any) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            self.calls.append(Call(request.method, request.path, body, 401))
            return web.json_response(
                [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], status=401
            )
        if self._limited > 0:
            self._limited -= 1
            self.calls.append(Call(request.method, request.path, body, 403))
            return web.json_response(
                [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                status=403,
            )
        return None

    # -- OAuth ----------------------------------------------------------------------------------
    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        assert q["response_type"] == "code" and q["code_challenge_method"] == "S256"
        code = secrets.token_hex(8)
        self.codes[code] = (q["redirect_uri"], q["code_challenge"])
        self.calls.append(Call("GET", request.path, dict(q), 302))
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}")

    def _session(self, *, refresh: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.issue(),
            "instance_url": self.url,
            "token_type": "Bearer",
            "id": f"{self.url}/id/{self.org_id}/005000000000001AAA",
            "issued_at": "1764590000000",
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            "scope": "api refresh_token",
        }
        if refresh:
            token = f"5Aep{secrets.token_hex(12)}"
            self.refresh_tokens[token] = body["access_token"]
            body["refresh_token"] = token
        return body

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.calls.append(
            Call("POST", request.path, {k: v for k, v in form.items() if k != "client_secret"}, 200)
        )
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") in self.codes:
            redirect, challenge = self.codes.pop(form["code"])
            verifier = form.get("code_verifier", "")
            expected = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if redirect == form.get("redirect_uri") and expected == challenge:
                return web.json_response(self._session(refresh=True))
        if grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            body = self._session(refresh=False)
            self.refresh_tokens[form["refresh_token"]] = body["access_token"]
            return web.json_response(body)
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" and self.public_key:
            try:
                claims = jwt.decode(
                    form.get("assertion", ""), self.public_key, algorithms=["RS256"], audience=self.url
                )
            except jwt.PyJWTError:
                claims = {}
            if claims.get("iss") and claims.get("sub"):
                return web.json_response(self._session(refresh=False))
        self.calls[-1].status = 400
        return web.json_response(
            {"error": "invalid_grant", "error_description": "authentication failure"}, status=400
        )

    # -- REST -------------------------------------------------------------------------------------
    def _select(self, soql: str) -> list[dict[str, Any]]:
        m = _QUERY.match(soql.strip())
        assert m, f"the fake cannot read this SOQL: {soql}"
        fields = [f.strip() for f in m["fields"].split(",")]
        rows = list(self.records[m["object"]].values())
        for condition in _split_and(m["where"] or "") if m["where"] else []:
            c = _CONDITION.match(condition.strip())
            assert c, f"the fake cannot read this condition: {condition}"
            name, op, value = c[1], c[2], _literal(c[3])
            if op == "=":
                rows = [
                    r
                    for r in rows
                    if r.get(name) == value
                    or (isinstance(value, str) and str(r.get(name, "")).casefold() == value.casefold())
                ]
            elif op == "LIKE":
                pattern = _like(str(value))
                rows = [r for r in rows if pattern.match(str(r.get(name) or ""))]
            else:
                rows = [
                    r
                    for r in rows
                    if r.get(name)
                    and datetime.strptime(r[name], "%Y-%m-%dT%H:%M:%S.%f+0000").replace(tzinfo=UTC) > value
                ]
        if m["order"]:
            rows.sort(key=lambda r: str(r.get(m["order"]) or ""))
        rows = rows[: int(m["limit"])] if m["limit"] else rows
        return [
            {
                "attributes": {
                    "type": m["object"],
                    "url": f"/services/data/{self.version}/sobjects/{m['object']}/{r['Id']}",
                },
                **{f: r.get(f) for f in fields},
            }
            for r in rows
        ]

    async def _query(self, request: web.Request) -> web.Response:
        soql = request.query.get("q", "")
        refused = self._refuse(request, soql)
        if refused is not None:
            return refused
        records = self._select(soql)
        self.calls.append(Call("GET", request.path, soql, 200))
        return web.json_response({"totalSize": len(records), "done": True, "records": records})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = self._refuse(request, body)
        if refused is not None:
            return refused
        object_type = request.match_info["object"]
        if object_type == "Task" and len(str(body.get("Subject", ""))) > 255:
            self.calls.append(Call("POST", request.path, body, 400))
            return web.json_response(
                [
                    {
                        "message": "Subject: data value too large",
                        "errorCode": "STRING_TOO_LONG",
                        "fields": ["Subject"],
                    }
                ],
                status=400,
            )
        rid = self.add(object_type, **body)
        self.calls.append(Call("POST", request.path, body, 201))
        return web.json_response({"id": rid, "success": True, "errors": []}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = self._refuse(request, body)
        if refused is not None:
            return refused
        found = self.records[request.match_info["object"]].get(request.match_info["id"])
        if found is None:
            self.calls.append(Call("PATCH", request.path, body, 404))
            return web.json_response(
                [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], status=404
            )
        found.update(body, SystemModstamp=_stamp())
        self.calls.append(Call("PATCH", request.path, body, 204))
        return web.Response(status=204)
