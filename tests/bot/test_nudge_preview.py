"""`coach nudge preview`: the preparation or nudge a rep would get, through the CLI entry point, as
an operator runs it; it sends and records nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.cli import main
from dialogs.context import CoachContext
from dialogs.text import default_texts
from storage.engine import create_engine, session_factory
from storage.models import Meeting, Outbox, Person
from storage.planning_models import SuggestedTactic
from tests.factories import rep_database_for_cli, store_debrief


def _in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%d 14:00")


def seed(url: str) -> dict[str, Any]:
    """Two debriefs by Sanne with a next meeting each: Acme set the agenda formally, Globex not."""

    async def run() -> dict[str, Any]:
        engine = create_engine(url)
        coach = CoachContext(db=session_factory(engine), texts=default_texts())
        async with coach.db() as session:
            sanne = (await session.scalars(sa.select(Person))).one()
        await store_debrief(coach, sanne, next_meeting_at=_in_days(3))
        await store_debrief(coach, sanne, account="Globex", next_meeting_at=_in_days(8),
                            agenda_set_by="rep_informal")
        async with coach.db() as session:
            meetings = {m.starts_at: m.id for m in (await session.scalars(sa.select(Meeting))).all()}
            rows = {r.dedup_key: (r.kind, r.due_at, r.status)
                    for r in (await session.scalars(sa.select(Outbox))).all()}
            suggested = len((await session.scalars(sa.select(SuggestedTactic))).all())
        await engine.dispose()
        return {"meetings": [meetings[k] for k in sorted(meetings)], "rows": rows, "suggested": suggested}

    return asyncio.run(run())


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_preview_both_kinds_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = rep_database_for_cli(tmp_path, monkeypatch, config="")
    before = seed(url)
    acme, globex = before["meetings"]
    planned = {(kind, key.split(":")[0]): due for key, (kind, due, _) in before["rows"].items()}
    texts = default_texts()

    assert main(["nudge", "preview", "--person", "Sanne@OurCo.nl", "--json"]) == 0
    nudge = json.loads(capsys.readouterr().out)
    assert nudge["kind"] == "nudge" and nudge["meeting_id"] == acme  # the next meeting
    assert nudge["due_at"] == iso(planned[("nudge", f"m{acme}")]) and nudge["status"] == "pending"
    assert nudge["leads_with_tactics"] is True  # Acme set the agenda formally last time
    assert len(nudge["tactics"]) == 2 and set(nudge["tactics"]) <= set(texts.data("en", "tactics"))
    text = nudge["text"]
    assert text.index(texts.render("en", "nudge", "formal_debrief", account="Acme")) < text.index(
        texts.render("en", "nudge", "checks_title"))
    assert "How fast is onboarding?" in text and "Six weeks." in text  # questions with the answers
    assert "[Got it]" in text

    assert main(["nudge", "preview", "--person", "1", "--kind", "prepare", "--json"]) == 0
    prepare = json.loads(capsys.readouterr().out)
    assert prepare["kind"] == "prepare" and prepare["due_at"] == iso(planned[("prepare", f"m{acme}")])
    assert datetime.fromisoformat(prepare["due_at"]) < datetime.fromisoformat(nudge["due_at"])
    assert len(prepare["tactics"]) == 4 and prepare["leads_with_tactics"] is True
    assert [b["value"].split()[-1] for b in prepare["buttons"]] == prepare["tactics"]
    assert texts.render("en", "preparation", "contact_title") in prepare["text"]

    assert main(["nudge", "preview", "--person", "1", "--meeting", str(globex), "--json"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["meeting_id"] == globex and other["leads_with_tactics"] is False
    assert other["text"].index(texts.render("en", "nudge", "checks_title")) < other["text"].index(
        texts.render("en", "nudge", "tactics_title"))

    assert main(["nudge", "preview", "--person", "1", "--kind", "prepare"]) == 0  # for people
    shown = capsys.readouterr().out
    assert shown.startswith(f"prepare for meeting {acme} (Acme), due ") and "Preparing Acme" in shown

    after = seed_state(url)
    assert after == (before["rows"], before["suggested"]), "a preview sends and records nothing"
    assert main(["nudge", "preview", "--person", "nobody@ourco.nl"]) == 2
    assert main(["nudge", "preview", "--person", "1", "--meeting", "999"]) == 2
    assert "no meeting 999" in capsys.readouterr().err


def seed_state(url: str) -> tuple[dict[str, Any], int]:
    async def run() -> tuple[dict[str, Any], int]:
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            rows = {r.dedup_key: (r.kind, r.due_at, r.status)
                    for r in (await session.scalars(sa.select(Outbox))).all()}
            suggested = len((await session.scalars(sa.select(SuggestedTactic))).all())
        await engine.dispose()
        return rows, suggested

    return asyncio.run(run())
