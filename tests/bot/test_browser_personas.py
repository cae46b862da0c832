"""The demo's persona picker in headless Chromium: switch to the manager, send a rep the digest's
action point (edited, with markup in it that stays text), switch back and see it as the rep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Dialog, async_playwright

from bot import demo
from bot.config import OrgConfig, Settings
from tests.bot.action_journey import points
from tests.bot.test_browser import LAUNCH_ARGS, XSS, Visitor, Watch, chromium_path
from tests.conftest import LiveApp
from tests.factories import make_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig) -> Settings:
    return make_settings(tmp_path, org=org, demo=True)


@pytest.fixture
async def visitor(live_app: LiveApp) -> AsyncIterator[Visitor]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        context = await browser.new_context(locale="en-GB", viewport={"width": 900, "height": 900})
        tab = await context.new_page()
        tab.set_default_timeout(10_000)
        watch = Watch()

        async def on_dialog(dialog: Dialog) -> None:
            watch.dialogs.append(dialog.message)
            await dialog.dismiss()

        tab.on("dialog", on_dialog)
        tab.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda exc: watch.errors.append(str(exc)))
        await tab.goto(live_app.url + "/")
        await tab.wait_for_selector("body[data-ready='1']:not([data-busy])")
        try:
            yield Visitor(tab, watch)
        finally:
            await browser.close()


async def test_switch_to_the_manager_send_an_action_point_and_see_it_as_the_rep(
    visitor: Visitor, live_app: LiveApp
) -> None:
    page = visitor.page
    picker = page.locator("#persona")
    await picker.wait_for()
    assert await picker.input_value() == demo.REPS[0].email  # the rep Sanne to begin with
    assert "Sanne" in await page.locator("li[data-role=bot]").first.inner_text()

    await picker.select_option(demo.MANAGER[2])
    await visitor.settle()
    greeting = page.locator("li[data-role=bot]")
    assert await greeting.count() == 1 and "Maartje" in await greeting.first.inner_text()

    await visitor.type("team")
    await page.locator("img.msg__image").wait_for()  # the chart, inline
    sanne_part = page.locator("li[data-kind=digest]", has_text="Sanne de Vries").filter(
        has=page.locator(".msg__form"))
    form = sanne_part.locator(".msg__form")
    await form.get_by_label("Action point for Sanne de Vries").fill(f"Propose your own agenda {XSS}")
    await form.get_by_role("button", name="Send to Sanne de Vries").click()
    await visitor.settle()
    assert "Sent to Sanne de Vries" in await visitor.last_bot()
    (point,) = await points(live_app.coach)
    assert point.text == f"Propose your own agenda {XSS}"

    await picker.select_option(demo.REPS[0].email)
    await visitor.settle()
    shown = await page.locator("#log").inner_text()
    assert f"Maartje Jansen asked you to: Propose your own agenda {XSS}" in shown
    assert await page.locator("#log img:not(.msg__image)").count() == 0  # the markup stayed text
    await page.locator("li[data-role=bot]").last.get_by_role("button", name="Done").click()
    await visitor.settle()
    assert "Marked as done" in await visitor.last_bot()
    assert [p.status for p in await points(live_app.coach)] == ["done"]
    assert visitor.watch.dialogs == [] and visitor.watch.errors == []
