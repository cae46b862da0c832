"""The CSV layout: export → import → export round-trips exactly; a bad row imports nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot import cli
from bot.debrief_csv import COLUMNS, CsvError, export_rows, import_rows, parse_csv, to_csv
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Debrief, DebriefAnswer
from tests.digest_history import add_debrief, seed_history


async def _export(db) -> str:
    async with db() as session:
        return to_csv(await export_rows(session=session))


async def _fresh_db():
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    await migrate.upgrade(engine)
    return engine, session_factory(engine)


async def test_round_trip_is_exact(db, database_url):
    h = await seed_history(db)
    async with db() as s, s.begin():  # text that CSV has to quote, and an edited debrief
        await add_debrief(
            s,
            h.bram,
            'Zeta, "quoted" BV',
            datetime(2026, 11, 29, 7, 5, 3, 120000, tzinfo=UTC),
            "ppnny",
            "next_step",
            customer_questions="Line one\nline two, with comma",
            concessions_given="€ 500 korting — “eenmalig”",
            agenda_set_by="customer_formal",
            supplier_check="not_asked",
            next_step_due=datetime(2026, 12, 4).date(),
            next_meeting_at=datetime(2026, 12, 4, 13, 30, tzinfo=UTC),
            updated_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
        )
    first = await _export(db)
    assert first.startswith(",".join(COLUMNS) + "\r\n") and first.count("\r\n") == 12  # header + 11 debriefs
    engine, other = await _fresh_db()
    try:
        async with other() as s, s.begin():
            assert await import_rows(session=s, rows=parse_csv(first)) == (11, 0)
        assert await _export(other) == first
        async with other() as s, s.begin():  # importing the same file again changes nothing
            assert await import_rows(session=s, rows=parse_csv(first)) == (0, 11)
        assert await _export(other) == first
    finally:
        await engine.dispose()


def _rows(text: str) -> list[str]:
    return text.split("\r\n")


async def test_bad_row_is_refused_with_its_line(db):
    await seed_history(db)
    lines = _rows(await _export(db))
    cells = lines[3].split(",")  # the seeded history has no commas inside cells
    cells[COLUMNS.index("outcome")] = "won"
    bad = ",".join(cells)
    with pytest.raises(CsvError) as exc:
        parse_csv("\r\n".join([*lines[:3], bad, *lines[4:]]))
    assert exc.value.line == 4 and "outcome must be one of" in exc.value.message
    with pytest.raises(CsvError) as exc:
        parse_csv("\r\n".join([lines[0].replace("key", "id"), *lines[1:]]))
    assert exc.value.line == 1 and "missing key" in exc.value.message


def test_cli_import_of_a_bad_file_imports_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.setenv("COACH_CONFIG", str(tmp_path / "missing-is-fine.yaml"))
    (tmp_path / "missing-is-fine.yaml").write_text("{}\n")
    good = (
        "web:local,U9,ann@example.com,Ann,Acme,2026-11-02T10:00:00+00:00,closed,"
        "yes,,rep_informal,yes,,,,partly,,,,no,,,,,yes,,,,2026-11-09,,,"
    )
    assert good.count(",") == len(COLUMNS) - 1
    bad = good.replace("2026-11-02T10:00:00+00:00", "2 November").replace("U9", "U10")
    multi = good.replace(",Acme,", ',"Acme\nCorp",').replace("U9", "U11")
    path = tmp_path / "history.csv"
    path.write_text("\r\n".join([",".join(COLUMNS), good, multi, bad]) + "\r\n", encoding="utf-8")
    assert cli.main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 5: created_at '2 November' is not an ISO 8601 date and time" in err  # after a 2-line row
    assert "nothing was imported" in err

    path.write_text("\r\n".join([",".join(COLUMNS), good]) + "\r\n", encoding="utf-8")
    assert cli.main(["import", str(path), "--json"]) == 0
    assert '"imported": 1' in capsys.readouterr().out
    assert cli.main(["export", "--format", "csv"]) == 0
    exported = capsys.readouterr().out
    assert "2026-11-02T10:00:00+00:00" in exported and ",import:" in exported  # a derived key
    assert cli.main(["import", str(path)]) == 0
    assert "0 debriefs imported, 1 already present" in capsys.readouterr().out


async def test_spreadsheet_rows_need_all_five_ratings(db):
    row = "web:local,U9,,Ann,Acme,2026-11-02T10:00:00+00:00,closed,yes,,,yes,,,,,,,,no,,,,,yes,,,,,,,"
    with pytest.raises(CsvError) as exc:
        parse_csv(",".join(COLUMNS) + "\n" + row + "\n")
    assert exc.value.line == 2 and exc.value.details["column"] == "situation"
    async with db() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(Debrief)) == 0
        assert await s.scalar(sa.select(sa.func.count()).select_from(DebriefAnswer)) == 0
