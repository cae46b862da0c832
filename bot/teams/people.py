"""Who sent a Teams activity, and where the coach can reach them later.

Every activity refreshes the person (tenant -> workspace, AAD object id -> person, language and
timezone from the Teams client) and the conversation reference. One read answers the common case
(nothing changed); the write transaction runs only when something is new or different, so busy
chats do not queue behind each other on the database.

That read runs on every activity, so it is one prebuilt statement (teams_store.PERSON_LOOKUP). On a
SQLite file it goes through a dedicated read-only connection (storage/sqlite_reader.py); anything
it cannot answer falls back to the session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.schema import Activity, ChannelAccount

from bot import log_messages as msg
from dialogs.context import CoachContext
from storage import teams_store
from storage.people import get_or_create_person, get_or_create_workspace, update_person
from storage.sqlite_reader import NO_ANSWER, PersonReadConnection

PLATFORM = "teams"
log = logging.getLogger("coach.teams")


@dataclass(frozen=True)
class TeamsPerson:
    """The person behind an activity, after this turn's bookkeeping."""

    person_id: int
    locale: str
    timezone: str


def teams_locale(raw: str | None) -> str | None:
    """'nl-NL' -> 'nl'; None for a language the coach does not speak."""
    lang = (raw or "").split("-")[0].lower()
    return lang if lang in ("en", "nl") else None


