"""Fixtures of the inbound-endpoint tests (one running app per module, its log, a debrief view)
and of the browser tests (a visitor with the web chat open)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.bot.browser import Visitor, chat_page
from tests.bot.inbound import Running, open_debrief_view
from tests.conftest import LiveApp


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    live = Running(tmp_path_factory.mktemp("inbound"))
    yield live
    live.close()


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING)
    return caplog


@pytest.fixture(scope="module")
def debrief_view(running: Running) -> dict[str, Any]:
    return open_debrief_view(running)


@pytest.fixture
async def me(live_app: LiveApp) -> AsyncIterator[Visitor]:
    """A visitor with the web chat open in a fresh headless Chromium."""
    async with chat_page(live_app.url) as visitor:
        yield visitor
