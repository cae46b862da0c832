"""Weekly digests through the outbox (once per manager and week, DST-correct), team sync from app.yaml."""

from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa

from bot.config import OrgConfig
from bot.scheduling.digest_jobs import (
    enqueue_due_digests,
    last_occurrence,
    render_digest,
    sync_teams,
    tick,
)
from bot.scheduling.kinds import renderers
from storage import outbox
from storage.models import Outbox, Person
from storage.sales_teams import Team
from tests.digest_history import seed_coaching, seed_history
from tests.factories import make_person, make_settings


def test_digest_moment_in_local_time_across_dst():
    winter = last_occurrence(
        datetime(2026, 11, 30, 9, 0, tzinfo=UTC), weekday="mon", at=time(8, 30), tz="Europe/Amsterdam"
    )
    summer = last_occurrence(
        datetime(2026, 6, 29, 9, 0, tzinfo=UTC), weekday="mon", at=time(8, 30), tz="Europe/Amsterdam"
    )
    before = last_occurrence(
        datetime(2026, 11, 30, 7, 0, tzinfo=UTC), weekday="mon", at=time(8, 30), tz="Europe/Amsterdam"
    )
    assert winter == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
    assert summer == datetime(2026, 6, 29, 6, 30, tzinfo=UTC)
    assert before == datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # not yet 08:30 local: last week's


async def test_one_digest_per_manager_and_week(coach, db, clock, database_url):
    h = await seed_history(db)
    async with db() as s, s.begin():
        assert await enqueue_due_digests(session=s, ctx=coach, now=clock()) == 2  # Mira and Olaf
    async with db() as s, s.begin():
        assert await enqueue_due_digests(session=s, ctx=coach, now=clock()) == 0  # a second replica
    async with db() as s:
        row = await s.scalar(sa.select(Outbox).where(Outbox.person_id == h.manager.id))
    assert (row.kind, row.dedup_key) == ("digest", f"digest:{h.manager.id}:2026-11-30")
    assert row.due_at == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
    assert renderers()["digest"] is render_digest
    item = outbox.Item(
        row.id, row.dedup_key, row.kind, row.person_id, row.payload, row.due_at, row.expires_at, 0
    )
    message = await render_digest(coach, item)
    assert message.replies[0].meta["section"] == "summary"
    (chart,) = message.attachments
    assert chart.mime_type == "image/png" and chart.content[:4] == b"\x89PNG"


async def test_teams_from_app_yaml(coach, db):
    boss = await make_person(
        db, user_id="U-BOSS", name="Boss", email="Boss@Example.com", platform="slack", workspace="T1"
    )
    rep = await make_person(db, user_id="U-REP", name="Rep", platform="slack", workspace="T1")
    elsewhere = await make_person(db, user_id="U-REP", name="Rep", platform="slack", workspace="T2")
    org = OrgConfig.model_validate(
        {
            "teams": [
                {
                    "name": "Benelux",
                    "manager": {"email": "boss@example.com"},
                    "reps": [{"slack_user_id": "U-REP"}, {"email": "nobody-yet@example.com"}],
                }
            ]
        }
    )
    async with db() as s, s.begin():
        assert await sync_teams(session=s, org=org) == 1
    async with db() as s, s.begin():
        assert await sync_teams(session=s, org=org) == 0  # idempotent
    async with db() as s:
        assert (await s.get(Person, rep.id)).manager_id == boss.id
        assert (await s.get(Person, elsewhere.id)).manager_id is None  # another workspace
        assert (await s.get(Person, boss.id)).role == "manager"
        assert (await s.scalar(sa.select(Team.name).where(Team.manager_id == boss.id))) == "Benelux"
    assert await tick(coach, org, retention=True) == {"links": 0, "digests": 1, "deleted": 0}


