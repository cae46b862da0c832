"""The local web chat: GET / serves one static page; its script talks JSON to /webchat/*.

The page renders every message with textContent, never innerHTML, and a strict
Content-Security-Policy forbids inline script: text a person typed can never run.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bot import log_messages as msg
from bot.delivery import register_sender
from bot.escape import for_web
from bot.keys import COACH, METRICS, SETTINGS, TEXTS
from bot.request_guard import MalformedBody, json_body, refused
from bot.webchat.inbox import WebChatSender, unseen_messages
from dialogs import button_press, conversation
from dialogs.account_suggestions import suggest_accounts
from dialogs.context import CoachContext
from dialogs.messages import Reply
from dialogs.text import LOCALES
from storage import directory
from storage.models import Platform, not_null
from storage.people import get_or_create_person, get_or_create_workspace

log = logging.getLogger("coach.webchat")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATIC = Path(__file__).parent / "static"
COOKIE = "coach_webchat"
CHANNEL = "web"
WORKSPACE_ID = "local"
DEMO_PERSON = "demo:rep:1"
EXPECT_LIMIT = 100
# The strings the page itself shows (title, composer), sent with every answer as webchat_<key>.
UI_STRINGS = ("title", "placeholder", "send", "offline", "label", "suggestions")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Names a browser on this machine uses for it; any other Host header on a loopback-only chat is
# a DNS-rebinding page pretending to be same-origin.
_LOCAL_HOSTNAMES = {"localhost", "localhost.localdomain"}


def setup(app: web.Application) -> None:
    app.router.add_get("/", page)
    app.router.add_get("/webchat/app.js", static_file("webchat.js", "text/javascript"))
    app.router.add_get("/webchat/app.css", static_file("webchat.css", "text/css"))
    app.router.add_post("/webchat/session", start_session)
    app.router.add_post("/webchat/messages", post_message)
    app.router.add_get("/webchat/inbox", _loopback_only(poll))
    app.router.add_get("/webchat/accounts", accounts)
    register_sender(app, WebChatSender(app))


# -- who may talk to the web chat -------------------------------------------------------------------
def _coach(request: web.Request) -> CoachContext:
    return request.app[COACH]


def _public(request: web.Request) -> bool:
    return request.app[SETTINGS].org.server.webchat_public


def _refusal(request: web.Request, key: str) -> str:
    """A refusal in the visitor's language (they may not have a person row yet)."""
    default = request.app[SETTINGS].org.default_locale
    locale = preferred_locale(request.headers.get("Accept-Language", ""), default)
    return request.app[TEXTS].message(locale, key)


