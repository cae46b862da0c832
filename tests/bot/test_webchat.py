"""The local web chat over real HTTP: identity, refusals, the debrief end to end, bad input, languages."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import Mock
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.app import create_app
from bot.config import OrgConfig, ServerConfig, Settings
from bot.webchat import routes as webchat
from dialogs.checklist import NOTE_LIMIT
from dialogs.text import default_texts, format_when
from storage.debriefs import StoredDebrief, get_debrief
from storage.models import Debrief, DebriefAnswer, DialogState, Person
from tests.conftest import LiveApp
from tests.factories import make_settings

TEXTS = default_texts()

# A debrief after `debrief Acme` as a rep answers it (typed, or a button's value), by the field
# asked: two weak points (opening partly, situation no) and a next meeting: 12 questions.
ANSWERS = {
    "rating:opening": "partly", "agenda_set_by": "customer_formal",
    "note:opening": "They mailed a formal agenda.",
    "rating:interaction": "yes", "customer_questions": "How fast is onboarding?",
    "rating:situation": "no", "supplier_check": "not_asked", "note:situation": "/skip",
    "rating:concessions": "yes",
    "outcome": "next_step", "next_step_what": "Pilot proposal: I send it, they book IT",
    "next_meeting_at": "next Tuesday 2pm",
}


def field_of(body: dict[str, Any]) -> str | None:
    """The field the open question asks (from its token), or None when none is open."""
    last = body["messages"][-1] if body["messages"] else {}
    return last["expect"].split("@")[0] if last.get("expect") else None


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, org: OrgConfig) -> Settings:
    """The app's settings; on the run's PostgreSQL database when the test takes `database_url`."""
    settings = make_settings(tmp_path, org=org)
    if "database_url" in request.fixturenames:
        candidate = str(request.getfixturevalue("database_url"))
        if candidate.startswith("postgresql"):
            request.getfixturevalue("engine")  # an empty schema, migrated to head
            settings = make_settings(tmp_path, org=org, database_url=candidate)
    return settings


class Chat:
    """One visitor of the web chat: a cookie jar and the page's two calls."""

    def __init__(self, http: aiohttp.ClientSession, live: LiveApp) -> None:
        self.http = http
        self.live = live

    async def session(self, **headers: str) -> dict[str, Any]:
        async with self.http.post(f"{self.live.url}/webchat/session", json={}, headers=headers) as r:
            assert r.status == 200, await r.text()
            return dict(await r.json())

    async def say(self, text: str, expect: str | None = None, **headers: str) -> dict[str, Any]:
        async with self.http.post(f"{self.live.url}/webchat/messages",
                                  json={"text": text, "expect": expect}, headers=headers) as r:
            assert r.status == 200, await r.text()
            return dict(await r.json())

    async def debrief(self, account: str = "Acme", answers: dict[str, str] = ANSWERS) -> dict[str, Any]:
        """`debrief <account>`, then every question answered from `answers` until it is saved."""
        return await self.answer(await self.say(f"debrief {account}"), answers)

    async def answer(self, body: dict[str, Any], answers: dict[str, str], until: str | None = None
                     ) -> dict[str, Any]:
        """Answer the open question and the ones after it by field, typed, until none is open (or
        `until` is asked); a question the answers do not cover fails the test."""
        while (field := field_of(body)) is not None and field != until:
            assert field in answers, (field, body)
            body = await self.say(answers[field])
            assert body["messages"][0]["kind"] != "error", (field, body)
        return body


@pytest.fixture
async def chat(http: aiohttp.ClientSession, live_app: LiveApp) -> Chat:
    return Chat(http, live_app)


def texts_of(body: dict[str, Any]) -> str:
    parts = []
    for m in body["messages"]:
        parts += [m["title"] or "", m["text"], *m["items"], *(b["label"] for b in m["buttons"])]
    return "\n".join(parts)


