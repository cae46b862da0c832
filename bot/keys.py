"""The typed keys under which the app keeps what every part shares (a leaf: imports no other part)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.metrics import Metrics
from dialogs.context import CoachContext
from dialogs.text import Texts

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
DB = web.AppKey("db", async_sessionmaker[AsyncSession])
COACH = web.AppKey("coach", CoachContext)
METRICS = web.AppKey("metrics", Metrics)
TEXTS = web.AppKey("texts", Texts)
