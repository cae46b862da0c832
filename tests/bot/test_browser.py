"""The web chat end to end in headless Chromium (Debian's, through Playwright; never downloaded)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dialogs.text import default_texts
from storage.debriefs import StoredDebrief, get_debrief
from storage.models import Debrief, DialogState
from tests.bot.browser import Visitor
from tests.conftest import LiveApp

pytestmark = pytest.mark.browser

TEXTS = default_texts()
XSS = "<img src=x onerror=alert(1)>"


async def only_debrief(live_app: LiveApp) -> StoredDebrief:
    async with live_app.coach.db() as session:
        debrief = (await session.scalars(sa.select(Debrief))).one()
        assert debrief.id is not None
        return await get_debrief(session=session, debrief_id=debrief.id, person_id=debrief.person_id)


async def test_a_rep_completes_a_debrief_and_sees_the_coaching(me: Visitor, live_app: LiveApp) -> None:
    page = me.page
    t = lambda key, **kw: TEXTS.message("en", key, **kw)  # noqa: E731
    await me.click(t("button_debrief"))
    assert await me.last_bot() == t("ask_account") + "\n" + t("button_cancel")
    await me.type("Acme")
    assert TEXTS.point("en", "opening", "title") in await me.last_bot()
    await me.click("No")
    await me.click("The customer, formally")
    await me.type("They sent their agenda by mail.")
    await me.click("Yes")  # 2. interaction: which questions
    await me.type("How fast is onboarding?")
    await me.click("Partly")  # 3. current situation: what they tried, the supplier check
    await me.type("An in-house spreadsheet")
    await me.click("Didn't ask")
    await me.click("Yes")  # 4. concessions: nothing more to ask
    await me.click("Next step agreed")  # the outcome answers point 5
    await me.type("Pilot proposal: I send it; they book the IT review")
    await me.type("next Tuesday 2pm")  # the last of 11 questions

    tips = page.locator("li[data-kind=tips]")
    await tips.wait_for()
    assert await tips.locator(".msg__title").inner_text() == t("tips_title")
    first_tip = await tips.locator(".msg__items li").first.inner_text()
    assert first_tip.startswith(TEXTS.point("en", "opening", "title") + ":")  # "no" is the weakest
    assert await page.locator("li[data-kind=saved]").is_visible()
    # A next step was agreed: a recap to send the customer, with a link that opens it as an e-mail.
    recap = page.locator("li[data-kind=recap]")
    assert "Pilot proposal" in await recap.locator(".msg__text").inner_text()
    mail = recap.locator("a.msg__link")
    assert await mail.inner_text() == TEXTS.render("en", "customer_recap", "button_mail")
    assert str(await mail.get_attribute("href")).startswith("mailto:?subject=")
    # Answered questions' buttons are retired: no stale clicks left on the page.
    assert await page.locator("li[data-expect] button:enabled").count() == 0

    stored = await only_debrief(live_app)
    assert stored.account_name == "Acme"
    assert stored.answers["opening"].rating == "no"
    assert stored.answers["opening"].note == "They sent their agenda by mail."
    assert stored.debrief.supplier_check == "not_asked" and stored.debrief.outcome == "next_step"
    meeting = stored.debrief.next_meeting_at
    assert meeting is not None and meeting > datetime.now(UTC)
    local = meeting.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert (local.strftime("%A"), local.hour) == ("Tuesday", 14)
    assert me.watch.errors == [] and me.watch.dialogs == []


async def test_markup_in_an_answer_renders_as_text(me: Visitor, live_app: LiveApp) -> None:
    page = me.page
    await me.type(f"debrief {XSS}")  # the coach repeats the account name back
    await me.click("Partly")
    await me.click(TEXTS.message("en", "button_skip"))
    await me.type(f"They said {XSS} twice")  # a note
    await page.wait_for_timeout(300)  # time for an onerror to fire

    assert await page.locator("#log img").count() == 0
    assert await page.evaluate("document.images.length") == 0
    assert me.watch.dialogs == []
    echoed = page.locator("li[data-role=bot]", has_text=XSS)
    assert await echoed.count() == 1 and await echoed.is_visible()
    assert XSS in await echoed.inner_text()
    mine = page.locator("li[data-role=me]", has_text=f"They said {XSS} twice")
    assert await mine.is_visible()
    async with live_app.coach.db() as session:
        draft = (await session.scalars(sa.select(DialogState))).one()
    assert draft.data["account"] == XSS  # kept as the text it is
    assert draft.data["answers"]["note:opening"] == f"They said {XSS} twice"


async def test_dutch_debrief_with_dutch_labels(me: Visitor, live_app: LiveApp) -> None:
    page = me.page
    t = lambda key, **kw: TEXTS.message("nl", key, **kw)  # noqa: E731
    await me.type("taal nl")
    assert await me.last_bot() == t("language_set")
    assert await page.get_attribute("html", "lang") == "nl"
    assert await page.get_attribute("#input", "placeholder") == t("webchat_placeholder")
    assert await page.locator("#send").inner_text() == t("webchat_send")

    await me.type("debrief Brouwer Bouw")
    question = page.locator("li[data-role=bot]").last
    assert await question.locator(".msg__title").inner_text() == t(
        "point_heading", number=1, title=TEXTS.point("nl", "opening", "title"))
    assert await question.get_by_role("button").all_inner_texts() == ["Ja", "Deels", "Nee"]
    await me.click("Deels")
    await me.click("Ik, informeel")
    await me.click(t("button_skip"))
    await me.click("Ja")  # interactie: welke vragen
    await me.click(t("button_skip"))
    await me.click("Nee")  # huidige situatie: de leverancier, dan een notitie
    await me.click("Niet gevraagd")
    await me.click(t("button_skip"))
    await me.click("Ja")  # concessies
    await me.click("Volgende stap afgesproken")  # de uitkomst beantwoordt punt 5
    await me.type("Offerte voor de pilot")
    await me.type("volgende week dinsdag 14:00")

    tips = page.locator("li[data-kind=tips]")
    await tips.wait_for()
    assert await tips.locator(".msg__title").inner_text() == t("tips_title")
    # the opening (partly) first, whatever else is weak; then the current situation (no)
    items = await tips.locator(".msg__items li").all_inner_texts()
    assert items[0].startswith(TEXTS.point("nl", "opening", "title"))
    assert items[2].startswith(TEXTS.point("nl", "situation", "title"))
    assert t("saved_title") in await page.locator("li[data-kind=saved]").inner_text()

    stored = await only_debrief(live_app)
    assert stored.account_name == "Brouwer Bouw" and stored.debrief.agenda_set_by == "rep_informal"
    assert stored.debrief.next_step_what == "Offerte voor de pilot"
    meeting = stored.debrief.next_meeting_at
    assert meeting is not None
    local = meeting.astimezone(ZoneInfo("Europe/Amsterdam"))
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    assert (local.strftime("%A"), local.hour, local.minute) == ("Tuesday", 14, 0)
    assert 1 <= (local.date() - today).days <= 14
    assert me.watch.errors == [] and me.watch.dialogs == []
