"""Keyword-only async repository functions over AsyncSession. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.engine import dialect_insert, session_dialect
from storage.errors import NotFound
from storage.models import (
    Account,
    Debrief,
    DebriefAnswer,
    DialogState,
    Person,
    Workspace,
    not_null,
    table_of,
    utcnow,
)


def _insert(session: AsyncSession, table: Any) -> Any:
    return dialect_insert(session_dialect(session), table)


def account_key(name: str) -> str:
    return " ".join(name.split()).casefold()


# -- workspaces and people -------------------------------------------------------------------------
async def get_or_create_workspace(
    *, session: AsyncSession, platform: str, external_id: str, name: str = ""
) -> Workspace:
    stmt = (
        _insert(session, Workspace)
        .values(platform=platform, external_id=external_id, name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
    )
    await session.execute(stmt)
    row = await session.scalar(
        sa.select(Workspace).where(
            col(Workspace.platform) == platform, col(Workspace.external_id) == external_id
        )
    )
    assert row is not None
    return row


async def get_or_create_person(
    *,
    session: AsyncSession,
    workspace_id: int,
    platform_user_id: str,
    display_name: str = "",
    email: str | None = None,
    role: str = "rep",
    timezone: str | None = None,
    locale: str | None = None,
) -> Person:
    stmt = (
        _insert(session, Person)
        .values(
            workspace_id=workspace_id,
            platform_user_id=platform_user_id,
            display_name=display_name,
            email=email,
            role=role,
            timezone=timezone,
            locale=locale,
            reachable=True,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "platform_user_id"])
    )
    await session.execute(stmt)
    row = await session.scalar(
        sa.select(Person).where(
            col(Person.workspace_id) == workspace_id, col(Person.platform_user_id) == platform_user_id
        )
    )
    assert row is not None
    return row


async def get_person(*, session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("no such person", person_id=person_id)
    return person


async def update_person(*, session: AsyncSession, person_id: int, **fields: Any) -> None:
    allowed = {"display_name", "email", "role", "timezone", "locale", "manager_id", "reachable"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    await session.execute(sa.update(Person).where(col(Person.id) == person_id).values(**fields))


# -- accounts ------------------------------------------------------------------------------------
async def get_or_create_account(*, session: AsyncSession, workspace_id: int, name: str) -> int:
    """The id of the workspace's account with this name (case and spacing ignored).

    A read first: almost every debrief names a known account, and an upsert would write (and on
    PostgreSQL lock) that account row in every submission. The upsert settles the race when two
    requests create the same new account at once.
    """
    name = " ".join(name.split())
    key = account_key(name)
    conn = await session.connection()
    found = (await conn.execute(_ACCOUNT_ID, {"workspace_id": workspace_id, "name_key": key})).scalar()
    if found is not None:
        return int(found)
    stmt = (
        _insert(session, Account)
        .values(workspace_id=workspace_id, name=name, name_key=key, created_at=utcnow())
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace_id", "name_key"], set_={"name_key": stmt.excluded.name_key}
    ).returning(col(Account.id))
    return int((await session.execute(stmt)).scalar_one())


_ACCOUNTS = table_of(Account)
_ACCOUNT_ID = sa.select(_ACCOUNTS.c.id).where(
    _ACCOUNTS.c.workspace_id == sa.bindparam("workspace_id"),
    _ACCOUNTS.c.name_key == sa.bindparam("name_key"),
)


async def account_names(*, session: AsyncSession, account_ids: Sequence[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    rows = await session.execute(
        sa.select(col(Account.id), col(Account.name)).where(col(Account.id).in_(set(account_ids)))
    )
    return {not_null(i): n for i, n in rows.all()}


# -- debriefs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerRow:
    point: str
    rating: str
    note: str | None = None


@dataclass(frozen=True)
class StoredDebrief:
    debrief: Debrief
    answers: dict[str, DebriefAnswer]
    account_name: str


async def create_debrief(
    *,
    session: AsyncSession,
    workspace_id: int,
    person_id: int,
    account_id: int,
    idempotency_key: str,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    meeting_id: int | None = None,
    created_at: datetime | None = None,
) -> tuple[int, bool]:
    """Insert a debrief and its answers; (id, True) if new, (existing id, False) on a repeat key.

    Two statements on the session's connection (Core: no ORM unit-of-work for rows nobody holds
    as objects), each built once per dialect and given its values as parameters.
    """
    conn = await session.connection()
    insert_debrief, insert_answers = _debrief_statements(conn.dialect.name)
    params = dict.fromkeys(DEBRIEF_FIELDS)
    params.update(fields)
    params.update(workspace_id=workspace_id, person_id=person_id, account_id=account_id,
                  meeting_id=meeting_id, idempotency_key=idempotency_key,
                  created_at=created_at or utcnow(), updated_at=None)
    new_id = (await conn.execute(insert_debrief, params)).scalar_one_or_none()
    if new_id is None:
        existing = await session.scalar(
            sa.select(col(Debrief.id)).where(
                col(Debrief.workspace_id) == workspace_id, col(Debrief.idempotency_key) == idempotency_key
            )
        )
        assert existing is not None
        return int(existing), False
    await conn.execute(
        insert_answers,
        [{"debrief_id": new_id, "point": a.point, "rating": a.rating, "note": a.note} for a in answers],
    )
    return int(new_id), True


_DEBRIEFS = table_of(Debrief)
_ANSWERS = table_of(DebriefAnswer)
DEBRIEF_FIELDS = tuple(c.name for c in _DEBRIEFS.columns if c.name != "id")
_STATEMENTS: dict[str, tuple[Any, Any]] = {}


def _debrief_statements(dialect: str) -> tuple[Any, Any]:
    if dialect not in _STATEMENTS:
        insert = dialect_insert(dialect, _DEBRIEFS)
        _STATEMENTS[dialect] = (
            insert.on_conflict_do_nothing(index_elements=["workspace_id", "idempotency_key"])
            .returning(_DEBRIEFS.c.id),
            sa.insert(_ANSWERS),
        )
    return _STATEMENTS[dialect]


@dataclass(frozen=True)
class FiledDebrief:
    """A stored debrief with what its reply needs of the rep (the person row's raw values)."""

    debrief_id: int
    created: bool
    workspace_id: int
    account_id: int
    person_name: str
    locale: str | None
    timezone: str | None
    manager_name: str | None  # None: no manager
    tactics_open: bool  # the rep has suggested tactics on this account without a verdict


async def file_debrief(
    *,
    session: AsyncSession,
    person_id: int,
    account_name: str,
    idempotency_key: str,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    created_at: datetime,
) -> FiledDebrief:
    """Store a debrief and its answers for a person, naming the account; a repeated key stores
    nothing and returns the first debrief (created=False). NotFound when the person is gone.

    The usual case (a known person and account, a new key) is two statements: one INSERT ... SELECT
    that finds the person and the account, stores the debrief and returns, in the same statement,
    what the reply and the follow-up need (the rep's name, locale, timezone, manager; whether
    tactics await a verdict), then the answers. A new account or a repeated key takes a slower way.
    """
    conn = await session.connection()
    statements = _filing_statements(conn.dialect.name)
    params = filing_params(person_id=person_id, account_name=account_name,
                           idempotency_key=idempotency_key, fields=fields, created_at=created_at)
    row = (await conn.execute(statements.file, params)).first()
    if row is None:  # nothing stored: a new account, a repeated key, or no such person
        rep = (await conn.execute(
            _REP_WITH_ACCOUNT, {"rep_id": person_id, "name_key": params["name_key"]}
        )).first()
        if rep is None:
            raise NotFound("no such person", person_id=person_id)
        workspace_id, name, locale, tz, manager, account_id = rep
        if account_id is None:
            account_id = await get_or_create_account(
                session=session, workspace_id=workspace_id, name=account_name
            )
        # Again now that the account exists: it may also have been created by another rep's
        # debrief since the first try (read committed), which is not a repeat of this one.
        row = (await conn.execute(statements.file, params)).first()
        if row is None:
            first = (await conn.execute(
                _DEBRIEF_BY_KEY, {"workspace_id": workspace_id, "idempotency_key": idempotency_key}
            )).scalar_one()
            return FiledDebrief(int(first), False, workspace_id, account_id, name, locale, tz, manager,
                                tactics_open=False)
    debrief_id = row[0]
    await conn.execute(
        statements.answers,
        [{"debrief_id": debrief_id, "point": a.point, "rating": a.rating, "note": a.note} for a in answers],
    )
    return FiledDebrief(debrief_id, True, row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]))


