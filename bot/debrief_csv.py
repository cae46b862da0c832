"""Debriefs in and out as CSV, in one documented layout (`coach export --format csv`, `coach import`).

Layout (UTF-8, comma-separated, RFC 4180 quoting, header row exactly COLUMNS): one row per debrief.
- workspace: "<platform>:<id>" (web:local, slack:T0123, teams:<tenant id>); person: the platform
  user id; person_email, person_name: used only when the person is new.
- created_at, updated_at, next_meeting_at: ISO 8601 with offset (2026-11-24T10:00:00+00:00);
  next_step_due: ISO date (2026-11-25). An empty cell is "no value".
- opening, interaction, situation, concessions, next_step: yes / partly / no (all five required),
  each with a <point>_note column; outcome: closed / next_step / postponed / lost;
  agenda_set_by, supplier_check: the checklist's choices.
- key: the debrief's idempotency key. Importing a row whose key exists changes nothing, so an
  import can be repeated. Left empty (a spreadsheet), it is derived from the row's content.
Import checks every row first: one bad row refuses the whole file, naming its line number.
Export → import → export gives the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.checklist import (
    ACCOUNT_LIMIT,
    AGENDA_CHOICES,
    NOTE_LIMIT,
    OUTCOMES,
    POINT_RATINGS,
    POINTS,
    RATINGS,
    SUPPLIER_CHOICES,
)
from storage import csv_rows
from storage.accounts import get_or_create_account
from storage.debriefs import AnswerRow, create_debrief
from storage.errors import CoachError
from storage.models import Platform
from storage.people import get_or_create_person, get_or_create_workspace

TEXT_COLUMNS = (
    "customer_questions",
    "answers_given",
    "customer_tried",
    "concessions_asked",
    "concessions_given",
    "concessions_got",
    "next_step_what",
    "next_step_who",
)
CHOICE_COLUMNS = {"agenda_set_by": AGENDA_CHOICES, "supplier_check": SUPPLIER_CHOICES}
POINT_EXTRAS = {
    "opening": ("agenda_set_by",),
    "interaction": ("customer_questions", "answers_given"),
    "situation": ("customer_tried", "supplier_check"),
    "concessions": ("concessions_asked", "concessions_given", "concessions_got"),
    "next_step": ("next_step_what", "next_step_who", "next_step_due", "next_meeting_at"),
}
COLUMNS: tuple[str, ...] = (
    "workspace",
    "person",
    "person_email",
    "person_name",
    "account",
    "created_at",
    "outcome",
    *(c for p in POINTS for c in (p, f"{p}_note", *POINT_EXTRAS[p])),
    "updated_at",
    "key",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CsvError(CoachError):
    """A CSV file that cannot be imported; `line` is the 1-based line in the file."""

    def __init__(self, message: str, *, line: int, column: str | None = None) -> None:
        super().__init__(f"line {line}: {message}", line=line, column=column)
        self.line = line


@dataclass(frozen=True)
class CsvDebrief:
    line: int
    platform: str
    workspace: str
    person: str
    person_email: str | None
    person_name: str
    account: str
    created_at: datetime
    fields: dict[str, Any]
    ratings: dict[str, str]
    notes: dict[str, str | None]
    key: str


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- export --------------------------------------------------------------------------------------
async def export_rows(*, session: AsyncSession, workspace_id: int | None = None) -> list[list[str]]:
    """Every debrief (of one workspace, or all) as CSV rows, oldest first: one statement."""
    out = []
    for row in await csv_rows.debrief_rows(session=session, points=POINTS, workspace_id=workspace_id):
        d = row.debrief
        values: dict[str, Any] = {
            "workspace": f"{row.platform}:{row.workspace}",
            "person": row.person,
            "person_email": row.person_email,
            "person_name": row.person_name,
            "account": row.account,
            "created_at": d.created_at,
            "outcome": d.outcome,
            "updated_at": d.updated_at,
            "key": d.idempotency_key,
        }
        for p in POINTS:
            values[p], values[f"{p}_note"] = row.answers[p]
            for extra in POINT_EXTRAS[p]:
                values[extra] = getattr(d, extra)
        out.append([_cell(values[c]) for c in COLUMNS])
    return out


def to_csv(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


# -- import --------------------------------------------------------------------------------------
def _when(raw: str, column: str, line: int) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise CsvError(
            f"{column} {raw[:40]!r} is not an ISO 8601 date and time", line=line, column=column
        ) from None
    if value.tzinfo is None:
        raise CsvError(f"{column} {raw[:40]!r} needs a UTC offset (+00:00)", line=line, column=column)
    return value


def parse_row(cells: dict[str, str], line: int) -> CsvDebrief:
    def text(column: str, limit: int = NOTE_LIMIT) -> str | None:
        raw = cells[column]
        if _CONTROL.search(raw):
            raise CsvError(f"{column} contains control characters", line=line, column=column)
        if len(raw) > limit:
            raise CsvError(
                f"{column} is {len(raw)} characters; the limit is {limit}", line=line, column=column
            )
        return raw or None

    def one_of(column: str, allowed: tuple[str, ...], required: bool) -> str | None:
        raw = cells[column]
        if not raw and not required:
            return None
        if raw not in allowed:
            raise CsvError(
                f"{column} must be one of {', '.join(allowed)} (got {raw[:40]!r})", line=line, column=column
            )
        return raw

    platform, _, workspace = cells["workspace"].partition(":")
    if platform not in tuple(Platform) or not workspace:
        raise CsvError("workspace must be <web|slack|teams>:<id>", line=line, column="workspace")
    person = text("person", 128)
    if not person:
        raise CsvError("person is empty", line=line, column="person")
    account = text("account", ACCOUNT_LIMIT)
    if not account or not account.strip():
        raise CsvError("account is empty", line=line, column="account")
    fields: dict[str, Any] = {"outcome": one_of("outcome", OUTCOMES, True)}
    for column in TEXT_COLUMNS:
        fields[column] = text(column)
    for column, choices in CHOICE_COLUMNS.items():
        fields[column] = one_of(column, choices, False)
    due = cells["next_step_due"]
    try:
        fields["next_step_due"] = date.fromisoformat(due) if due else None
    except ValueError:
        raise CsvError(
            f"next_step_due {due[:40]!r} is not an ISO date (2026-12-07)", line=line, column="next_step_due"
        ) from None
    fields["next_meeting_at"] = (
        _when(cells["next_meeting_at"], "next_meeting_at", line) if cells["next_meeting_at"] else None
    )
    fields["updated_at"] = _when(cells["updated_at"], "updated_at", line) if cells["updated_at"] else None
    ratings = {p: str(one_of(p, POINT_RATINGS.get(p, RATINGS), True)) for p in POINTS}
    notes = {p: text(f"{p}_note") for p in POINTS}
    key = (
        text("key", 200)
        or "import:"
        + hashlib.sha256("\x1f".join(cells[c] for c in COLUMNS if c != "key").encode()).hexdigest()[:40]
    )
    return CsvDebrief(
        line=line,
        platform=platform,
        workspace=workspace,
        person=person,
        person_email=text("person_email", 320),
        person_name=text("person_name", 200) or "",
        account=account,
        created_at=_when(cells["created_at"], "created_at", line),
        fields=fields,
        ratings=ratings,
        notes=notes,
        key=key,
    )


def parse_csv(content: str) -> list[CsvDebrief]:
    """Every row, validated; CsvError (with its line number) at the first bad one."""
    reader = csv.reader(io.StringIO(content.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvError("the file is empty; the first line must be the header", line=1) from None
    except csv.Error as exc:
        raise CsvError(f"not valid CSV ({exc})", line=1) from None
    if tuple(header) != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        detail = f"missing {', '.join(missing)}" if missing else "columns in another order or extra columns"
        raise CsvError(f"the header does not match the documented layout ({detail})", line=1)
    rows: list[CsvDebrief] = []
    keys: dict[tuple[str, str, str], int] = {}
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CsvError(f"not valid CSV ({exc})", line=line) from None
        if not any(cells):
            continue
        if len(cells) != len(COLUMNS):
            raise CsvError(f"{len(cells)} columns; the layout has {len(COLUMNS)}", line=line)
        row = parse_row(dict(zip(COLUMNS, cells, strict=True)), line)
        ident = (row.platform, row.workspace, row.key)
        if ident in keys:
            raise CsvError(f"the same key as line {keys[ident]}", line=line, column="key")
        keys[ident] = line
        rows.append(row)
    return rows


async def import_rows(*, session: AsyncSession, rows: list[CsvDebrief]) -> tuple[int, int]:
    """Store parsed rows in the caller's transaction; (imported, already present)."""
    workspaces: dict[tuple[str, str], int] = {}
    people: dict[tuple[int, str], int] = {}
    accounts: dict[tuple[int, str], int] = {}
    imported = 0
    for row in rows:
        ws_key = (row.platform, row.workspace)
        if ws_key not in workspaces:
            ws = await get_or_create_workspace(
                session=session, platform=row.platform, external_id=row.workspace
            )
            assert ws.id is not None
            workspaces[ws_key] = ws.id
        ws_id = workspaces[ws_key]
        if (ws_id, row.person) not in people:
            person = await get_or_create_person(
                session=session,
                workspace_id=ws_id,
                platform_user_id=row.person,
                display_name=row.person_name,
                email=row.person_email,
            )
            assert person.id is not None
            people[(ws_id, row.person)] = person.id
        if (ws_id, row.account) not in accounts:
            accounts[(ws_id, row.account)] = await get_or_create_account(
                session=session, workspace_id=ws_id, name=row.account
            )
        _, created = await create_debrief(
            session=session,
            workspace_id=ws_id,
            person_id=people[(ws_id, row.person)],
            account_id=accounts[(ws_id, row.account)],
            idempotency_key=row.key,
            fields=row.fields,
            answers=[AnswerRow(p, row.ratings[p], row.notes[p]) for p in POINTS],
            created_at=row.created_at,
        )
        imported += int(created)
    return imported, len(rows) - imported
