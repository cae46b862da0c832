"""The database a `coach` command opens, named in one line on stderr (so never in --json output)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot import log_messages as msg
from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


@asynccontextmanager
async def opened(settings: Settings, *, migrate_sqlite: bool = True) -> AsyncIterator[AsyncEngine]:
    """An engine on the configured database once it answers (the embedded SQLite migrated to
    head unless `migrate_sqlite` is false); disposed afterwards."""
    from storage import migrate
    from storage.engine import create_engine, ping

    engine = create_engine(settings.database_url)
    try:
        if migrate_sqlite and settings.is_sqlite:
            await migrate.upgrade(engine)
        else:
            await ping(engine)
        # Run from anywhere, `./coach.db` is wherever that was: say which file (or server) it is.
        print(msg.DATABASE.format(location=settings.database_location), file=sys.stderr, flush=True)
        yield engine
    finally:
        await engine.dispose()