@dataclass(frozen=True)
class _Filing:
    file: Any
    answers: Any


_PEOPLE = table_of(Person)
_FILINGS: dict[str, _Filing] = {}
# Evaluated per stored row, after the insert: RETURNING may only name the debrief table's columns,
# so the rep's own values come from correlated subqueries (SQLite >= 3.35 and PostgreSQL allow them).
RETURNING_REP: tuple[sa.Label[Any], ...] = tuple(sa.literal_column(sql).label(name) for name, sql in (
    ("person_name", "(SELECT p.display_name FROM person AS p WHERE p.id = debrief.person_id)"),
    ("locale", "(SELECT p.locale FROM person AS p WHERE p.id = debrief.person_id)"),
    ("timezone", "(SELECT p.timezone FROM person AS p WHERE p.id = debrief.person_id)"),
    ("manager_name", "(SELECT CASE WHEN m.display_name <> '' THEN m.display_name ELSE COALESCE(m.email, '')"
     " END FROM person AS p JOIN person AS m ON m.id = p.manager_id WHERE p.id = debrief.person_id)"),
    ("tactics_open", "EXISTS (SELECT 1 FROM suggestedtactic AS t WHERE t.person_id = debrief.person_id"
     " AND t.account_id = debrief.account_id AND t.verdict IS NULL AND t.suggested_at < debrief.created_at)"),
))


