"""Microsoft's documented Teams activities (../shared/oracles/teams/payloads/), install and roster."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from storage.models import Person, Workspace
from tests.bot.teams.conftest import BOT, TENANT, TeamsConversation, TeamsUser, count, payload, person


def redirected(activity: dict[str, Any], rep: TeamsUser) -> dict[str, Any]:
    """The documented activity, with its serviceUrl pointing at the fake connector."""
    return {**activity, "serviceUrl": rep.connector.url}


async def test_documented_personal_message(rep: TeamsUser) -> None:
    doc = payload("message-personal.json")
    resp = await rep.post(redirected(doc, rep))
    assert resp.status == 201
    sent = rep.connector.sent()
    assert len(sent) == 1 and sent[0].conversation_id == doc["conversation"]["id"]
    assert sent[0].activity_id == doc["id"]  # a reply to the message
    # "Hello Teams TestBot..." is a greeting: the welcome, with buttons to start.
    assert "closing coach" in sent[0].shown and "Start a debrief" in sent[0].shown
    megan = await person(rep.live, doc["from"]["aadObjectId"])
    assert megan is not None
    assert megan.display_name == "Megan Bowen" and megan.locale == "en"
    assert megan.timezone == "America/Los_Angeles"  # from the clientInfo entity
    async with rep.live.coach.db() as session:
        ws = await session.get(Workspace, megan.workspace_id)
    assert ws is not None and ws.platform == "teams" and ws.external_id == doc["channelData"]["tenant"]["id"]


async def test_documented_channel_mention(rep: TeamsUser) -> None:
    doc = payload("message-channel-mention.json")
    resp = await rep.post(redirected(doc, rep))
    assert resp.status == 201
    sent = rep.connector.sent()
    assert len(sent) == 1 and sent[0].conversation_id == doc["conversation"]["id"]
    assert "<at>" not in sent[0].text
    assert "personal chat" in sent[0].text  # debriefs stay private: not in a channel
    # No conversationType in this payload; a "19:" conversation id is a channel or group chat.
    assert await count(rep.live, TeamsConversation, TeamsConversation.kind == "channel") == 1


async def test_documented_bot_added_to_team(rep: TeamsUser) -> None:
    doc = payload("conversationUpdate-bot-added-to-team.json")
    resp = await rep.post(redirected(doc, rep))
    assert resp.status == 201
    async with rep.live.coach.db() as session:
        row = await session.scalar(sa.select(TeamsConversation))
    assert row is not None and row.kind == "channel" and row.installed and row.person_id is None
    assert row.conversation_id == doc["conversation"]["id"]
    sent = rep.connector.sent()
    assert len(sent) == 1 and "personal chat" in sent[0].text


async def test_documented_message_extension_invoke(rep: TeamsUser) -> None:
    doc = payload("invoke-composeExtension-fetchTask-channel.json")
    async with rep.http.post(f"{rep.live.url}/api/messages", json=redirected(doc, rep)) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["task"]["type"] == "message"
    assert "personal chat" in body["task"]["value"]
    assert rep.connector.calls == []


async def test_install_and_uninstall_keep_the_roster(rep: TeamsUser) -> None:
    added = rep.activity(type="conversationUpdate", membersAdded=[BOT])
    added.pop("textFormat")
    assert (await rep.post(added)).status == 201
    assert "closing coach" in rep.connector.sent()[0].text
    install = rep.activity(type="installationUpdate", action="add")
    assert (await rep.post(install)).status == 201
    assert len(rep.connector.sent()) == 1  # one hello per install, not two

    removed = rep.activity(type="installationUpdate", action="remove")
    assert (await rep.post(removed)).status == 201
    megan = await person(rep.live, rep.aad)
    assert megan is not None and megan.reachable is False
    async with rep.live.coach.db() as session:
        row = await session.scalar(sa.select(TeamsConversation))
    assert row is not None and row.installed is False


async def test_member_removed_from_team_stops_messages_to_them(rep: TeamsUser) -> None:
    doc = payload("conversationUpdate-bot-added-to-team.json")
    leaver = {"id": "29:leaver", "aadObjectId": "0f0f0f0f-0000-4000-8000-000000000001"}
    joined = {**redirected(doc, rep), "membersAdded": [leaver]}
    joined["channelData"] = {**doc["channelData"], "eventType": "teamMemberAdded"}
    assert (await rep.post(joined)).status == 201
    member = await person(rep.live, leaver["aadObjectId"])
    assert member is not None and member.reachable is True  # on the roster

    left = {**redirected(doc, rep), "membersAdded": None, "membersRemoved": [leaver]}
    left["channelData"] = {**doc["channelData"], "eventType": "teamMemberRemoved"}
    assert (await rep.post(left)).status == 201
    member = await person(rep.live, leaver["aadObjectId"])
    assert member is not None and member.reachable is False
    assert await count(rep.live, Person, Person.platform_user_id == leaver["aadObjectId"]) == 1
    assert TENANT  # (the fixture tenant differs from the documented one: separate workspaces)
