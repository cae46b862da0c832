"""A fake of the Slack Web API on port 0: records every call, can answer 429 / 500 on demand.

Point SLACK_API_URL (Settings.slack_api_url) at `fake.api_url`. It implements the methods the
coach uses: auth.test, users.info, views.open/update/publish, chat.postMessage,
conversations.open, oauth.v2.access and the files upload (v2) steps. No sleeps, no fixed port.
Opened views keep a hash, as Slack's do: views.update with another hash answers "hash_conflict".
Blocks are checked as Slack checks them: a message with more than 50 blocks, or a message or view
with a block that slack_sdk's Block Kit models refuse (unknown type, a text over its limit, more
than 25 buttons), answers "invalid_blocks".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from tests.serving import serve


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    status: int
    at: float  # time.monotonic() when it arrived
    error: str | None = None  # the error answered ({"ok": false}), None when the call succeeded
    answer: dict[str, Any] | None = None  # what a successful call answered

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def view(self) -> dict[str, Any]:
        view = self.params.get("view")
        return json.loads(view) if isinstance(view, str) else dict(view or {})

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks")
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks or [])


def blocks_refused(blocks: object, most: int) -> bool:
    """What Slack answers `invalid_blocks` for: not a list of at most `most` valid blocks."""
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    if blocks is None:
        return False
    if not isinstance(blocks, list) or len(blocks) > most:
        return True
    for raw in blocks:
        try:
            block = Block.parse(raw) if isinstance(raw, dict) else None
            if block is None:
                return True
            block.validate_json()
        except (SlackObjectFormationError, TypeError, KeyError, ValueError):
            return True
    return False


def default_user(user_id: str, team_id: str = "T111") -> dict[str, Any]:
    return {
        "id": user_id,
        "team_id": team_id,
        "name": user_id.lower(),
        "deleted": False,
        "real_name": f"Rep {user_id}",
        "tz": "Europe/Amsterdam",
        "locale": "en-US",
        "profile": {"real_name": f"Rep {user_id}", "email": f"{user_id.lower()}@example.com"},
    }


@dataclass
class FakeSlackApi:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # token -> team id, for auth.test (several workspaces)
    teams: dict[str, str] = field(default_factory=lambda: {"xoxb-test": "T111"})
    oauth_team: str = "T222"
    delay: float = 0.0  # seconds each answer waits (a slower Slack)
    _failures: dict[str, list[tuple[int, dict[str, str], str | None]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Condition | None = None
    _socket: web.WebSocketResponse | None = None
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    view_hashes: dict[str, str] = field(default_factory=dict)  # open view id -> its current hash

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def fail_next(
        self, method: str, status: int, *, times: int = 1, retry_after: str | None = None,
        error: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with `status` and `{"ok": false}`; `error` names
        Slack's error (else "ratelimited" for 429, "fatal_error" otherwise; Slack answers its
        permanent errors, "channel_not_found" say, with HTTP 200)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._failures.setdefault(method, []).extend([(status, headers, error)] * times)

    def recover(self) -> None:
        """Answer every call normally again (drop the failures still queued)."""
        self._failures.clear()

    def to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    async def wait_for(
        self, method: str, count: int = 1, within: float = 5.0, *, ok_only: bool = True
    ) -> list[Call]:
        """The first `count` successful calls of `method` (any calls: ok_only=False), waiting for
        them to arrive."""
        assert self._arrived is not None
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.to(method, ok_only=ok_only)) >= count), within
            )
        return self.to(method, ok_only=ok_only)[:count]

    # -- server -------------------------------------------------------------------------------
    async def start(self) -> FakeSlackApi:
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket_mode)
        app.router.add_get("/stats", self._stats)
        app.router.add_get("/opened", self._opened)
        self._runner, self.url = await serve(app)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                params.update(json.loads(raw))
            elif request.content_type == "application/x-www-form-urlencoded":
                params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        return params

    # -- Socket Mode: apps.connections.open hands out ws://.../socket; envelopes go down it ----------
    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        await self._record("socket.connected", {}, None, 200)
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                await self._record("socket.ack", json.loads(message.data), None, 200)
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Push one Socket Mode envelope (slash_commands, interactive, events_api) to the app."""
        assert self._socket is not None, "no Socket Mode connection"
        envelope_id = f"env-{next(self._ids)}"
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
        )
        return envelope_id

    async def _stats(self, _: web.Request) -> web.Response:
        """Successful calls per method (for benchmarks that run the fake in another process)."""
        counts: dict[str, int] = {}
        for call in self.calls:
            if call.ok:
                counts[call.method] = counts.get(call.method, 0) + 1
        return web.json_response(counts)

    async def _opened(self, _: web.Request) -> web.Response:
        """The views opened (views.open) with their trigger ids, for benchmarks in another process
        that submit the view the bot really opened, as Slack would."""
        opened = [
            {"trigger_id": call.params.get("trigger_id"), "view": call.view}
            for call in self.calls
            if call.method == "views.open" and call.ok
        ]
        return web.json_response(opened)

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        await self._record("upload", {"file_id": request.match_info["file_id"], "body": body}, None, 200)
        return web.Response(text="OK")

    async def _record(
        self, method: str, params: dict[str, Any], token: str | None, status: int, error: str | None = None,
        answer: dict[str, Any] | None = None,
    ) -> None:
        assert self._arrived is not None
        async with self._arrived:
            self.calls.append(Call(method, params, token, status, time.monotonic(), error, answer))
            self._arrived.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        if self.delay:
            await asyncio.sleep(self.delay)
        queued = self._failures.get(method)
        if queued:
            status, headers, named = queued.pop(0)
            error = named or ("ratelimited" if status == 429 else "fatal_error")
            await self._record(method, params, token, status, error)
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        answer = self._answer(method, params, token)
        # A view's or a message's refusal counts as a failed call (to() leaves it out)
        refused = method.startswith("views.") or answer.get("error") == "invalid_blocks"
        error = str(answer.get("error")) if refused and not answer.get("ok") else None
        await self._record(method, params, token, 200, error, answer=answer)
        return web.json_response(answer)

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        n = next(self._ids)
        if method == "auth.test":
            team = self.teams.get(token or "")
            if team is None:
                return {"ok": False, "error": "invalid_auth"}
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "coach",
                "team_id": team,
                "user_id": "UBOT",
                "bot_id": "BBOT",
            }
        if method == "users.info":
            user_id = str(params.get("user"))
            return {"ok": True, "user": self.users.get(user_id) or default_user(user_id)}
        if method in ("views.open", "views.update", "views.publish"):
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if blocks_refused((view or {}).get("blocks"), 100):
                return {"ok": False, "error": "invalid_blocks"}
            view_id = f"V{n:06d}"
            if method == "views.update":
                view_id = str(params.get("view_id"))
                if view_id not in self.view_hashes:
                    return {"ok": False, "error": "not_found"}
                if params.get("hash") and params["hash"] != self.view_hashes[view_id]:
                    return {"ok": False, "error": "hash_conflict"}
            self.view_hashes[view_id] = f"{n}.hash"
            return {"ok": True, "view": {**(view or {}), "id": view_id, "hash": f"{n}.hash"}}
        if method == "chat.postMessage":
            if blocks_refused(params.get("blocks"), 50):
                return {"ok": False, "error": "invalid_blocks"}
            channel = str(params.get("channel"))
            dm = "D" + channel[1:] if channel.startswith(("U", "W")) else channel
            return {
                "ok": True,
                "channel": dm,
                "ts": f"{time.time():.6f}",
                "message": {"text": params.get("text"), "blocks": params.get("blocks")},
            }
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))[1:]}}
        if method == "oauth.v2.access":
            self.teams[f"xoxb-{self.oauth_team}"] = self.oauth_team
            return {
                "ok": True,
                "access_token": f"xoxb-{self.oauth_team}",
                "token_type": "bot",
                "scope": "commands,chat:write",
                "bot_user_id": "UBOT2",
                "app_id": "A111",
                "team": {"id": self.oauth_team, "name": "Other Co"},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": "U900"},
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.url}/upload/F{n}", "file_id": f"F{n}"}
        if method == "files.completeUploadExternal":
            return {
                "ok": True,
                "files": [{"id": f["id"]} for f in json.loads(str(params.get("files", "[]")))],
            }
        return {"ok": False, "error": "unknown_method"}