async def scalar(live: LiveApp, stmt: Any) -> Any:
    async with live.coach.db() as session:
        return await session.scalar(stmt)


async def count(live: LiveApp, table: Any) -> int:
    return int(await scalar(live, sa.select(sa.func.count()).select_from(table)))


async def only_debrief(live: LiveApp) -> StoredDebrief:
    async with live.coach.db() as session:
        debrief = (await session.scalars(sa.select(Debrief))).one()
        assert debrief.id is not None
        return await get_debrief(session=session, debrief_id=debrief.id, person_id=debrief.person_id)


# -- identity ------------------------------------------------------------------------------------
async def test_session_cookie_is_issued_once_and_identity_stays(chat: Chat, live_app: LiveApp) -> None:
    async with chat.http.post(f"{live_app.url}/webchat/session", json={}) as r:
        assert r.status == 200
        cookie = r.cookies[webchat.COOKIE]
        assert len(cookie.value) >= 32
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    async with chat.http.post(f"{live_app.url}/webchat/messages", json={"text": "debrief Acme"}) as r:
        assert webchat.COOKIE not in r.cookies  # the same visitor keeps the same cookie
    body = await chat.say("yes")  # the next request continues the same person's debrief
    assert body["messages"][-1]["expect"] == "agenda_set_by@2"
    assert await count(live_app, Person) == 1

    # Someone else (another cookie jar) is another person, with nothing of the first one's.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other_http:
        other = Chat(other_http, live_app)
        body = await other.say("yes")
        assert body["messages"][0]["kind"] == "help"  # no debrief in progress for them
    assert await count(live_app, Person) == 2
    assert await count(live_app, DialogState) == 1