def _loopback_only(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not _public(request) and not (_is_loopback(request.remote) and _is_local_host(request.host)):
            log.warning(msg.WEBCHAT_REFUSED.format(remote=request.remote))
            raise web.HTTPForbidden(text=_refusal(request, "webchat_local_only"))
        return await handler(request)

    return guarded


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def _is_local_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name.startswith("[") and "]" in name:  # [::1]:3978
        name = name[1 : name.index("]")]
    return name.casefold() in _LOCAL_HOSTNAMES or _is_loopback(name)


def _check_origin(request: web.Request) -> None:
    """JSON only, same origin only: a page on another site cannot post into someone's chat."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text=_refusal(request, "webchat_json_only"))
    origin = request.headers.get("Origin")
    if origin is not None and origin not in (f"http://{request.host}", f"https://{request.host}"):
        log.warning(msg.WEBCHAT_CROSS_ORIGIN.format(origin=origin[:100]))
        raise web.HTTPForbidden(text=_refusal(request, "webchat_cross_origin"))


# -- the page and its two files ---------------------------------------------------------------------
def _headers(content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


@_loopback_only
async def page(request: web.Request) -> web.StreamResponse:
    """The page, its few words already in the browser's language (the first answer may switch it)."""
    default = request.app[SETTINGS].org.default_locale
    locale = preferred_locale(request.headers.get("Accept-Language", ""), default)
    html = (STATIC / "webchat.html").read_text(encoding="utf-8").replace("@@lang@@", locale)
    for key in UI_STRINGS:
        html = html.replace(f"@@{key}@@", for_web(request.app[TEXTS].message(locale, f"webchat_{key}")))
    return web.Response(text=html, headers=_headers("text/html; charset=utf-8"))


def static_file(name: str, content_type: str) -> Handler:
    body = (STATIC / name).read_bytes()

    @_loopback_only
    async def serve(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers=_headers(f"{content_type}; charset=utf-8"))

    return serve


# -- identity and language ----------------------------------------------------------------------------
async def _visitor(request: web.Request, new_cookie: dict[str, str]) -> tuple[int, str]:
    """The visitor's person id and language, keyed by a hash of their cookie (everyone is the demo
    rep in --demo). A read; the rows are created only on a first visit."""
    ctx = _coach(request)
    token = request.cookies.get(COOKIE, "")
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
        new_cookie["token"] = token
    user_id = _user_id(request, token)
    async with ctx.db() as session:
        visitor = await directory.web_visitor(session=session, workspace=WORKSPACE_ID, user_id=user_id)
    if visitor is not None:
        person_id, stored = visitor.id, visitor.locale
    else:
        locale = preferred_locale(request.headers.get("Accept-Language", ""), ctx.default_locale)
        async with ctx.db() as session, session.begin():
            workspace = await get_or_create_workspace(
                session=session, platform=Platform.WEB, external_id=WORKSPACE_ID, name="Web chat"
            )
            person = await get_or_create_person(
                session=session, workspace_id=not_null(workspace.id), platform_user_id=user_id,
                display_name="", locale=locale,
            )
        person_id, stored = not_null(person.id), person.locale
    return person_id, stored if stored in LOCALES else ctx.default_locale


def _user_id(request: web.Request, token: str) -> str:
    return DEMO_PERSON if request.app[SETTINGS].demo else "web:" + hashlib.sha256(token.encode()).hexdigest()


async def _known_visitor(request: web.Request) -> int | None:
    """The person behind the cookie, if the chat knows them already; never creates a row."""
    token = request.cookies.get(COOKIE, "")
    if len(token) < 32:
        return None
    async with _coach(request).db() as session:
        visitor = await directory.web_visitor(
            session=session, workspace=WORKSPACE_ID, user_id=_user_id(request, token))
    return None if visitor is None else visitor.id


def preferred_locale(accept: str, default: str) -> str:
    """The first language of an Accept-Language header that the coach speaks, by quality."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0].casefold()
        if primary in LOCALES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else default


def _locale_after(replies: list[Reply], locale: str, default: str) -> str:
    """The page's language after these replies: a language change says so in its reply's meta;
    after `forget` the person is gone and the page falls back to the default."""
    for reply in replies:
        if reply.meta.get("forgotten"):
            return default
        if reply.meta.get("locale") in LOCALES:
            locale = str(reply.meta["locale"])
    return locale


def _with_file(reply: Reply) -> dict[str, object]:
    """A Reply's file (the digest chart, an export: see dialogs.digest_render) as a data: URL."""
    body = reply.as_dict()
    file = reply.attachment
    if file is not None:
        data = base64.b64encode(file.content).decode()
        body["attachment"] = {"filename": file.filename, "title": file.title,
                              "mime_type": file.mime_type,
                              "url": f"data:{file.mime_type};base64,{data}"}
    return body


def _respond(
    replies: list[Reply], locale: str, ctx: CoachContext, new_cookie: dict[str, str]
) -> web.Response:
    body = {
        "locale": locale,
        "strings": {key: ctx.texts.message(locale, f"webchat_{key}") for key in UI_STRINGS},
        "messages": [_with_file(r) for r in replies],
    }
    response = web.json_response(body, headers={"Cache-Control": "no-store"})
    if "token" in new_cookie:
        response.set_cookie(COOKIE, new_cookie["token"], httponly=True, samesite="Strict",
                            max_age=365 * 24 * 3600, path="/")
    return response


# -- the two JSON endpoints -------------------------------------------------------------------------
@_loopback_only
async def start_session(request: web.Request) -> web.StreamResponse:
    _check_origin(request)
    ctx = _coach(request)
    new_cookie: dict[str, str] = {}
    person_id, locale = await _visitor(request, new_cookie)
    replies = await conversation.welcome(ctx=ctx, person_id=person_id, channel=CHANNEL)
    return _respond(replies, locale, ctx, new_cookie)


@_loopback_only
async def post_message(request: web.Request) -> web.StreamResponse:
    _check_origin(request)
    try:
        payload = await json_body(request)
    except MalformedBody as exc:
        refused(request, exc)
        if exc.status == 415:
            raise web.HTTPUnsupportedMediaType(text=_refusal(request, "webchat_bad_charset")) from None
        raise web.HTTPBadRequest(text=_refusal(request, "webchat_bad_request")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("text", ""), str):
        raise web.HTTPBadRequest(text=_refusal(request, "webchat_bad_request"))
    text = payload.get("text", "")
    expect = payload.get("expect")
    expect = expect if isinstance(expect, str) and len(expect) <= EXPECT_LIMIT else None
    command = payload.get("command") is True  # a button that is a command, not an answer
    ctx = _coach(request)
    new_cookie: dict[str, str] = {}
    person_id, locale = await _visitor(request, new_cookie)
    metrics = request.app[METRICS]
    metrics.messages.labels(CHANNEL).inc()
    if command:
        replies = await button_press.press_command(ctx=ctx, person_id=person_id, channel=CHANNEL, value=text)
    elif expect is not None:
        replies = await button_press.press_answer(
            ctx=ctx, person_id=person_id, channel=CHANNEL, value=text, expect=expect)
    else:
        replies = await conversation.reply_to(ctx=ctx, person_id=person_id, channel=CHANNEL, text=text)
    if any(reply.kind == "saved" for reply in replies):
        metrics.debriefs.labels(CHANNEL, "stored").inc()
    return _respond(replies, _locale_after(replies, locale, ctx.default_locale), ctx, new_cookie)


async def poll(request: web.Request) -> web.StreamResponse:
    """GET /webchat/inbox: what the coach sent this visitor since the last poll (nudges, prompts)."""
    if len(request.cookies.get(COOKIE, "")) < 32:
        return web.json_response({"messages": []}, headers={"Cache-Control": "no-store"})
    person_id, _ = await _visitor(request, {})
    messages = await unseen_messages(_coach(request), person_id)
    return web.json_response({"messages": messages}, headers={"Cache-Control": "no-store"})


@_loopback_only
async def accounts(request: web.Request) -> web.StreamResponse:
    """GET /webchat/accounts?q=<what is typed>: the visitor's own customers matching it (see
    dialogs.account_suggestions). Same origin only; without a known cookie, nothing."""
    origin = request.headers.get("Origin")
    cross_site = request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none")
    if cross_site or (origin is not None and origin not in (f"http://{request.host}", f"https://{request.host}")):
        log.warning(msg.WEBCHAT_CROSS_ORIGIN.format(origin=(origin or "?")[:100]))
        raise web.HTTPForbidden(text=_refusal(request, "webchat_cross_origin"))
    person_id = await _known_visitor(request)
    found = None
    if person_id is not None:
        found = await suggest_accounts(ctx=_coach(request), person_id=person_id, channel=CHANNEL,
                                       typed=request.query.get("q", ""))
    body = {"names": list(found.names) if found else [], "prefix": found.prefix if found else "",
            "complete": bool(found and found.complete)}
    return web.json_response(body, headers={"Cache-Control": "no-store"})
