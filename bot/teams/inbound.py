"""What POST /api/messages takes before botbuilder sees it: a Bot Framework activity.

botbuilder deserializes whatever JSON arrives and the turn then assumes an activity's basics are
there (who sent it, in which conversation, where to answer): without them a request would fail
inside the turn. So the JSON must be an object with a type, an http(s) serviceUrl, `from` and
`conversation` accounts with ids, strings where the schema has strings, and must deserialize as
an Activity; else MalformedBody (400).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from botbuilder.schema import Activity

from bot.request_guard import MalformedBody, json_body


async def read_activity(request: web.Request) -> None:
    """Check the request's body is an activity botbuilder can take (it reads the body again)."""
    if "application/json" not in request.headers.get("Content-Type", ""):
        raise MalformedBody("not JSON", status=415)
    check_activity(await json_body(request))


_OBJECT_LISTS = ("entities", "membersAdded", "membersRemoved", "attachments", "reactionsAdded",
                 "reactionsRemoved")
_OBJECT_FIELDS = ("channelData", "recipient")
_TEXT_FIELDS = ("id", "channelId", "text", "replyToId", "locale", "name", "textFormat", "timestamp")


def check_activity(body: Any) -> None:
    if not isinstance(body, dict):
        raise MalformedBody("not a JSON object")
    kind, service_url = body.get("type"), body.get("serviceUrl")
    if not isinstance(kind, str) or not kind:
        raise MalformedBody("no activity type")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        raise MalformedBody("no serviceUrl")
    for key in _TEXT_FIELDS:  # msrest would turn a number or an object into its str()
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise MalformedBody(f"{key} is not a string")
    for key in _OBJECT_FIELDS:  # botbuilder reads these as objects (Teams' channel data, the bot)
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise MalformedBody(f"{key} is not an object")
    for key in _OBJECT_LISTS:
        items = body.get(key)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            raise MalformedBody(f"{key} is not a list of objects")
    if not all(isinstance(e.get("type"), str) for e in body.get("entities") or []):
        raise MalformedBody("an entity without a type")  # botbuilder lowercases every entity's type
    if kind == "invoke" and body.get("value") is not None and not isinstance(body["value"], dict):
        raise MalformedBody("an invoke's value is not an object")
    for key in ("from", "conversation"):
        account = body.get(key)
        if not isinstance(account, dict) or not isinstance(account.get("id"), str) or not account["id"]:
            raise MalformedBody(f"no {key} id")
    try:
        Activity().deserialize(body)
    except ValueError as exc:  # msrest's DeserializationError: a field of the wrong type
        raise MalformedBody(f"not an activity: {str(exc)[:100]}") from None