# -- refusals ------------------------------------------------------------------------------------
async def test_form_posts_and_other_origins_are_refused_and_store_nothing(
    http: aiohttp.ClientSession, live_app: LiveApp
) -> None:
    url = f"{live_app.url}/webchat/messages"
    async with http.post(url, data={"text": "debrief Acme"}) as r:
        assert r.status == 415
        assert await r.text() == TEXTS.message("en", "webchat_json_only")
    async with http.post(url, data='{"text": "debrief Acme"}', headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415
    async with http.post(url, json={"text": "debrief Acme"}, headers={"Origin": "https://evil.example"}) as r:
        assert r.status == 403
        assert await r.text() == TEXTS.message("en", "webchat_cross_origin")
    async with http.post(f"{live_app.url}/webchat/session", json={}, headers={"Origin": "null"}) as r:
        assert r.status == 403
    async with http.post(url, json={"text": ["not", "a", "string"]}) as r:
        assert r.status == 400
    assert await count(live_app, Person) == 0
    assert await count(live_app, DialogState) == 0
    # The page's own origin is accepted.
    async with http.post(url, json={"text": "help"}, headers={"Origin": live_app.url}) as r:
        assert r.status == 200


def _request_from(app: web.Application, peer: tuple[str, int], method: str = "GET", path: str = "/",
                  host: str = "127.0.0.1:3978") -> web.Request:
    transport = Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: peer if name == "peername" else default
    return make_mocked_request(method, path, app=app, transport=transport,
                               headers={"Host": host, "Accept-Language": "nl-NL,nl;q=0.9"})


@pytest.mark.parametrize("peer, host", [
    (("10.1.2.3", 5555), "127.0.0.1:3978"),  # someone on the network
    (("127.0.0.1", 5555), "evil.example:3978"),  # a DNS-rebinding page in a local browser
])
async def test_loopback_guard_refuses_other_machines(
    settings: Settings, peer: tuple[str, int], host: str
) -> None:
    app = create_app(settings)
    with pytest.raises(web.HTTPForbidden) as refused:
        await webchat.page(_request_from(app, peer, host=host))
    assert refused.value.text == TEXTS.message("nl", "webchat_local_only")
    with pytest.raises(web.HTTPForbidden):
        await webchat.post_message(_request_from(app, peer, "POST", "/webchat/messages", host=host))


@pytest.mark.parametrize("peer, host", [
    (("127.0.0.1", 5555), "127.0.0.1:3978"),
    (("::1", 5555), "[::1]:3978"),
    (("127.0.0.1", 5555), "localhost:3978"),
])
async def test_loopback_guard_lets_this_machine_in(
    settings: Settings, peer: tuple[str, int], host: str
) -> None:
    response = await webchat.page(_request_from(create_app(settings), peer, host=host))
    assert response.status == 200


async def test_webchat_public_lets_other_machines_in(settings: Settings) -> None:
    public = settings.model_copy(update={"org": OrgConfig(server=ServerConfig(webchat_public=True))})
    app = create_app(public)
    response = await webchat.page(_request_from(app, ("10.1.2.3", 5555), host="coach.example:3978"))
    assert response.status == 200
    assert b'<ol id="log"' in response.body  # type: ignore[attr-defined]


# -- the page ------------------------------------------------------------------------------------
async def test_page_is_served_with_a_strict_content_security_policy(
    http: aiohttp.ClientSession, live_app: LiveApp
) -> None:
    async with http.get(f"{live_app.url}/") as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        csp = r.headers["Content-Security-Policy"]
        html = await r.text()
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # No inline script or style for the policy to have to allow.
    assert "<script>" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert '<script src="/webchat/app.js" defer></script>' in html
    assert "@@" not in html and '<html lang="en">' in html
    assert f'<button id="send" type="submit">{TEXTS.message("en", "webchat_send")}</button>' in html
    for path, kind in (("/webchat/app.js", "text/javascript"), ("/webchat/app.css", "text/css")):
        async with http.get(f"{live_app.url}{path}") as r:
            assert r.status == 200 and r.content_type == kind
            assert r.headers["Content-Security-Policy"] == csp
    async with http.get(f"{live_app.url}/webchat/app.js") as r:
        script = await r.text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script


async def test_page_speaks_the_browsers_language(http: aiohttp.ClientSession, live_app: LiveApp) -> None:
    async with http.get(f"{live_app.url}/", headers={"Accept-Language": "nl-BE,nl;q=0.9"}) as r:
        html = await r.text()
    assert '<html lang="nl">' in html and "@@" not in html
    assert f'placeholder="{TEXTS.message("nl", "webchat_placeholder")}"' in html
    assert f'data-offline="{TEXTS.message("nl", "webchat_offline")}"' in html


# -- the debrief ---------------------------------------------------------------------------------
async def test_full_debrief_over_http_stores_exactly_one(chat: Chat, live_app: LiveApp) -> None:
    welcome = await chat.session()
    assert [b["value"] for b in welcome["messages"][0]["buttons"]] == ["debrief", "history", "help"]
    body = await chat.debrief("Acme")
    assert [m["kind"] for m in body["messages"]] == ["info", "saved", "tips", "recap", "info"]
    assert body["messages"][0]["text"].startswith("“next Tuesday 2pm” → ")  # the typed time, as read
    tips = body["messages"][2]
    assert tips["title"] == TEXTS.message("en", "tips_title")
    # a weak opening comes first, whatever else is weak (here the current situation, rated "no")
    assert tips["items"][0].startswith(TEXTS.point("en", "opening", "title"))
    assert any(item.startswith(TEXTS.point("en", "situation", "title")) for item in tips["items"])
    (mail,) = body["messages"][3]["buttons"]
    assert mail["url"].startswith("mailto:?subject=")
    assert await count(live_app, Debrief) == 1
    assert await count(live_app, DebriefAnswer) == 5
    assert await count(live_app, DialogState) == 0  # nothing half-written left behind
    stored = await only_debrief(live_app)
    assert stored.account_name == "Acme"
    assert {p: a.rating for p, a in stored.answers.items()} == {
        "opening": "partly", "interaction": "yes", "situation": "no", "concessions": "yes",
        "next_step": "yes"}
    assert stored.answers["opening"].note == "They mailed a formal agenda."
    d = stored.debrief
    assert (d.agenda_set_by, d.supplier_check, d.outcome) == ("customer_formal", "not_asked", "next_step")
    assert d.customer_questions == "How fast is onboarding?" and d.concessions_given is None
    assert d.next_meeting_at is not None
    local = d.next_meeting_at.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert (local.strftime("%A"), local.hour, local.minute) == ("Tuesday", 14, 0)
    assert d.next_meeting_at > datetime.now(UTC)
    # What happens next is said, and the metrics count the stored debrief.
    assert TEXTS.message("en", "next_private") in body["messages"][-1]["text"]
    async with chat.http.get(f"{live_app.url}/metrics") as r:
        assert 'coach_debriefs_total{channel="web",result="stored"} 1.0' in await r.text()


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_double_click_applies_an_answer_once(database_url: str, chat: Chat, live_app: LiveApp) -> None:
    body = await chat.say("debrief Acme")
    expect = body["messages"][-1]["expect"]
    assert expect == "rating:opening@1"
    await asyncio.gather(chat.say("no", expect), chat.say("no", expect))
    state = await scalar(live_app, sa.select(DialogState))
    assert (state.step, state.version) == ("agenda_set_by", 2)
    assert state.data["answers"] == {"rating:opening": "no"}
    # A click on a button of the question just answered does nothing but say where we are.
    late = await chat.say("yes", expect)
    assert late["messages"][0]["text"] == TEXTS.message("en", "stale_click")
    assert late["messages"][1]["expect"] == "agenda_set_by@2"

    body = await chat.answer(late, ANSWERS, until="next_meeting_at")  # the last question
    last = body["messages"][-1]
    skip = [b for b in last["buttons"] if b["value"] == "/skip"]
    results = await asyncio.gather(*(chat.say(b["value"], last["expect"]) for b in skip * 2))
    saved = [m for r in results for m in r["messages"] if m["kind"] == "saved"]
    assert len(saved) == 1
    assert await count(live_app, Debrief) == 1
    assert await count(live_app, DebriefAnswer) == 5
    stored = await only_debrief(live_app)
    assert stored.answers["opening"].rating == "no"
    assert stored.debrief.outcome == "next_step" and stored.debrief.next_meeting_at is None


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "nl"])
async def test_over_long_note_is_refused_with_the_limit_and_nothing_is_stored(
    chat: Chat, live_app: LiveApp, language: str
) -> None:
    await chat.say("taal nl" if language == "nl" else "language en")
    body = await chat.say("debrief Acme")
    await chat.say("partly")
    body = await chat.say("/skip")  # who set the agenda: skipped
    asked = body["messages"][-1]
    assert field_of(body) == "note:opening"
    note = "x" * (NOTE_LIMIT + 1)
    body = await chat.say(note)
    error, again = body["messages"]
    assert error["kind"] == "error"
    assert error["text"] == TEXTS.message(language, "too_long", length=NOTE_LIMIT + 1, limit=NOTE_LIMIT)
    assert "2000" in error["text"] and "2001" in error["text"]
    assert again["expect"] == asked["expect"]  # the same question again, nothing cut or kept
    state = await scalar(live_app, sa.select(DialogState))
    assert "note:opening" not in state.data["answers"]
    assert await count(live_app, Debrief) == 0
    # Exactly at the limit is fine.
    body = await chat.say("y" * NOTE_LIMIT)
    assert body["messages"][0]["kind"] == "question"
    assert body["messages"][0]["expect"] != asked["expect"]


