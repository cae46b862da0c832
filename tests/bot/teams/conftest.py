"""Teams fixtures: the fake connector, Teams-shaped activities, and a client that POSTs them."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
import sqlalchemy as sa

from bot.config import OrgConfig, ServerConfig, Settings
from storage.models import Debrief, Person
from storage.teams_store import TeamsConversation
from tests.conftest import LiveApp, shared_path
from tests.factories import make_settings
from tests.fakes.connector import FakeConnector, start_connector

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": "28:c9e8c047-2a74-40a2-b28a-b162d5f5327c", "name": "Closing Coach"}


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig) -> Settings:
    """Teams tests talk to the app as the local Emulator does: turned on explicitly (no app id)."""
    return make_settings(tmp_path, org=emulator_on(org))


def emulator_on(org: OrgConfig) -> OrgConfig:
    server = ServerConfig(**{**org.server.model_dump(), "teams_emulator": True})
    return org.model_copy(update={"server": server})


@pytest.fixture(scope="module")
def card_schema() -> jsonschema.Draft6Validator:
    """The Adaptive Card 1.5 schema (../shared/oracles) every card the bot sends must satisfy."""
    path = shared_path("oracles", "adaptive-card", "adaptive-card-1.5.json")
    return jsonschema.Draft6Validator(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake, runner = await start_connector()
    yield fake
    await runner.cleanup()


def payload(name: str) -> dict[str, Any]:
    """One of Microsoft's documented Teams activities from ../shared/oracles/teams/payloads/."""
    return dict(json.loads(shared_path("oracles", "teams", "payloads", name).read_text(encoding="utf-8")))


class TeamsUser:
    """A rep in a personal chat with the bot; builds Teams-shaped activities and POSTs them."""

    def __init__(self, live: LiveApp, http: aiohttp.ClientSession, connector: FakeConnector, *,
                 aad: str = "7faf8ab2-3d56-4244-b585-20c8a42ed2b8", name: str = "Megan Bowen",
                 locale: str = "en-US", timezone: str = "Europe/Amsterdam",
                 conversation: str | None = None) -> None:
        self.live, self.http, self.connector = live, http, connector
        self.aad, self.name, self.locale, self.timezone = aad, name, locale, timezone
        self.conversation = conversation or f"a:{uuid.uuid4().hex}"

    def activity(self, **fields: Any) -> dict[str, Any]:
        base = {
            "type": "message",
            "id": f"1{uuid.uuid4().int % 10**12}",
            "timestamp": "2026-11-30T09:00:00.000Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": f"29:{self.aad}", "name": self.name, "aadObjectId": self.aad},
            "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": self.conversation},
            "recipient": BOT,
            "textFormat": "plain",
            "entities": [{"type": "clientInfo", "locale": self.locale, "timezone": self.timezone}],
            "channelData": {"tenant": {"id": TENANT}},
            "locale": self.locale,
        }
        base.update(fields)
        return base

    async def post(self, activity: dict[str, Any],
                   headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        async with self.http.post(f"{self.live.url}/api/messages", json=activity,
                                  headers=headers or {}) as resp:
            await resp.read()
            return resp

    async def say(self, text: str) -> int:
        return (await self.post(self.activity(text=text))).status

    async def submit(self, card_activity_id: str, values: dict[str, Any]) -> int:
        """Press the card's submit button: Teams posts the inputs merged with the action's data.
        Returns once the tips that follow the turn (an outbox row) went out, or were put off."""
        activity = self.activity(replyToId=card_activity_id, value=values)
        activity.pop("textFormat")
        status = (await self.post(activity)).status
        await self.live.outbox_settled()
        return status


@pytest.fixture
async def rep(live_app: LiveApp, http: aiohttp.ClientSession, connector: FakeConnector) -> TeamsUser:
    return TeamsUser(live_app, http, connector)


def form_values(card: dict[str, Any], **answers: Any) -> dict[str, Any]:
    """What Teams sends for a card: every input's id with its value ('' when empty) + the data.
    `answers` fill the card's inputs; an answer for an input the card does not have is not sent."""
    values: dict[str, Any] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type", "").startswith("Input."):
                values[item["id"]] = item.get("value", "")
            walk(item.get("items", []))

    walk(card["body"])
    values.update({k: v for k, v in answers.items() if k in values})
    for action in card.get("actions", []):
        if action["type"] == "Action.Submit":
            values.update(copy.deepcopy(action["data"]))
    return values


async def fill_in(
    rep: TeamsUser, card_id: str, card: dict[str, Any], answers: dict[str, Any]
) -> dict[str, Any]:
    """Answer the first card (the ratings and the outcome) and press Next: the card with the
    details those answers call for, drawn in its place (the connector's record is cleared)."""
    assert await rep.submit(card_id, form_values(card, **answers)) == 201
    updates = rep.connector.updates()
    assert len(updates) == 1 and updates[0].activity_id == card_id and updates[0].card is not None
    rep.connector.clear()
    return updates[0].card


def good_answers() -> dict[str, str]:
    """A complete, valid set of answers; the next meeting a week from now (the app's real clock)."""
    soon = date.today() + timedelta(days=7)
    return {**GOOD_ANSWERS, "next_step_due": soon.isoformat(), "next_meeting_at_date": soon.isoformat()}


GOOD_ANSWERS: dict[str, str] = {
    "rating:opening": "no", "agenda_set_by": "customer_formal", "note:opening": "Formal agenda by mail.",
    "rating:interaction": "yes", "customer_questions": "How fast is onboarding?",
    "rating:situation": "partly", "supplier_check": "not_asked",
    "rating:concessions": "yes", "concessions_given": "Signed their framework",
    "concessions_got": "Pilot start date",
    "rating:next_step": "yes", "next_step_what": "Pilot proposal", "next_step_due": "2026-12-07",
    "next_meeting_at_date": "2026-12-08", "next_meeting_at_time": "14:00",
    "outcome": "next_step",
}


async def count(live: LiveApp, model: Any, *where: Any) -> int:
    async with live.coach.db() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


async def person(live: LiveApp, aad: str) -> Person | None:
    async with live.coach.db() as session:
        return await session.scalar(sa.select(Person).where(Person.platform_user_id == aad))


__all__ = [
    "BOT",
    "GOOD_ANSWERS",
    "TENANT",
    "Debrief",
    "TeamsConversation",
    "TeamsUser",
    "count",
    "emulator_on",
    "fill_in",
    "form_values",
    "good_answers",
    "payload",
    "person",
]