async def test_demo_manager_digest_is_worth_reading(coach, db, tmp_path):
    from bot.demo import MANAGER, seed_demo
    from dialogs.digest import compute_digests
    from storage.digest_queries import Period

    settings = make_settings(tmp_path, database_url="sqlite+aiosqlite://")
    await seed_demo(coach, settings)
    await seed_demo(coach, settings)
    async with db() as s:
        manager_id = await s.scalar(sa.select(Person.id).where(Person.platform_user_id == MANAGER[0]))
        (d,) = await compute_digests(session=s, period=Period.ending(coach.clock()), manager_ids=[manager_id])
    assert d.team_name == "Benelux" and len(d.reps) == 3
    assert d.team.debriefs > 0 and d.team.weakest is not None
    assert d.meetings_without_debrief == 2  # seeded once, though seeded twice


def test_cli_digest_preview(tmp_path, monkeypatch, capsys):
    import asyncio
    import json

    from bot import cli
    from storage import migrate
    from storage.engine import create_engine, session_factory

    url = f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}"
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    monkeypatch.setenv("COACH_CONFIG", str(tmp_path / "app.yaml"))
    (tmp_path / "app.yaml").write_text("default_locale: nl\n")

    async def seed() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await seed_history(session_factory(engine))
        await engine.dispose()

    asyncio.run(seed())
    at = "2026-11-30T09:00:00+00:00"
    assert (
        cli.main(
            [
                "digest",
                "preview",
                "--manager",
                "mira@example.com",
                "--at",
                at,
                "--json",
                "--chart",
                str(tmp_path / "chart.png"),
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["debriefs"] == 5
    assert data["summary"]["deals"] == {"won": 2, "lost": 1, "win_rate": None}  # 3 deals: too few
    assert data["summary"]["meetings"] == {"count": 5, "closing": 4, "closing_rate": 0.8}
    assert data["summary"]["point_evidence"]["opening"] == {
        "well_won": 2, "well_n": 2, "weak_won": 1, "weak_n": 2, "interval": None
    }
    assert [r["name"] for r in data["reps"]] == ["Anna Aalders", "Bram Bos", "Cor Claes"]
    anna = data["reps"][0]
    assert anna["deals"] == {"won": 1, "lost": 1, "win_rate": None}
    assert anna["meetings"] == {"count": 3, "closing": 2, "closing_rate": 2 / 3}
    assert (anna["action_point"]["pattern"], anna["action_point"]["count"]) == ("rating:opening", 3)
    assert anna["action_point"]["text"] and anna["action_point"]["example_debrief_id"] > 0
    assert (anna["action_points_open"], anna["action_points_done"]) == (0, 0)
    assert data["reps"][2]["action_point"] is None
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["digest", "preview", "--manager", "mira@example.com", "--at", at]) == 0
    out = capsys.readouterr().out
    assert "Win rate per deal: 2 of 3 concluded deals won this period, too few to tell" in out
    assert "Anna Aalders" in out and "Action point on Opening commitment" in out  # Mira's own locale: en
    assert cli.main(["digest", "preview", "--manager", "nobody@example.com"]) == 2
    assert "no person with e-mail or user id 'nobody@example.com'" in capsys.readouterr().err


async def test_the_next_digest_reports_the_action_points(coach, db, clock):
    """The weekly digest after action points were sent: open and done per rep, and how the
    pattern each targets moved since (worked out in tests/digest_history.py)."""
    h = await seed_coaching(db)
    async with db() as s, s.begin():
        assert await enqueue_due_digests(session=s, ctx=coach, now=clock()) == 1
    async with db() as s:
        row = await s.scalar(sa.select(Outbox).where(Outbox.person_id == h.manager.id))
    item = outbox.Item(
        row.id, row.dedup_key, row.kind, row.person_id, row.payload, row.due_at, row.expires_at, 0
    )
    message = await render_digest(coach, item)
    summary, rita, sem, chart = message.replies
    assert "Action points: 1 open, 1 done this period." in summary.items
    assert rita.items[0].startswith("Action point on Opening commitment: 4 of 10 meetings")
    assert "Action points: 1 open, 0 done this period." in rita.items
    assert any(i.startswith("Since the action point of Mon 16 Nov 2026 (still open)") and "2 of 8" in i
               for i in rita.items)
    assert any(i.startswith("Since the action point of Mon 2 Nov 2026 (done)") for i in sem.items)
    assert chart.text.startswith("Chart. Left:") and message.attachments[0].mime_type == "image/png"