async def test_control_characters_are_stripped(chat: Chat, live_app: LiveApp) -> None:
    body = await chat.say("debrief \x00Ac\x07me\u202e Corp\x1b")
    assert body["messages"][0]["text"] == TEXTS.message("en", "start_debrief", account="Acme Corp")
    answers = {**ANSWERS, "customer_questions": "How\x00 fast\x08 is\u200b onboarding?\r\nAnd the price?"}
    await chat.answer(body, answers)
    stored = await only_debrief(live_app)
    assert stored.account_name == "Acme Corp"
    assert stored.debrief.customer_questions == "How fast is onboarding?\nAnd the price?"


async def test_unparseable_date_asks_again_with_an_example(chat: Chat, live_app: LiveApp) -> None:
    body = await chat.answer(await chat.say("debrief Acme"), ANSWERS, until="next_meeting_at")
    asked = body["messages"][-1]
    assert asked["expect"].startswith("next_meeting_at@")
    body = await chat.say("when the cows come home")
    error, again = body["messages"]
    assert error["kind"] == "error"
    example = TEXTS.message("en", "datetime_example")
    typed = "when the cows come home"
    assert error["text"] == TEXTS.message("en", "bad_datetime", text=typed, example=example)
    assert again["expect"] == asked["expect"]
    body = await chat.say("next Tuesday 2pm")
    assert [m["kind"] for m in body["messages"]] == ["info", "saved", "tips", "recap", "info"]


