"""GET /webchat/accounts: the customers offered as a rep types, over real HTTP. Only the cookie's
own accounts, ever (all web chat visitors share one workspace); nothing for a caller without a
known cookie, and the same refusals as the other web chat endpoints."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from unittest.mock import Mock

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.app import create_app
from bot.config import Settings
from bot.webchat import routes as webchat
from dialogs.text import default_texts
from storage.models import Person
from tests.bot.webchat_client import Visitor
from tests.conftest import LiveApp

TEXTS = default_texts()


def next_week() -> str:
    return (date.today() + timedelta(days=7)).isoformat()


@pytest.fixture
async def visitors(live_app: LiveApp) -> Any:
    async with (aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as a,
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as b):
        yield Visitor(a, live_app), Visitor(b, live_app)


async def people(live: LiveApp) -> int:
    async with live.coach.db() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Person)) or 0)


async def test_a_visitor_is_offered_their_own_customers_only(visitors: Any, live_app: LiveApp) -> None:
    sanne, tom = visitors
    for name, hour in (("Acme Logistics", 10), ("Acme Foods", 11), ("Brouwer Bouw", 12)):
        await sanne.say(f"meeting {name} {next_week()} {hour}:00")
    await tom.say(f"meeting Acme Secret {next_week()} 13:00")  # the same workspace, another person

    status, found = await sanne.suggest("debrief ac")
    assert status == 200
    assert sorted(found["names"]) == ["Acme Foods", "Acme Logistics"]
    assert found["prefix"] == "debrief " and found["complete"] is True
    _, found = await sanne.suggest("meeting log")
    assert found == {"names": ["Acme Logistics"], "prefix": "meeting ", "complete": False}
    _, found = await sanne.suggest("debrief cme")  # a word's start, not any part of it
    assert found["names"] == []
    _, found = await sanne.suggest("hello there")
    assert found["names"] == []
    _, found = await tom.suggest("debrief acme")
    assert found["names"] == ["Acme Secret"]

    # The account question open: what is typed is the name itself, and a chosen one answers it.
    body = await sanne.say("debrief")
    assert body["messages"][-1]["expect"].startswith("account@")
    _, found = await sanne.suggest("")
    assert sorted(found["names"]) == ["Acme Foods", "Acme Logistics", "Brouwer Bouw"]
    assert found["complete"] is True and found["prefix"] == ""
    await sanne.say("Brouwer Bouw")
    _, found = await sanne.suggest("ac")  # another question is open now: nothing to offer
    assert found["names"] == []
    _, found = await tom.suggest("")  # Tom has no debrief open: no names without a command
    assert found["names"] == []


async def test_callers_without_a_known_cookie_get_nothing_and_create_nobody(
    http: aiohttp.ClientSession, live_app: LiveApp, visitors: Any
) -> None:
    sanne, _ = visitors
    await sanne.say(f"meeting Acme Logistics {next_week()} 10:00")
    before = await people(live_app)
    stranger = Visitor(http, live_app)
    assert await stranger.suggest("debrief acme") == (200, {"names": [], "prefix": "", "complete": False})
    http.cookie_jar.update_cookies({webchat.COOKIE: "x" * 43})  # a cookie the chat never issued
    assert (await stranger.suggest("debrief acme"))[1]["names"] == []
    assert await people(live_app) == before


async def test_other_sites_and_hosts_are_refused(visitors: Any, live_app: LiveApp) -> None:
    sanne, _ = visitors
    await sanne.say(f"meeting Acme Logistics {next_week()} 10:00")
    refused = TEXTS.message("en", "webchat_cross_origin")
    assert await sanne.suggest("debrief acme", Origin="https://evil.example") == (403, refused)
    assert (await sanne.suggest("debrief acme", **{"Sec-Fetch-Site": "cross-site"}))[0] == 403
    assert (await sanne.suggest("debrief acme", **{"Sec-Fetch-Site": "same-site"}))[0] == 403
    status, text = await sanne.suggest("debrief acme", Host="evil.example")  # DNS rebinding
    assert (status, text) == (403, TEXTS.message("en", "webchat_local_only"))
    assert (await sanne.suggest("debrief acme", Origin=live_app.url))[1]["names"] == ["Acme Logistics"]


async def test_other_machines_are_refused(settings: Settings) -> None:
    transport = Mock()
    transport.get_extra_info.side_effect = (
        lambda name, default=None: ("10.1.2.3", 5555) if name == "peername" else default)
    request = make_mocked_request("GET", "/webchat/accounts?q=debrief", app=create_app(settings),
                                  transport=transport, headers={"Host": "127.0.0.1:3978"})
    with pytest.raises(web.HTTPForbidden):
        await webchat.accounts(request)
