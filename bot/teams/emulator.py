"""Who may use POST /api/messages in Emulator mode (no app id, so no token to check).

Only the Bot Framework Emulator on this machine: a loopback client, a loopback Host (a DNS-rebinding
page names its own host), a JSON body (a cross-site form or `text/plain` post is not), no Origin
(the Emulator is not a browser page; a page always sends one on a cross-origin POST), and a
loopback serviceUrl (replies go to the Emulator, never to a server the caller names).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web

from bot import log_messages as msg

log = logging.getLogger("coach.teams")

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str | None) -> bool:
    """A Host header of localhost, 127.0.0.1 or [::1], with any port (or none)."""
    if not host:
        return False
    try:
        parts = urlsplit(f"//{host}")
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    return parts.username is None and (parts.hostname or "") in LOOPBACK_NAMES


def is_loopback_service_url(url: object) -> bool:
    """http://localhost:*, http://127.0.0.1:* or http://[::1]:* (where the Emulator listens)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
    except ValueError:
        return False
    return (parts.scheme == "http" and parts.username is None and parts.password is None
            and (parts.hostname or "") in LOOPBACK_NAMES)


async def check_emulator_request(request: web.Request) -> None:
    """Raise the refusal for anything but the local Emulator; return when it may be served."""
    refusal = _refusal(request)
    if refusal is None:
        try:
            activity = json.loads(await request.read())
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise web.HTTPBadRequest(text="the body is not a JSON activity") from None
        service_url = activity.get("serviceUrl") if isinstance(activity, dict) else None
        if is_loopback_service_url(service_url):
            return
        refusal = web.HTTPForbidden(text="Emulator mode: the serviceUrl must be a loopback http:// URL")
        reason = f"serviceUrl {str(service_url)[:100]!r}"
    else:
        reason = refusal.text or ""
    log.warning(msg.TEAMS_REFUSED.format(remote=request.remote, reason=reason))
    raise refusal


def _refusal(request: web.Request) -> web.HTTPException | None:
    if not is_loopback(request.remote):
        return web.HTTPUnauthorized(text="Emulator mode: loopback clients only")
    if not is_loopback_host(request.headers.get("Host")):
        return web.HTTPForbidden(text="Emulator mode: the Host must be localhost, 127.0.0.1 or [::1]")
    if "Origin" in request.headers:
        return web.HTTPForbidden(text="Emulator mode: no browser page may post activities (Origin)")
    if request.content_type != "application/json":
        return web.HTTPUnsupportedMediaType(text="Emulator mode: Content-Type must be application/json")
    return None
