"""The local web chat: GET / serves one static page; its script talks JSON to /webchat/*.

The page renders every message with textContent, never innerHTML, and a strict
Content-Security-Policy forbids inline script: text a person typed can never run.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import log_messages as msg
from dialogs import conversation
from dialogs.messages import Reply
from storage import repository as repo
from storage.models import Platform

log = logging.getLogger("coach.webchat")

STATIC = Path(__file__).parent / "static"
COOKIE = "coach_webchat"
CHANNEL = "web"
WORKSPACE_ID = "local"
DEMO_PERSON = "demo:rep:1"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def setup(app: web.Application) -> None:
    app.router.add_get("/", page)
    app.router.add_get("/webchat/app.js", static_file("webchat.js", "text/javascript"))
    app.router.add_get("/webchat/app.css", static_file("webchat.css", "text/css"))
    app.router.add_post("/webchat/session", start_session)
    app.router.add_post("/webchat/messages", post_message)


def _loopback_only(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def guarded(request: web.Request) -> web.StreamResponse:
        from bot.app import SETTINGS

        if not request.app[SETTINGS].org.server.webchat_public and not _is_loopback(request.remote):
            log.warning(msg.WEBCHAT_REFUSED.format(remote=request.remote))
            raise web.HTTPForbidden(text="The web chat answers on this machine only.")
        return await handler(request)

    return guarded


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def _headers(content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


@_loopback_only
async def page(request: web.Request) -> web.StreamResponse:
    return web.Response(body=(STATIC / "webchat.html").read_bytes(),
                        headers=_headers("text/html; charset=utf-8"))


def static_file(name: str, content_type: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    body = (STATIC / name).read_bytes()

    @_loopback_only
    async def serve(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers=_headers(f"{content_type}; charset=utf-8"))

    return serve


def _check_origin(request: web.Request) -> None:
    """JSON only, same origin only: a page on another site cannot post into someone's chat."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="Send JSON.")
    origin = request.headers.get("Origin")
    if origin and origin not in (f"http://{request.host}", f"https://{request.host}"):
        raise web.HTTPForbidden(text="Cross-origin requests are refused.")


async def _person_id(request: web.Request, response_cookie: dict[str, str]) -> int:
    from bot.app import COACH, SETTINGS

    ctx = request.app[COACH]
    settings = request.app[SETTINGS]
    token = request.cookies.get(COOKIE, "")
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
        response_cookie["token"] = token
    user_id = DEMO_PERSON if settings.demo else "web:" + hashlib.sha256(token.encode()).hexdigest()
    locale = _preferred_locale(request.headers.get("Accept-Language", ""), ctx.default_locale)
    async with ctx.db() as session, session.begin():
        workspace = await repo.get_or_create_workspace(
            session=session, platform=Platform.WEB, external_id=WORKSPACE_ID, name="Web chat"
        )
        assert workspace.id is not None
        person = await repo.get_or_create_person(
            session=session, workspace_id=workspace.id, platform_user_id=user_id,
            display_name="", locale=locale,
        )
    assert person.id is not None
    return person.id


def _preferred_locale(accept: str, default: str) -> str:
    for part in accept.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in ("nl", "en"):
            return tag[:2]
    return default


def _respond(replies: list[Reply], locale: str, texts: Any, cookie: dict[str, str]) -> web.Response:
    body = {
        "locale": locale,
        "strings": {k: texts.message(locale, f"webchat_{k}") for k in ("title", "placeholder", "send", "offline")},
        "messages": [r.as_dict() for r in replies],
    }
    response = web.json_response(body, headers={"Cache-Control": "no-store"})
    if "token" in cookie:
        response.set_cookie(COOKIE, cookie["token"], httponly=True, samesite="Strict",
                            max_age=365 * 24 * 3600, path="/")
    return response


async def _locale_of(request: web.Request, person_id: int) -> str:
    from bot.app import COACH

    ctx = request.app[COACH]
    async with ctx.db() as session:
        person = await repo.get_person(session=session, person_id=person_id)
    return person.locale if person.locale in ("en", "nl") else ctx.default_locale


@_loopback_only
async def start_session(request: web.Request) -> web.StreamResponse:
    from bot.app import COACH

    _check_origin(request)
    cookie: dict[str, str] = {}
    person_id = await _person_id(request, cookie)
    replies = await conversation.welcome(ctx=request.app[COACH], person_id=person_id)
    locale = await _locale_of(request, person_id)
    return _respond(replies, locale, request.app[COACH].texts, cookie)


@_loopback_only
async def post_message(request: web.Request) -> web.StreamResponse:
    from bot.app import COACH, METRICS

    _check_origin(request)
    try:
        payload = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="Send a JSON object.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("text", ""), str):
        raise web.HTTPBadRequest(text="Send {\"text\": \"...\"}.")
    text = payload.get("text", "")
    expect = payload.get("expect")
    expect = expect if isinstance(expect, str) and len(expect) <= 100 else None
    cookie: dict[str, str] = {}
    person_id = await _person_id(request, cookie)
    ctx = request.app[COACH]
    request.app[METRICS].messages.labels(CHANNEL).inc()
    replies = await conversation.handle_message(
        ctx=ctx, person_id=person_id, channel=CHANNEL, text=text, expect=expect
    )
    for reply in replies:
        if reply.kind == "saved":
            request.app[METRICS].debriefs.labels(CHANNEL, "stored").inc()
    locale = await _locale_of(request, person_id)
    return _respond(replies, locale, ctx.texts, cookie)
