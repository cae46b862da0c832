"""The web chat over HTTP after a reload and with old buttons: POST /webchat/session answers with
the open question, and a button sent as a command (`command: true`) is never an answer."""

from __future__ import annotations

import aiohttp
import sqlalchemy as sa

from dialogs.text import default_texts
from storage.models import DialogState
from tests.bot.webchat_client import Visitor
from tests.conftest import LiveApp

TEXTS = default_texts()


async def open_dialog(live: LiveApp) -> DialogState:
    async with live.coach.db() as session:
        return (await session.scalars(sa.select(DialogState))).one()


async def test_a_new_session_resumes_the_open_question(
    http: aiohttp.ClientSession, live_app: LiveApp
) -> None:
    me = Visitor(http, live_app)
    async with http.post(f"{live_app.url}/webchat/session", json={}) as r:
        first = await r.json()
    assert first["messages"][0]["text"] == TEXTS.message("en", "welcome", name="")
    body = await me.say("debrief Acme")
    question = body["messages"][-1]
    body = await me.say(question["buttons"][0]["value"], expect=question["expect"])
    asked = body["messages"][-1]

    async with http.post(f"{live_app.url}/webchat/session", json={}) as r:  # the page reloaded
        again = await r.json()
    lead, shown = again["messages"]
    assert lead["text"] == TEXTS.message("en", "resume_debrief", account="Acme")
    same = ("expect", "text", "buttons")
    assert [shown[k] for k in same] == [asked[k] for k in same]
    state = await open_dialog(live_app)
    assert shown["expect"] == f"{state.step}@{state.version}"


async def test_a_command_button_mid_debrief_is_not_an_answer(
    http: aiohttp.ClientSession, live_app: LiveApp
) -> None:
    me = Visitor(http, live_app)
    await me.say("debrief Acme")
    before = await open_dialog(live_app)
    body = await me.say("edit 1", command=True)
    assert body["messages"][0]["text"] == TEXTS.message("en", "button_not_an_answer", text="edit 1")
    assert body["messages"][-1]["expect"] == f"{before.step}@{before.version}"
    after = await open_dialog(live_app)
    assert (after.version, after.data) == (before.version, before.data)
    # `command` must be exactly true: anything else is typed text as before.
    body = await me.say("help", command="yes")
    assert [m["kind"] for m in body["messages"]] == ["help", "question"]
    assert body["messages"][0]["groups"]