def filing_params(
    *, person_id: int, account_name: str, idempotency_key: str, fields: dict[str, Any], created_at: datetime
) -> dict[str, Any]:
    """The parameters of `filing_source` (and of the debrief row it selects)."""
    params: dict[str, Any] = dict.fromkeys(DEBRIEF_FIELDS)
    params.update(fields)
    params.update(
        rep_id=person_id, name_key=account_key(account_name), idempotency_key=idempotency_key,
        created_at=created_at, meeting_id=None, updated_at=None,
    )
    return params


def filing_source() -> sa.Select[Any]:
    """The debrief's column values for INSERT ... SELECT: the workspace and person from the rep's
    row, the account by its name key in that workspace, the rest as parameters; no row when the
    person or the account does not exist."""
    rep, acc = _PEOPLE.alias("rep"), _ACCOUNTS.alias("acc")
    derived = {"workspace_id": rep.c.workspace_id, "person_id": rep.c.id, "account_id": acc.c.id}
    return (
        sa.select(*[
            derived.get(name, sa.bindparam(name, type_=_DEBRIEFS.c[name].type)) for name in DEBRIEF_FIELDS
        ])
        .select_from(rep.join(acc, sa.and_(
            acc.c.workspace_id == rep.c.workspace_id, acc.c.name_key == sa.bindparam("name_key")
        )))
        .where(rep.c.id == sa.bindparam("rep_id"))  # a WHERE also keeps SQLite's ON CONFLICT unambiguous
    )


def _filing_statements(dialect: str) -> _Filing:
    if dialect not in _FILINGS:
        insert = dialect_insert(dialect, _DEBRIEFS)
        _FILINGS[dialect] = _Filing(
            file=insert.from_select(list(DEBRIEF_FIELDS), filing_source())
            .on_conflict_do_nothing(index_elements=["workspace_id", "idempotency_key"])
            .returning(_DEBRIEFS.c.id, _DEBRIEFS.c.workspace_id, _DEBRIEFS.c.account_id, *RETURNING_REP),
            answers=sa.insert(_ANSWERS),
        )
    return _FILINGS[dialect]


_MANAGERS = _PEOPLE.alias("manager")
# The slow way's lookup: the person, their manager's name and the account's id (None if new).
_REP_WITH_ACCOUNT = (
    sa.select(
        _PEOPLE.c.workspace_id, _PEOPLE.c.display_name, _PEOPLE.c.locale, _PEOPLE.c.timezone,
        sa.case(
            (_MANAGERS.c.id.is_(None), sa.null()),
            (_MANAGERS.c.display_name != "", _MANAGERS.c.display_name),
            else_=sa.func.coalesce(_MANAGERS.c.email, ""),
        ),
        _ACCOUNTS.c.id,
    )
    .select_from(
        _PEOPLE.outerjoin(_MANAGERS, _MANAGERS.c.id == _PEOPLE.c.manager_id).outerjoin(
            _ACCOUNTS, sa.and_(
                _ACCOUNTS.c.workspace_id == _PEOPLE.c.workspace_id,
                _ACCOUNTS.c.name_key == sa.bindparam("name_key"),
            )
        )
    )
    .where(_PEOPLE.c.id == sa.bindparam("rep_id"))
)
_DEBRIEF_BY_KEY = sa.select(_DEBRIEFS.c.id).where(
    _DEBRIEFS.c.workspace_id == sa.bindparam("workspace_id"),
    _DEBRIEFS.c.idempotency_key == sa.bindparam("idempotency_key"),
)