def client_timezone(activity: Activity) -> str | None:
    """The IANA timezone of the Teams client (its clientInfo entity), if it names a real one."""
    for entity in activity.entities or []:
        props = getattr(entity, "additional_properties", None) or {}
        if getattr(entity, "type", None) == "clientInfo" and isinstance(props.get("timezone"), str):
            try:
                ZoneInfo(props["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                return None
            return str(props["timezone"])
    return None


def tenant_of(activity: Activity) -> str:
    tenant = getattr(activity.conversation, "tenant_id", None) if activity.conversation else None
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = tenant or (data.get("tenant") or {}).get("id")
    return str(tenant or f"{activity.channel_id or 'unknown'}:no-tenant")


def conversation_kind(activity: Activity) -> str:
    """personal, groupChat or channel. Some documented activities omit conversationType; Teams
    group and channel conversation ids start with "19:", personal chats with "a:"."""
    conversation = activity.conversation
    if conversation is None:
        return "personal"
    if conversation.conversation_type:
        return str(conversation.conversation_type)
    return "channel" if (conversation.id or "").startswith("19:") else "personal"


def user_key(account: ChannelAccount) -> str:
    """AAD object id when Teams gives one (stable across bots, what app.yaml names), else the id."""
    return str(getattr(account, "aad_object_id", None) or account.id)


def reference_of(activity: Activity) -> dict[str, Any]:
    """The conversation reference to continue later (ConversationReference's JSON, as botbuilder's
    get_conversation_reference builds it), without the message id: every message changes it, and a
    proactive message must not reply to it."""
    conversation = activity.conversation
    reference = {
        "user": _account(activity.from_property),
        "bot": _account(activity.recipient),
        "conversation": _drop_none({
            "isGroup": conversation.is_group, "conversationType": conversation.conversation_type,
            "id": conversation.id, "name": conversation.name, "tenantId": conversation.tenant_id,
        }),
        "channelId": activity.channel_id,
        "locale": activity.locale,
        "serviceUrl": activity.service_url,
    }
    return _drop_none(reference)


def _account(account: ChannelAccount | None) -> dict[str, Any] | None:
    if account is None:
        return None
    return _drop_none({"id": account.id, "name": account.name, "aadObjectId": account.aad_object_id,
                       "role": account.role})


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _lookup_params(f: _ActivityProfile) -> dict[str, str]:
    return {"conversation_id": f.conversation_id, "platform": PLATFORM, "tenant": f.tenant, "user": f.user}


def _lookup_failed(exc: Exception) -> None:
    log.warning(msg.TEAMS_LOOKUP_OFF.format(error=exc))


async def open_person_reader(database_url: str) -> PersonReadConnection | None:
    """The dedicated read connection for a SQLite file (storage/sqlite_reader.py), else None."""
    return await PersonReadConnection.open(database_url, on_failure=_lookup_failed)


async def remember(ctx: CoachContext, activity: Activity, account: ChannelAccount | None = None,
                   *, lookup: PersonReadConnection | None = None) -> TeamsPerson:
    user = account or activity.from_property or ChannelAccount(id="unknown")
    kind = conversation_kind(activity)
    facts = _ActivityProfile(
        tenant=tenant_of(activity), user=user_key(user), name=(user.name or "")[:200],
        locale=teams_locale(activity.locale), client_locale=activity.locale,
        zone=client_timezone(activity), kind=kind, conversation_id=activity.conversation.id,
        service_url=activity.service_url or "", reference=reference_of(activity),
    )
    known = await _read(ctx, facts, lookup)
    if known is not None:
        return known
    return await _write(ctx, facts)


@dataclass(frozen=True)
class _ActivityProfile:
    tenant: str
    user: str
    name: str
    locale: str | None
    client_locale: str | None
    zone: str | None
    kind: str
    conversation_id: str
    service_url: str
    reference: dict[str, Any]


async def _read(
    ctx: CoachContext, f: _ActivityProfile, lookup: PersonReadConnection | None = None
) -> TeamsPerson | None:
    """The person as stored, if nothing about them or this conversation needs writing."""
    params = _lookup_params(f)
    row: Any = await lookup.row(params) if lookup is not None else NO_ANSWER
    if row is NO_ANSWER:
        async with ctx.db() as session:
            row = await teams_store.lookup_person(session=session, params=params)
    if row is None:
        return None
    pid, locale, zone, reachable, conv_person, reference, installed, client_locale, client_zone = row
    personal = f.kind == "personal"
    unchanged = (
        reference == f.reference and installed
        and (not personal or (reachable and conv_person == pid))
        and (f.client_locale is None or client_locale == f.client_locale)
        and (f.zone is None or client_zone == f.zone)
        and (locale is not None or f.locale is None)
        and (zone is not None or f.zone is None)
    )
    if not unchanged:
        return None
    return TeamsPerson(pid, locale or ctx.default_locale, zone or ctx.default_timezone)


async def _write(ctx: CoachContext, f: _ActivityProfile) -> TeamsPerson:
    async with ctx.db() as session, session.begin():
        ws = await get_or_create_workspace(session=session, platform=PLATFORM, external_id=f.tenant)
        assert ws.id is not None
        person = await get_or_create_person(
            session=session, workspace_id=ws.id, platform_user_id=f.user, display_name=f.name,
            locale=f.locale or ctx.default_locale, timezone=f.zone,
        )
        assert person.id is not None
        before = await teams_store.save_conversation(
            session=session, workspace_id=ws.id, person_id=person.id if f.kind == "personal" else None,
            conversation_id=f.conversation_id, kind=f.kind, service_url=f.service_url,
            reference=f.reference, client_locale=f.client_locale, client_timezone=f.zone,
        )
        updates: dict[str, Any] = {}
        if f.kind == "personal" and not person.reachable:
            updates["reachable"] = True  # they wrote to us: reachable again
        # Follow the Teams client's language and timezone when they change there (or were never
        # known); a `language` command in between stays in force until they do.
        if f.locale and (person.locale is None or (before is not None and before[0] != f.client_locale)):
            updates["locale"] = f.locale
        if f.zone and (person.timezone is None or (before is not None and before[1] != f.zone)):
            updates["timezone"] = f.zone
        if updates:
            await update_person(session=session, person_id=person.id, **updates)
    return TeamsPerson(person.id, updates.get("locale", person.locale) or ctx.default_locale,
               updates.get("timezone", person.timezone) or ctx.default_timezone)


async def leave(ctx: CoachContext, activity: Activity, account: ChannelAccount) -> None:
    """Someone left the team: they stay on the roster, but the coach stops writing to them."""
    async with ctx.db() as session, session.begin():
        ws = await get_or_create_workspace(session=session, platform=PLATFORM,
                                                external_id=tenant_of(activity))
        assert ws.id is not None
        person = await get_or_create_person(session=session, workspace_id=ws.id,
                                                 platform_user_id=user_key(account))
        assert person.id is not None
        await update_person(session=session, person_id=person.id, reachable=False)


async def uninstalled(ctx: CoachContext, conversation_id: str) -> None:
    """The app was removed from a conversation; a personal chat's person becomes unreachable."""
    async with ctx.db() as session, session.begin():
        person_id = await teams_store.set_installed(session=session, conversation_id=conversation_id,
                                                    installed=False)
        if person_id is not None:
            await update_person(session=session, person_id=person_id, reachable=False)
