"""What the dialogs need from the runtime, as plain values (dialogs know nothing of bot/)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.text import Texts, default_texts
from dialogs.timing import SchedulePolicy
from storage.models import utcnow


@dataclass(frozen=True)
class CoachContext:
    db: async_sessionmaker[AsyncSession]
    default_locale: str = "en"
    default_timezone: str = "Europe/Amsterdam"
    edit_window_days: int = 7
    share_notes: bool = False
    digest_weekday: str = "mon"
    digest_time: time = time(8, 30)
    nudge_lead_minutes: int = 60
    schedule: SchedulePolicy = field(default_factory=SchedulePolicy)  # time rules
    texts: Texts = field(default_factory=default_texts)
    clock: Callable[[], datetime] = utcnow
    # workspace id -> its CRM ("hubspot", "salesforce"), kept current by bot.crm (who sees what).
    crm_of: dict[int, str] = field(default_factory=dict)