async def update_debrief(
    *,
    session: AsyncSession,
    debrief_id: int,
    person_id: int,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    updated_at: datetime | None = None,
) -> None:
    """Replace a debrief's answers and fields; its created_at is kept, updated_at is set."""
    result = await session.execute(
        sa.update(Debrief)
        .where(col(Debrief.id) == debrief_id, col(Debrief.person_id) == person_id)
        .values(updated_at=updated_at or utcnow(), **fields)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("no such debrief for this person", debrief_id=debrief_id)
    await session.execute(sa.delete(DebriefAnswer).where(col(DebriefAnswer.debrief_id) == debrief_id))
    await session.execute(
        sa.insert(DebriefAnswer),
        [{"debrief_id": debrief_id, "point": a.point, "rating": a.rating, "note": a.note} for a in answers],
    )


async def get_debrief(*, session: AsyncSession, debrief_id: int, person_id: int) -> StoredDebrief:
    """One of this person's debriefs with its answers; NotFound for anyone else's."""
    row = (
        await session.execute(
            sa.select(Debrief, col(Account.name))
            .join(Account, col(Account.id) == col(Debrief.account_id))
            .where(col(Debrief.id) == debrief_id, col(Debrief.person_id) == person_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such debrief for this person", debrief_id=debrief_id)
    answers = (
        await session.scalars(sa.select(DebriefAnswer).where(col(DebriefAnswer.debrief_id) == debrief_id))
    ).all()
    return StoredDebrief(row[0], {a.point: a for a in answers}, row[1])


async def latest_debriefs(
    *, session: AsyncSession, person_id: int, limit: int = 5
) -> list[StoredDebrief]:
    """The person's newest debriefs, newest first, each with its answers (two queries in all)."""
    rows = (
        await session.execute(
            sa.select(Debrief, col(Account.name))
            .join(Account, col(Account.id) == col(Debrief.account_id))
            .where(col(Debrief.person_id) == person_id)
            .order_by(col(Debrief.created_at).desc(), col(Debrief.id).desc())
            .limit(limit)
        )
    ).all()
    ids = [d.id for d, _ in rows]
    by_debrief: dict[int, dict[str, DebriefAnswer]] = {i: {} for i in ids if i is not None}
    if ids:
        for a in await session.scalars(
            sa.select(DebriefAnswer).where(col(DebriefAnswer.debrief_id).in_(ids))
        ):
            by_debrief[a.debrief_id][a.point] = a
    return [StoredDebrief(d, by_debrief[d.id], name) for d, name in rows if d.id is not None]


async def count_debriefs(*, session: AsyncSession, person_id: int | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(Debrief)
    if person_id is not None:
        stmt = stmt.where(col(Debrief.person_id) == person_id)
    return int(await session.scalar(stmt) or 0)


# -- dialog state --------------------------------------------------------------------------------
async def load_dialog(*, session: AsyncSession, person_id: int, channel: str) -> DialogState | None:
    return await session.scalar(
        sa.select(DialogState).where(
            col(DialogState.person_id) == person_id, col(DialogState.channel) == channel
        )
    )


async def save_dialog(
    *,
    session: AsyncSession,
    person_id: int,
    channel: str,
    kind: str,
    step: str,
    data: dict[str, Any],
    expected_version: int | None,
) -> bool:
    """Write the dialog if nobody else moved it on since `expected_version` (None: a new dialog).

    Returns False when another request got there first (a double click), so the caller answers
    "already done" instead of applying the same answer twice.
    """
    if expected_version is None:
        await session.execute(
            sa.delete(DialogState).where(
                col(DialogState.person_id) == person_id, col(DialogState.channel) == channel
            )
        )
        session.add(
            DialogState(person_id=person_id, channel=channel, kind=kind, step=step, data=data, version=1)
        )
        await session.flush()
        return True
    result = await session.execute(
        sa.update(DialogState)
        .where(
            col(DialogState.person_id) == person_id,
            col(DialogState.channel) == channel,
            col(DialogState.version) == expected_version,
        )
        .values(kind=kind, step=step, data=data, version=expected_version + 1, updated_at=utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def clear_dialog(
    *, session: AsyncSession, person_id: int, channel: str, expected_version: int | None = None
) -> bool:
    stmt = sa.delete(DialogState).where(
        col(DialogState.person_id) == person_id, col(DialogState.channel) == channel
    )
    if expected_version is not None:
        stmt = stmt.where(col(DialogState.version) == expected_version)
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]
