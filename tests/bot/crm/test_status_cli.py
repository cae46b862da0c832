"""`coach crm status [--json]`, `coach crm connect`, and what stays off without COACH_SECRET_KEY."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import channel_status
from bot.config import Settings
from dialogs.context import CoachContext
from storage import crm, outbox
from storage.engine import create_engine, session_factory
from storage.errors import ConfigError
from storage.models import Person
from tests.bot.crm.conftest import SECRET_KEY
from tests.factories import make_person, make_settings, rep_database_for_cli, store_debrief


def _connect(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        db = session_factory(engine)
        async with db() as session, session.begin():
            await crm.connect(
                session=session,
                workspace_id=1,
                crm="hubspot",
                source="token",
                tokens="",
                now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
            )
        async with db() as session:
            person = await session.get(Person, 1)
        assert person is not None
        await store_debrief(CoachContext(db=db), person, account="Acme")
        await engine.dispose()

    asyncio.run(run())


def test_status_json_names_each_workspace_its_crm_and_its_writes(
    run_coach: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = rep_database_for_cli(tmp_path, monkeypatch, config="organisation: Test\n")
    _connect(url)
    result = run_coach(
        "crm",
        "status",
        "--json",
        COACH_DATABASE_URL=url,
        COACH_SECRET_KEY=SECRET_KEY,
        COACH_CONFIG=str(tmp_path / "app.yaml"),
        HUBSPOT_ACCESS_TOKEN="pat-x",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["enabled"] is True
    [ws] = out["workspaces"]
    assert ws == {
        "workspace": "web:local",
        "crm": "hubspot",
        "connected": True,
        "status": "connected",
        "reason": None,
        "last_sync_at": None,
        "pending": 1,
        "failed": 0,
    }
    text = run_coach("crm", "status", COACH_DATABASE_URL=url, COACH_CONFIG=str(tmp_path / "app.yaml"))
    assert "CRM: off (COACH_SECRET_KEY is not set" in text.stdout
    assert "web:local: hubspot connected; last sync never; 1 pending, 0 failed" in text.stdout


def test_connect_prints_an_install_link_for_the_workspace(
    run_coach: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = rep_database_for_cli(tmp_path, monkeypatch, config="organisation: Test\n")
    result = run_coach(
        "crm",
        "connect",
        "hubspot",
        "--base-url",
        "https://coach.example.com",
        "--json",
        COACH_DATABASE_URL=url,
        COACH_SECRET_KEY=SECRET_KEY,
        COACH_CONFIG=str(tmp_path / "app.yaml"),
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["url"].startswith("https://coach.example.com/crm/hubspot/install?grant=")
    refused = run_coach(
        "crm",
        "connect",
        "hubspot",
        "--base-url",
        "https://x",
        COACH_DATABASE_URL=url,
        COACH_CONFIG=str(tmp_path / "app.yaml"),
    )
    assert refused.returncode != 0 and "COACH_SECRET_KEY" in refused.stderr


async def test_without_a_crm_connection_a_debrief_plans_no_crm_write(coach: Any, db: Any) -> None:
    person = await make_person(db)
    await store_debrief(coach, person, account="Acme")
    async with db() as session:
        rows = await outbox.list_rows(session=session)
    assert rows and not [r for r in rows if r.kind == crm.CRM_WRITE]


def test_serve_says_why_the_crm_is_off(tmp_path: Path) -> None:
    assert any(
        "CRM: off (COACH_SECRET_KEY" in line
        for line in channel_status(make_settings(tmp_path, hubspot_access_token="pat-x"), "127.0.0.1", 3978)
    )
    assert any(
        line.startswith("CRM: on (HubSpot private-app token")
        for line in channel_status(
            make_settings(tmp_path, hubspot_access_token="pat-x", secret_key=SECRET_KEY), "127.0.0.1", 3978
        )
    )


def test_a_secret_key_that_is_not_a_fernet_key_stops_in_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("organisation: Test\n")
    with pytest.raises(ConfigError) as refused:
        Settings.load(
            {"COACH_CONFIG": str(tmp_path / "app.yaml"), "COACH_SECRET_KEY": "not-a-fernet-key-at-all"}
        )
    assert "COACH_SECRET_KEY" in refused.value.message and "Fernet" in refused.value.message
    assert "not-a-fernet-key-at-all" not in refused.value.message
