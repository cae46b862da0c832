"""Fixtures of the CRM tests: a live app with the CRM on, pointed at the fake HubSpot or Salesforce,
a rep with an e-mail, a workspace admin, and helpers to file and correct debriefs as reps do."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.config import OrgConfig, Settings
from bot.crm.runtime import CRM
from bot.keys import SETTINGS
from bot.scheduling.scheduler import wake_scheduler
from dialogs.debrief import submit_correction
from dialogs.validation import Locality, validate_form
from storage import crm, crm_outcomes
from storage.models import Person
from tests.conftest import LiveApp
from tests.factories import full_form, make_person, make_settings, store_debrief
from tests.fakes.hubspot_api import FakeHubSpot

SECRET_KEY = Fernet.generate_key().decode()


@pytest.fixture
async def hubspot() -> AsyncIterator[FakeHubSpot]:
    fake = await FakeHubSpot().start()
    yield fake
    await fake.close()


@pytest.fixture
def org() -> OrgConfig:
    return OrgConfig(internal_domains=["ourco.nl"])


@pytest.fixture
def crm_settings() -> dict[str, Any]:
    """What the test's environment would hold beyond the key: a HubSpot private-app token."""
    return {"hubspot_access_token": "pat-test"}


@pytest.fixture
def settings(tmp_path: Path, org: OrgConfig, hubspot: FakeHubSpot, crm_settings: dict[str, Any]) -> Settings:
    return make_settings(
        tmp_path,
        org=org,
        secret_key=SECRET_KEY,
        hubspot_api_url=hubspot.url,
        hubspot_app_url=hubspot.url,
        **crm_settings,
    )


@pytest.fixture
async def rep(live_app: LiveApp) -> Person:
    return await make_person(live_app.coach.db, user_id="U1", name="Sanne de Vries", email="sanne@ourco.nl")


@pytest.fixture
async def admin(live_app: LiveApp, rep: Person) -> Person:
    return await make_person(
        live_app.coach.db, user_id="A1", name="Ada Admin", email="ada@ourco.nl", role="admin"
    )


async def tick(live_app: LiveApp) -> None:
    """What the CRM's background tick does (connect the environment's token, read deal stages)."""
    await live_app.app[CRM].tick()


async def interval_passed(live_app: LiveApp) -> None:
    """Time passes: every connection's deal stages were last read one crm.poll_minutes ago."""
    coach = live_app.coach
    earlier = coach.clock() - timedelta(minutes=live_app.app[SETTINGS].org.crm.poll_minutes)
    async with coach.db() as session, session.begin():
        for conn in await crm.all_connections(session=session):
            assert conn.id is not None
            await crm_outcomes.mark_polled(session=session, connection_id=conn.id, now=earlier)


async def coach_crm_poll(
    run_coach: Any, live_app: LiveApp, *args: str, **crm_env: str
) -> subprocess.CompletedProcess[str]:
    """`coach crm poll ARGS` in a subprocess on the live app's database, with its secret key and
    `crm_env` (the CRM credential and address); the fakes answer from this test's event loop."""
    settings = live_app.app[SETTINGS]
    assert settings.config_path is not None
    await asyncio.to_thread(Path(settings.config_path).write_text, "organisation: Test\n", encoding="utf-8")
    env = {
        "COACH_DATABASE_URL": settings.database_url,
        "COACH_CONFIG": settings.config_path,
        "COACH_SECRET_KEY": SECRET_KEY,
        **crm_env,
    }
    return await asyncio.to_thread(run_coach, "crm", "poll", *args, **env)


async def settled(live_app: LiveApp) -> None:
    wake_scheduler(live_app.app)
    await live_app.outbox_settled(within=15)


async def due_now(live_app: LiveApp, person: Person) -> None:
    """Time passes: the rep's CRM writes put off for a retry are due now."""
    assert person.id is not None
    async with live_app.coach.db() as session, session.begin():
        await crm.wake_writes(session=session, person_id=person.id, now=live_app.coach.clock())


async def file(live_app: LiveApp, person: Person, **form: Any) -> int:
    debrief_id = await store_debrief(live_app.coach, person, **form)
    await settled(live_app)
    return debrief_id


async def correct(live_app: LiveApp, person: Person, debrief_id: int, **form: Any) -> None:
    assert person.id is not None
    coach = live_app.coach
    loc = Locality(locale="en", timezone="Europe/Amsterdam", now=coach.clock())
    debrief, errors = validate_form(full_form(**form), texts=coach.texts, loc=loc)
    assert debrief is not None and not errors
    await submit_correction(ctx=coach, person_id=person.id, debrief_id=debrief_id, debrief=debrief)
    await settled(live_app)


async def crm_writes(live_app: LiveApp) -> list[dict[str, Any]]:
    """The CRM write rows of the outbox, as `coach outbox list --json` shows them."""
    from storage import outbox

    async with live_app.coach.db() as session:
        rows = await outbox.list_rows(session=session)
    return [outbox.row_json(r) for r in rows if r.kind == crm.CRM_WRITE]


def ics(rep_email: str, customer_email: str, *, start: datetime | None = None) -> str:
    """A calendar file with one customer meeting (the account comes from the attendee's domain)."""
    start = start or datetime.now(UTC) - timedelta(hours=2)
    fmt = "%Y%m%dT%H%M%SZ"
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//test//EN",
            "BEGIN:VEVENT",
            "UID:crm-test-1",
            f"DTSTAMP:{start.strftime(fmt)}",
            f"DTSTART:{start.strftime(fmt)}",
            f"DTEND:{(start + timedelta(hours=1)).strftime(fmt)}",
            "SUMMARY:Pilot talk",
            f"ORGANIZER:mailto:{rep_email}",
            f"ATTENDEE:mailto:{customer_email}",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
