"""The demo's persona picker in headless Chromium: switch to the manager, send a rep the digest's
action point (edited, with markup in it that stays text), switch back and see it as the rep."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import demo
from bot.config import OrgConfig, Settings
from tests.bot.action_journey import points
from tests.bot.browser import Visitor
from tests.conftest import LiveApp
from tests.factories import make_settings

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig) -> Settings:
    return make_settings(tmp_path, org=org, demo=True)


async def test_switch_to_the_manager_send_an_action_point_and_see_it_as_the_rep(
    me: Visitor, live_app: LiveApp
) -> None:
    visitor, page = me, me.page
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
