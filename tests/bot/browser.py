"""The web chat in headless Chromium (Debian's, through Playwright; never downloaded): finding the
browser, watching what the page should not do, and a visitor at the keyboard."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Dialog, Locator, Page, async_playwright

LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    """Debian's Chromium (or COACH_CHROMIUM); skip without one, but fail where CI requires it."""
    path = os.environ.get("COACH_CHROMIUM") or shutil.which("chromium")
    if path and os.access(path, os.X_OK):
        return path
    reason = "no Chromium found (install Debian's chromium or set COACH_CHROMIUM)"
    if os.environ.get("COACH_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; COACH_REQUIRE_BROWSER=1 requires the browser test")
    pytest.skip(reason)


@dataclass
class Watch:
    """What the page did that it should not: JavaScript dialogs, console errors, failed requests."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Visitor:
    """A person at the keyboard: types into the composer or clicks a button of the last question."""

    def __init__(self, page: Page, watch: Watch) -> None:
        self.page = page
        self.watch = watch

    async def settle(self) -> None:
        await self.page.wait_for_selector("body:not([data-busy])")

    async def type(self, text: str) -> None:
        await self.page.fill("#input", text)
        await self.page.press("#input", "Enter")
        await self.settle()

    async def click(self, label: str) -> None:
        last = self.page.locator("li[data-role=bot]").last
        await last.get_by_role("button", name=label, exact=True).click()
        await self.settle()

    async def last_bot(self) -> str:
        return str(await self.page.locator("li[data-role=bot]").last.inner_text())

    def open_question(self) -> Locator:
        """The question the page shows as open: the last one whose buttons are still live."""
        return self.page.locator("li[data-expect]:not([data-stale])").last

    async def reload(self) -> None:
        await self.page.reload()
        await self.page.wait_for_selector("body[data-ready='1']:not([data-busy])")


@asynccontextmanager
async def chat_page(url: str) -> AsyncIterator[Visitor]:
    """The web chat at `url` in a fresh headless Chromium, ready for input."""
    executable = chromium_path()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        context = await browser.new_context(locale="en-GB", viewport={"width": 900, "height": 800})
        tab = await context.new_page()
        tab.set_default_timeout(10_000)
        watch = Watch()

        async def on_dialog(dialog: Dialog) -> None:
            watch.dialogs.append(dialog.message)
            await dialog.dismiss()

        tab.on("dialog", on_dialog)
        tab.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda exc: watch.errors.append(str(exc)))
        await tab.goto(url + "/")
        await tab.wait_for_selector("body[data-ready='1']:not([data-busy])")
        try:
            yield Visitor(tab, watch)
        finally:
            await browser.close()
