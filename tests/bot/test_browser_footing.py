"""The web chat keeps its footing, in headless Chromium: a reload mid-debrief shows the open
question again, an old button is disabled and, pressed anyway, never becomes an answer, help is
grouped, customers are offered as the rep types, hovering never looks like choosing, and a
typical debrief by clicking takes seconds. None of it depends on how many questions a debrief
asks: whatever question is open is answered from what it asks for."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from dialogs.text import default_texts
from storage.models import Debrief, DialogState, Person
from tests.bot.browser import Visitor
from tests.conftest import LiveApp
from tests.factories import store_debrief

pytestmark = pytest.mark.browser

TEXTS = default_texts()
# A typical meeting: two weak points, a next meeting date; the rest went well.
TYPICAL = {"rating:opening": "partly", "rating:situation": "no", "outcome": "next_step"}
TYPED = {"next_meeting_at": "next Tuesday 2pm", "next_step_due": "Friday"}


async def dialog(live: LiveApp) -> DialogState | None:
    async with live.coach.db() as session:
        return (await session.scalars(sa.select(DialogState))).one_or_none()


async def visitor_person(live: LiveApp) -> Person:
    async with live.coach.db() as session:
        return (await session.scalars(sa.select(Person).where(Person.platform_user_id.like("web:%")))).one()


async def open_step(me: Visitor) -> str:
    return str(await me.open_question().get_attribute("data-expect")).split("@")[0]


async def answer_open_question(me: Visitor, plan: dict[str, str] | None = None) -> str:
    """Answer the open question as the plan says (by a button's value), else by typing what it
    asks for, else by its Skip button or its first button, else by typing "skip"; its step."""
    plan = {**TYPICAL, **(plan or {})}
    question = me.open_question()
    step = await open_step(me)
    buttons = question.locator("button:enabled")
    values = [await b.get_attribute("data-value") for b in await buttons.all()]
    if step == "account":
        await me.type("Acme")
    elif step in TYPED:
        await me.type(TYPED[step])
    elif plan.get(step) in values or (step.startswith("rating:") and "yes" in values):
        await question.locator(f"button[data-value='{plan.get(step, 'yes')}']").click()
        await me.settle()
    elif "/skip" in values:
        await question.locator("button[data-value='/skip']").click()
        await me.settle()
    elif values:
        await buttons.first.click()
        await me.settle()
    else:
        await me.type("skip")
    return step


async def test_a_reload_mid_debrief_shows_the_open_question_and_answers_it(
    me: Visitor, live_app: LiveApp
) -> None:
    page = me.page
    await me.type("debrief Acme")
    await answer_open_question(me)
    shown = me.open_question()
    expect, text = await shown.get_attribute("data-expect"), await shown.inner_text()

    await me.reload()
    assert await page.locator("li[data-role=bot]").count() == 2  # the lead and the question only
    assert await page.locator("li[data-role=bot]").first.inner_text() == TEXTS.message(
        "en", "resume_debrief", account="Acme")
    again = me.open_question()
    assert (await again.get_attribute("data-expect"), await again.inner_text()) == (expect, text)
    assert await again.locator("button:enabled").count() > 0

    step = await answer_open_question(me)  # what is done next answers the question on screen
    state = await dialog(live_app)
    assert state is None or step in state.data["answers"] or state.step != step
    assert state is None or f"{state.step}@{state.version}" != expect
    assert me.watch.errors == [] and me.watch.dialogs == []


async def test_an_old_edit_button_mid_debrief_is_disabled_and_never_an_answer(
    me: Visitor, live_app: LiveApp
) -> None:
    page = me.page
    await store_debrief(live_app.coach, await visitor_person(live_app))
    await me.type("history")
    listing = page.locator("li[data-kind=history]").last
    edit = listing.get_by_role("button", name=TEXTS.message("en", "button_edit", number=1))
    assert await edit.is_enabled()

    await me.type("debrief Globex")
    await answer_open_question(me, {"rating:opening": "no"})  # on into the debrief
    assert await edit.is_disabled()  # out of date: the chat moved on
    before = await dialog(live_app)
    assert before is not None

    await edit.evaluate("b => { b.disabled = false; b.click(); }")  # pressed anyway
    await me.settle()
    refusal = TEXTS.message("en", "button_not_an_answer", text="edit 1")
    assert await page.locator("li[data-role=bot]", has_text=refusal).count() == 1
    after = await dialog(live_app)
    assert after is not None and (after.step, after.version, after.data) == (
        before.step, before.version, before.data)
    assert await me.open_question().get_attribute("data-expect") == f"{before.step}@{before.version}"

    # `history` typed mid-debrief: its Edit button is live, and still not an answer.
    await me.type("history")
    fresh = page.locator("li[data-kind=history]").last.get_by_role(
        "button", name=TEXTS.message("en", "button_edit", number=1))
    assert await fresh.is_enabled()
    await fresh.click()
    await me.settle()
    assert await page.locator("li[data-role=bot]", has_text=refusal).count() == 2
    latest = await dialog(live_app)
    assert latest is not None and latest.data == before.data
    async with live_app.coach.db() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Debrief)) == 1
    assert me.watch.errors == [] and me.watch.dialogs == []


async def test_help_is_grouped(me: Visitor) -> None:
    await me.type("help")
    reply = me.page.locator("li[data-kind=help]").last
    titles = await reply.locator(".msg__group-title").all_inner_texts()
    data = TEXTS.data("en", "messages")["help_groups"]
    assert [t.casefold() for t in titles] == [
        data[k]["title"].casefold() for k in ("debriefs", "meetings", "data", "other")]
    meetings = await reply.locator(".msg__group").nth(1).locator("li").all_inner_texts()
    assert meetings == data["meetings"]["items"]
    await me.type("frobnicate")
    unknown = me.page.locator("li[data-kind=help]").last
    assert await unknown.locator(".msg__group").count() == 4
    assert TEXTS.message("en", "unknown_command", text="frobnicate") in await unknown.inner_text()


async def test_customers_are_offered_as_the_rep_types(me: Visitor, live_app: LiveApp) -> None:
    page = me.page
    day = (date.today() + timedelta(days=7)).isoformat()
    await me.type(f"meeting Acme Logistics {day} 10:00")
    await page.fill("#input", "")
    await page.type("#input", "debrief ac")
    chip = page.locator("#suggestions button", has_text="Acme Logistics")
    await chip.wait_for()
    await chip.click()
    await me.settle()
    assert TEXTS.message("en", "start_debrief", account="Acme Logistics") in await page.locator(
        "li[data-role=bot]").nth(-2).inner_text()
    assert await page.locator("#suggestions").is_hidden()


async def test_hover_never_looks_chosen(me: Visitor) -> None:
    page = me.page
    await me.type("debrief Acme")
    buttons = me.open_question().locator("button")
    await buttons.nth(1).hover()
    hovered = await buttons.nth(1).evaluate("b => getComputedStyle(b).backgroundColor")
    await buttons.nth(0).click()
    await me.settle()
    chosen = await page.locator("button.is-chosen").last.evaluate("b => getComputedStyle(b).backgroundColor")
    assert hovered != chosen


async def test_a_typical_debrief_by_clicking(me: Visitor, live_app: LiveApp) -> None:
    """Two weak points and a next meeting date; prints the prompts and the seconds it takes."""
    page = me.page
    started = time.perf_counter()
    await me.click(TEXTS.message("en", "button_debrief"))
    prompts: list[str] = []
    while await page.locator("li[data-kind=saved]").count() == 0:
        prompts.append(await answer_open_question(me))
        assert len(prompts) < 40, prompts
    seconds = time.perf_counter() - started
    assert prompts[0] == "account" and len(prompts) - 1 <= 14, prompts  # the typical path's target
    print(f"\ntypical web chat debrief: {len(prompts) - 1} prompts after the customer's name, "
          f"{seconds:.2f} s in headless Chromium ({prompts})")
    async with live_app.coach.db() as session:
        debrief = (await session.scalars(sa.select(Debrief))).one()
    assert debrief.outcome == "next_step" and debrief.next_meeting_at is not None
    assert await page.locator("li[data-expect] button:enabled").count() == 0
    assert seconds < 60
    assert me.watch.errors == [] and me.watch.dialogs == []
