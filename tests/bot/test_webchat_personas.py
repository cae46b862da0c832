"""The web chat's demo personas and an action point's journey there: in `--demo` the page offers
the demo team; as Maartje `team` shows the digest with its chart inline and the proposal to send,
`assign …` works; back as Sanne the point is there, in the next nudge, done. Outside demo mode a
persona is refused (403) and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot import demo
from bot.config import OrgConfig, Settings
from bot.webchat import personas
from bot.webchat import routes as webchat
from dialogs.text import default_texts
from storage.models import Person
from tests.bot.action_journey import digest_of, meeting_soon, points, rep_in
from tests.conftest import LiveApp
from tests.factories import make_settings

TEXTS = default_texts()
MAARTJE, SANNE = demo.MANAGER[2], demo.REPS[0].email


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, org: OrgConfig) -> Settings:
    return make_settings(tmp_path, org=org, demo=getattr(request, "param", True))


class Page:
    """What the page's script sends, with one browser's cookies."""

    def __init__(self, http: aiohttp.ClientSession, live: LiveApp) -> None:
        self.http, self.url = http, live.url

    async def session(self, **payload: Any) -> tuple[int, Any]:
        async with self.http.post(f"{self.url}/webchat/session", json=payload) as r:
            return r.status, (await r.json() if r.status == 200 else await r.text())

    async def say(self, text: str) -> dict[str, Any]:
        async with self.http.post(f"{self.url}/webchat/messages", json={"text": text}) as r:
            assert r.status == 200
            return dict(await r.json())

    async def inbox(self) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.url}/webchat/inbox") as r:
            return list((await r.json())["messages"])


def texts_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(x for m in messages for x in (m.get("title") or "", m["text"], *m["items"],
                                                    *(b["label"] for b in m["buttons"])))


async def person_by_email(live: LiveApp, email: str) -> Person:
    async with live.coach.db() as session:
        return (await session.scalars(sa.select(Person).where(Person.email == email))).one()


async def people(live: LiveApp) -> int:
    async with live.coach.db() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Person)) or 0)


async def test_the_demo_offers_its_team_and_starts_as_sanne(
    http: aiohttp.ClientSession, live_app: LiveApp
) -> None:
    status, body = await Page(http, live_app).session()
    assert status == 200 and body["persona"] == SANNE
    assert [(p["email"], p["role"]) for p in body["personas"]] == [
        (MAARTJE, "manager"), *((r.email, "rep") for r in demo.REPS)]
    assert body["personas"][0]["label"] == "Maartje Jansen (manager)"
    assert body["strings"]["persona"] == TEXTS.message("en", "webchat_persona")


async def test_the_action_point_journey_as_maartje_and_back_as_sanne(
    http: aiohttp.ClientSession, live_app: LiveApp
) -> None:
    page = Page(http, live_app)
    await page.session()
    status, body = await page.session(persona=MAARTJE)
    assert status == 200 and body["persona"] == MAARTJE
    assert "Maartje" in body["messages"][0]["text"]

    # as Maartje: `team` is the digest with its chart inline and, per rep, the proposal to send
    digest = (await page.say("team"))["messages"]
    charts = [m["attachment"] for m in digest if m.get("attachment")]
    assert len(charts) == 1 and charts[0]["url"].startswith("data:image/png;base64,")
    forms = {m["title"]: m["form"] for m in digest if m.get("form")}
    assert set(forms) == {r.name for r in demo.REPS}
    form = forms["Sanne de Vries"]
    sanne = await person_by_email(live_app, SANNE)
    assert form["command"].startswith(f"assign #{sanne.id}") and form["button"] == "Send to Sanne de Vries"
    maartje = await person_by_email(live_app, MAARTJE)
    assert maartje.id is not None and sanne.id is not None
    proposed = rep_in(await digest_of(live_app.coach, maartje.id), sanne.id)["action_point"]
    assert proposed is not None and form["text"] == proposed["text"]  # the digest's own proposal

    # edited and sent, as the page sends it: the form's command and the edited text
    edited = "Before the Acme meeting, mail them and propose your own agenda"
    sent = (await page.say(f"{form['command']} {edited}"))["messages"]
    assert [m["kind"] for m in sent] == ["saved"] and "Sanne de Vries" in sent[0]["text"]
    (point,) = await points(live_app.coach)
    # typed, by first name, works the same
    typed = await page.say("assign Tom: ask what they tried before")
    assert [m["kind"] for m in typed["messages"]] == ["saved"]
    await live_app.outbox_settled()

    # back as Sanne: the point is in the greeting and in her inbox, with who asked
    status, body = await page.session(persona=SANNE)
    assert status == 200 and body["persona"] == SANNE
    assert f"Maartje Jansen asked you to: {edited}" in texts_of(body["messages"])
    inbox = await page.inbox()
    assert f"Maartje Jansen asked you to: {edited}" in texts_of(inbox)
    assert "ask what they tried" not in texts_of(inbox)  # Tom's is Tom's
    assert await page.inbox() == []  # handed out once

    # in the next nudge, then done
    await meeting_soon(live_app.coach, sanne)
    await live_app.outbox_settled()
    nudge = await page.inbox()
    assert "Acme" in texts_of(nudge) and edited in texts_of(nudge)
    done = next(b for m in nudge for b in m["buttons"] if b["value"] == f"done #{point.id}")
    assert [m["kind"] for m in (await page.say(done["value"]))["messages"]] == ["saved"]
    assert [p.status for p in await points(live_app.coach)] == ["done", "open"]

    # reported in the next digest
    part = rep_in(await digest_of(live_app.coach, maartje.id), sanne.id)
    assert (part["action_points_open"], part["action_points_done"]) == (0, 1)


async def test_an_unknown_persona_is_404_and_changes_nothing(
    http: aiohttp.ClientSession, live_app: LiveApp
) -> None:
    page = Page(http, live_app)
    await page.session(persona=MAARTJE)
    status, text = await page.session(persona="nobody@example.com")
    assert status == 404 and text == TEXTS.message("en", "webchat_persona_unknown")
    status, body = await page.session()
    assert body["persona"] == MAARTJE  # still who they picked


@pytest.mark.parametrize("settings", [False], indirect=True)
async def test_outside_demo_mode_a_persona_is_refused_and_changes_nothing(
    http: aiohttp.ClientSession, live_app: LiveApp
) -> None:
    page = Page(http, live_app)
    before = await people(live_app)
    status, text = await page.session(persona=MAARTJE)
    assert status == 403 and text == TEXTS.message("en", "webchat_persona_demo_only")
    assert await people(live_app) == before  # not even the visitor's row was made
    assert not [c for c in http.cookie_jar if c.key in (webchat.COOKIE, personas.COOKIE)]
    # and a persona cookie is never read outside demo mode: the visitor is only themselves
    http.cookie_jar.update_cookies({personas.COOKIE: MAARTJE})
    status, body = await page.session()
    assert status == 200 and "persona" not in body and "personas" not in body
    assert "Maartje" not in body["messages"][0]["text"]
    assert [m["kind"] for m in (await page.say("assign Sanne: do it"))["messages"]] == ["error"]
