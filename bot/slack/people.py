"""Slack users as our people: workspace by team id, profile from users.info (cached in the row).

The profile (name, timezone, language) is read from `users.info` the first time we meet a person
and again once it is older than PROFILE_TTL. A deleted (deactivated) user is marked unreachable
and is never messaged again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg
from dialogs.context import CoachContext
from storage import directory
from storage.models import Person, Platform
from storage.people import get_or_create_person, get_or_create_workspace, update_person

log = logging.getLogger("coach.slack")

PROFILE_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class SlackUser:
    """Who sent a request: their workspace (team) and user id in it."""

    team_id: str
    user_id: str


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a request belongs to (enterprise-wide installs use the user's team)."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return body.get("team_id") or None


def locale_of(slack_locale: str | None) -> str | None:
    """Slack's "nl-NL" / "en-US" as our en / nl; None for languages we don't speak."""
    code = (slack_locale or "").split("-")[0].lower()
    return code if code in ("en", "nl") else None


def _zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def profile_fields(user: dict[str, Any], person: Person) -> dict[str, Any]:
    """The Person columns a users.info answer sets. A language the rep chose is kept."""
    profile = user.get("profile") or {}
    name = profile.get("real_name") or user.get("real_name") or user.get("name") or person.display_name
    fields: dict[str, Any] = {"display_name": str(name)[:200], "reachable": not user.get("deleted", False)}
    zone = _zone(user.get("tz"))
    if zone:
        fields["timezone"] = zone
    locale = locale_of(user.get("locale"))
    if locale and person.locale is None:
        fields["locale"] = locale
    if profile.get("email") and not person.email:
        fields["email"] = str(profile["email"])[:320]
    return fields


class RecentPeople:
    """People this process resolved in the last few seconds, so a burst of clicks and commands
    costs no database read each. Only a read cache: the row stays the truth, and the entries are
    young enough that a change made through another replica shows within `ttl` seconds."""

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._rows: OrderedDict[SlackUser, tuple[float, Person]] = OrderedDict()
        self._by_id: dict[int, SlackUser] = {}
        self.pending: dict[SlackUser, asyncio.Future[Person]] = {}

    def get(self, who: SlackUser) -> Person | None:
        hit = self._rows.get(who)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return hit[1]

    def put(self, who: SlackUser, person: Person) -> None:
        self._rows[who] = (time.monotonic(), person)
        self._rows.move_to_end(who)
        if person.id is not None:
            self._by_id[person.id] = who
        while len(self._rows) > self.size:
            _, (_, old) = self._rows.popitem(last=False)
            self._by_id.pop(old.id or 0, None)

    def forget(self, who: SlackUser) -> None:
        hit = self._rows.pop(who, None)
        if hit is not None:
            self._by_id.pop(hit[1].id or 0, None)

    def who(self, person_id: int) -> SlackUser | None:
        """The Slack user of a person resolved recently (their team and user id)."""
        return self._by_id.get(person_id)

    def forget_id(self, person_id: int) -> None:
        who = self._by_id.pop(person_id, None)
        if who is not None:
            self._rows.pop(who, None)


async def resolve_person(
    *,
    ctx: CoachContext,
    client: AsyncWebClient,
    who: SlackUser,
    now: datetime | None = None,
    recent: RecentPeople | None = None,
) -> Person:
    """Our Person for this Slack user, created on first contact, profile refreshed when stale."""
    now = now or ctx.clock()
    cached = recent.get(who) if recent is not None else None
    if (
        cached is not None
        and cached.profile_synced_at is not None
        and now - cached.profile_synced_at < PROFILE_TTL
    ):
        return cached
    if recent is None:
        return await _load_person(ctx=ctx, who=who, now=now, client=client)
    # One lookup per person at a time: a burst of requests from someone new (or whose entry just
    # expired) waits for the first one's answer instead of each calling users.info.
    pending = recent.pending.get(who)
    if pending is None:
        pending = asyncio.ensure_future(_load_person(ctx=ctx, who=who, now=now, client=client))
        recent.pending[who] = pending
        pending.add_done_callback(lambda done: _settle(recent, who, done))
    return await asyncio.shield(pending)


def _settle(recent: RecentPeople, who: SlackUser, done: asyncio.Future[Person]) -> None:
    recent.pending.pop(who, None)
    if not done.cancelled() and done.exception() is None:
        recent.put(who, done.result())


async def _load_person(*, ctx: CoachContext, client: AsyncWebClient, who: SlackUser, now: datetime) -> Person:
    async with ctx.db() as session:
        # Known people (nearly every request) cost one read; only a first contact writes.
        person = await directory.slack_person(session=session, team_id=who.team_id, user_id=who.user_id)
    if person is None:
        async with ctx.db() as session, session.begin():
            ws = await get_or_create_workspace(
                session=session, platform=Platform.SLACK, external_id=who.team_id
            )
            assert ws.id is not None
            person = await get_or_create_person(
                session=session, workspace_id=ws.id, platform_user_id=who.user_id
            )
    synced = person.profile_synced_at
    if synced is not None and now - synced < PROFILE_TTL:
        return person
    try:
        answer = await client.users_info(user=who.user_id, include_locale=True)
    except SlackApiError as exc:
        log.warning(msg.SLACK_PROFILE_FAILED.format(user=who.user_id, error=exc.response.get("error")))
        return person
    user = answer.get("user") or {}
    fields = profile_fields(user, person)
    assert person.id is not None
    async with ctx.db() as session, session.begin():
        await update_person(session=session, person_id=person.id, **fields)
        await directory.mark_synced(session=session, person_id=person.id, when=now)
    for key, value in fields.items():
        setattr(person, key, value)
    person.profile_synced_at = now
    return person


async def mark_departed(*, ctx: CoachContext, team_id: str, user_id: str) -> bool:
    """A deactivated or deleted user: never message them again. True if we knew them."""
    async with ctx.db() as session, session.begin():
        return await directory.mark_slack_user_departed(session=session, team_id=team_id, user_id=user_id)
