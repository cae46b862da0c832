"""Inserting a new debrief by its rep and account name, returning what the reply needs of the rep;
the general (any database) way, and the pieces the one-statement filing builds on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from storage.accounts import account_key, get_or_create_account
from storage.debriefs import DEBRIEF_FIELDS, AnswerRow
from storage.engine import dialect_insert
from storage.errors import NotFound
from storage.models import Account, Debrief, DebriefAnswer, Person, Workspace, table_of

_DEBRIEFS = table_of(Debrief)
_ANSWERS = table_of(DebriefAnswer)
_ACCOUNTS = table_of(Account)


@dataclass(frozen=True)
class SignedOwner:
    """Who a channel's signed request says is filing: the platform, the workspace's external id
    (Slack team, Teams tenant) and the user's platform id. A person id carried by the request
    (private_metadata) is only a hint: the person row must also match this, or nothing is stored."""

    platform: str
    workspace: str
    user: str


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
    crm_connected: bool = False  # the workspace has a CRM: the debrief's CRM write is to be planned


async def insert_debrief(
    *,
    session: AsyncSession,
    person_id: int,
    account_name: str,
    idempotency_key: str,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    created_at: datetime,
    owner: SignedOwner | None = None,
) -> FiledDebrief:
    """Store a debrief and its answers for a person, naming the account; a repeated key stores
    nothing and returns the first debrief (created=False). NotFound when the person is gone, or
    is not `owner` (when given).

    The usual case (a known person and account, a new key) is two statements: one INSERT ... SELECT
    that finds the person and the account, stores the debrief and returns, in the same statement,
    what the reply and the follow-up need (the rep's name, locale, timezone, manager; whether
    tactics await a verdict), then the answers. A new account or a repeated key takes a slower way.
    """
    conn = await session.connection()
    statements = _filing_statements(conn.dialect.name)
    params = filing_params(person_id=person_id, account_name=account_name, idempotency_key=idempotency_key,
                           fields=fields, created_at=created_at, owner=owner)
    row = (await conn.execute(statements.file, params)).first()
    if row is None:  # nothing stored: a new account, a repeated key, or no such person
        rep = (await conn.execute(
            _REP_WITH_ACCOUNT, {"rep_id": person_id, "name_key": params["name_key"],
                                **{name: params[name] for name in OWNER_PARAMS}}
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
            first = (await conn.execute(_DEBRIEF_BY_KEY, {
                "workspace_id": workspace_id, "idempotency_key": idempotency_key, "rep_id": person_id,
            })).scalar_one_or_none()
            if first is None:  # the key is another person's debrief (a client-made key, replayed)
                raise NotFound("idempotency key of another person", person_id=person_id)
            return FiledDebrief(int(first), False, workspace_id, account_id, name, locale, tz, manager,
                                tactics_open=False)
    debrief_id = row[0]
    await conn.execute(
        statements.answers,
        [{"debrief_id": debrief_id, "point": a.point, "rating": a.rating, "note": a.note} for a in answers],
    )
    return FiledDebrief(debrief_id, True, row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]),
                        bool(row[8]))


@dataclass(frozen=True)
class _Filing:
    file: Any
    answers: Any


_PEOPLE = table_of(Person)
_WORKSPACES = table_of(Workspace)
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
    ("crm_connected",
     "EXISTS (SELECT 1 FROM crm_connection AS c WHERE c.workspace_id = debrief.workspace_id)"),
))


OWNER_PARAMS = ("owner_platform", "owner_workspace", "owner_user")


def filing_params(
    *, person_id: int, account_name: str, idempotency_key: str, fields: dict[str, Any], created_at: datetime,
    owner: SignedOwner | None = None,
) -> dict[str, Any]:
    """The parameters of `filing_source` (and of the debrief row it selects)."""
    params: dict[str, Any] = dict.fromkeys(DEBRIEF_FIELDS)
    params.update(fields)
    params.update(
        rep_id=person_id, name_key=account_key(account_name), idempotency_key=idempotency_key,
        created_at=created_at, meeting_id=None, updated_at=None,
        owner_platform=owner.platform if owner else None,
        owner_workspace=owner.workspace if owner else None,
        owner_user=owner.user if owner else None,
    )
    return params


def _owned_by_signer(person: sa.FromClause) -> sa.ColumnElement[bool]:
    """The person row is the signed requester's (or no signer was given: web chat, CLI, jobs)."""
    user = sa.bindparam("owner_user", type_=sa.String)
    workspace = sa.select(_WORKSPACES.c.id).where(
        _WORKSPACES.c.platform == sa.bindparam("owner_platform", type_=sa.String),
        _WORKSPACES.c.external_id == sa.bindparam("owner_workspace", type_=sa.String),
    ).scalar_subquery()
    signer = sa.and_(person.c.platform_user_id == user, person.c.workspace_id == workspace)
    return sa.or_(user.is_(None), signer)


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
        # a WHERE also keeps SQLite's ON CONFLICT unambiguous
        .where(rep.c.id == sa.bindparam("rep_id"), _owned_by_signer(rep))
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
    .where(_PEOPLE.c.id == sa.bindparam("rep_id"), _owned_by_signer(_PEOPLE))
)
_DEBRIEF_BY_KEY = sa.select(_DEBRIEFS.c.id).where(
    _DEBRIEFS.c.workspace_id == sa.bindparam("workspace_id"),
    _DEBRIEFS.c.idempotency_key == sa.bindparam("idempotency_key"),
    _DEBRIEFS.c.person_id == sa.bindparam("rep_id"),
)