async def test_empty_account_asks_for_one(chat: Chat, live_app: LiveApp) -> None:
    body = await chat.say("debrief")
    assert body["messages"][-1]["text"] == TEXTS.message("en", "ask_account")
    body = await chat.say("   \x00 ")
    error, again = body["messages"]
    assert error == {**error, "kind": "error", "text": TEXTS.message("en", "account_empty")}
    assert again["expect"] == "account@1"
    body = await chat.say("Acme")
    assert body["messages"][0]["text"] == TEXTS.message("en", "start_debrief", account="Acme")
    assert await count(live_app, Debrief) == 0


async def test_a_text_answer_that_starts_with_debrief_is_an_answer(chat: Chat, live_app: LiveApp) -> None:
    answers = {**ANSWERS, "next_step_what": "Debrief call with their CFO"}  # "What is the next step?"
    await chat.debrief("Acme", answers)
    stored = await only_debrief(live_app)
    assert stored.debrief.next_step_what == "Debrief call with their CFO"
    # On a yes/partly/no question it still starts over with the new customer.
    await chat.say("debrief Acme")
    body = await chat.say("debrief Globex")
    assert body["messages"][0]["text"] == TEXTS.message("en", "start_debrief", account="Globex")
    state = await scalar(live_app, sa.select(DialogState))
    assert (state.step, state.data["account"], state.data["answers"]) == ("rating:opening", "Globex", {})


async def test_unknown_command_answers_with_help(chat: Chat) -> None:
    body = await chat.say("frobnicate the pipeline")
    [reply] = body["messages"]
    assert reply["kind"] == "help"
    assert reply["text"] == TEXTS.message("en", "unknown_command", text="frobnicate the pipeline")
    data = TEXTS.data("en", "messages")["help_groups"]
    assert reply["groups"] == [{"title": data[k]["title"], "items": data[k]["items"]}
                               for k in ("debriefs", "meetings", "data", "other")]


async def test_history_then_edit_corrects_and_keeps_the_original_time(chat: Chat, live_app: LiveApp) -> None:
    await chat.debrief("Acme")
    before = await only_debrief(live_app)
    body = await chat.say("history")
    [listing] = body["messages"]
    assert listing["kind"] == "history" and "Acme" in listing["items"][0]
    assert listing["buttons"] == [{"label": TEXTS.message("en", "button_edit", number=1), "value": "edit 1"}]

    body = await chat.say("edit 1")
    [summary] = body["messages"]
    assert "Acme" in summary["title"] and len(summary["items"]) == 7  # five points, outcome, meeting
    assert [b["value"] for b in summary["buttons"]] == [
        "opening", "interaction", "situation", "concessions", "next_step", "outcome", "next_meeting_at",
        "cancel"]
    original = format_when(before.debrief.created_at, locale="en", tz="Europe/Amsterdam")
    for part, answer in (("situation", "yes"), ("outcome", "closed")):  # one part, then another
        body = await chat.say(f"edit 1 {part}" if part == "outcome" else part,
                              None if part == "outcome" else summary["expect"])
        question = body["messages"][-1]
        assert question["expect"].startswith(("rating:situation@", "outcome@"))
        assert {"label": TEXTS.message("en", "button_keep"), "value": "/keep"} in question["buttons"]
        body = await chat.say(answer, question["expect"])  # the only question of that part
        assert body["messages"][0]["kind"] == "saved"
        assert body["messages"][0]["text"] == TEXTS.message("en", "updated", account="Acme", when=original)

    after = await only_debrief(live_app)
    assert await count(live_app, Debrief) == 1
    assert after.debrief.id == before.debrief.id
    assert after.debrief.created_at == before.debrief.created_at
    assert after.debrief.updated_at is not None and after.debrief.updated_at >= before.debrief.created_at
    assert after.debrief.outcome == "closed" and after.answers["situation"].rating == "yes"
    assert after.debrief.supplier_check is None  # a detail of "no", cleared with it
    # Kept answers are unchanged.
    assert after.answers["opening"].note == "They mailed a formal agenda."
    assert after.debrief.next_meeting_at == before.debrief.next_meeting_at


# -- languages -----------------------------------------------------------------------------------
async def test_language_switch_changes_replies_and_page_strings(chat: Chat) -> None:
    body = await chat.session()
    assert body["locale"] == "en" and body["strings"]["send"] == TEXTS.message("en", "webchat_send")
    body = await chat.say("taal nl")
    assert body["locale"] == "nl"
    assert body["messages"][0]["text"] == TEXTS.message("nl", "language_set")
    assert body["strings"] == {k: TEXTS.message("nl", f"webchat_{k}") for k in webchat.UI_STRINGS}
    assert body["strings"]["placeholder"] != TEXTS.message("en", "webchat_placeholder")
    body = await chat.say("debrief Acme")
    assert body["messages"][-1]["title"] == TEXTS.message(
        "nl", "point_heading", number=1, title=TEXTS.point("nl", "opening", "title"))
    assert [b["label"] for b in body["messages"][-1]["buttons"]] == ["Ja", "Deels", "Nee"]
    body = await chat.say("language en")
    assert body["locale"] == "en"
    assert body["messages"][0]["text"] == TEXTS.message("en", "language_set")
    assert body["messages"][1]["buttons"][0]["label"] == "Yes"  # the open question, now in English
    assert body["strings"]["send"] == TEXTS.message("en", "webchat_send")


async def test_accept_language_nl_gives_dutch_on_first_visit(chat: Chat, live_app: LiveApp) -> None:
    body = await chat.session(**{"Accept-Language": "nl-NL,nl;q=0.9,en-US;q=0.8"})
    assert body["locale"] == "nl"
    assert body["messages"][0]["text"] == TEXTS.message("nl", "welcome", name="")
    assert body["strings"]["title"] == TEXTS.message("nl", "webchat_title")
    # The language is the person's from then on, whatever the next request's header says.
    body = await chat.say("help", **{"Accept-Language": "en"})
    assert body["locale"] == "nl" and body["messages"][0]["title"] == TEXTS.message("nl", "help_title")


@pytest.mark.parametrize("header, expected", [
    ("nl-NL,nl;q=0.9", "nl"),
    ("de-DE,de;q=0.9,en;q=0.5,nl;q=0.8", "nl"),
    ("en-GB,en;q=0.9,nl;q=0.8", "en"),
    ("fr-FR", "en"),
    ("", "en"),
    ("nl;q=0", "en"),
])
def test_preferred_locale_follows_quality(header: str, expected: str) -> None:
    assert webchat.preferred_locale(header, "en") == expected
