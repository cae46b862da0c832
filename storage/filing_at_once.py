"""A new debrief and everything it plans, in one statement on PostgreSQL.

The usual debrief (a known rep and account, a new key) stores a debrief row, five answers, maybe
the next meeting, and the outbox rows planned around them (the nudge, the debrief prompt and its
reminder, the follow-through check, the tactic-feedback question, the tips sent after the
channel's answer). Done statement by statement that is BEGIN, four or five statements and COMMIT:
six round trips to the server, each costing the bot more CPU than the row it writes. Here it is
one `INSERT ... RETURNING` with data-modifying CTEs, which PostgreSQL runs atomically on its own
(no explicit transaction).

What is planned is worked out before the statement (storage.follow_ups.FollowUps), because
times depend on the rep's working days and timezone; only the ids the database assigns are filled
in by the statement, as the dedup keys `m<meeting id>:<tail>` and `d<debrief id>:<tail>` and in the
payloads, each kind of row as its storage.follow_ups.RowShape says. Anything unusual (a new
account, a repeated key, a person gone or not the signed requester) stores nothing here and
returns None: storage.filing then takes the statement-by-statement way, which is also the only way on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crm import CRM_WRITE, WRITE_HEAD, connected
from storage.debrief_insert import RETURNING_REP, FiledDebrief, SignedOwner, filing_params, filing_source
from storage.debriefs import DEBRIEF_FIELDS, AnswerRow
from storage.engine import driver_connection
from storage.follow_ups import (
    AROUND_MEETING,
    DEBRIEF_MEETING_UID,
    FOLLOW_THROUGH,
    TACTIC_FEEDBACK,
    TIPS,
    FollowUps,
    RowShape,
)
from storage.models import Debrief, DebriefAnswer, Meeting, Outbox, OutboxStatus, table_of, utcnow
from storage.planning_models import SuggestedTactic


@dataclass(frozen=True)
class FiledAtOnce:
    filed: FiledDebrief
    meeting_id: int | None  # the meeting this debrief added (None: none, or one was known near it)


async def file_debrief_at_once(
    *,
    engine: AsyncEngine,
    person_id: int,
    account_name: str,
    idempotency_key: str,
    fields: dict[str, Any],
    answers: Sequence[AnswerRow],
    created_at: datetime,
    follow_ups: FollowUps,
    owner: SignedOwner | None = None,
) -> FiledAtOnce | None:
    """Store a new debrief with its answers, meeting and planned messages in one statement on
    PostgreSQL; None when nothing was stored (take the general way)."""
    params = filing_params(
        person_id=person_id,
        account_name=account_name,
        idempotency_key=idempotency_key,
        fields=fields,
        created_at=created_at,
        owner=owner,
    )
    meeting_at, messages = follow_ups.meeting_at, follow_ups.meeting_messages
    ft, feedback, tips = follow_ups.follow_through, follow_ups.tactic_feedback, follow_ups.tips
    params.update(
        points=[a.point for a in answers],
        ratings=[a.rating for a in answers],
        notes=[a.note for a in answers],
        meeting_at=meeting_at,
        meeting_ends_at=follow_ups.meeting_ends_at,
        meeting_iso=meeting_at.isoformat() if meeting_at else None,
        earliest=meeting_at - follow_ups.near if meeting_at else None,
        latest=meeting_at + follow_ups.near if meeting_at else None,
        row_created_at=utcnow(),
        m_kinds=[m.kind for m in messages],
        m_tails=[m.tail for m in messages],
        m_dues=[m.due_at for m in messages],
        m_expires=[m.expires_at for m in messages],
        ft_kind=ft.kind if ft else None,
        ft_tail=ft.tail if ft else None,
        ft_due=ft.due_at if ft else None,
        ft_expires=ft.expires_at if ft else None,
        ft_on=follow_ups.follow_through_on.isoformat() if ft and follow_ups.follow_through_on else None,
        fb_kind=feedback.kind if feedback else None,
        fb_tail=feedback.tail if feedback else None,
        fb_due=feedback.due_at if feedback else None,
        fb_expires=feedback.expires_at if feedback else None,
        tp_kind=tips.kind if tips else None,
        tp_tail=tips.tail if tips else None,
        tp_due=tips.due_at if tips else None,
        tp_expires=tips.expires_at if tips else None,
    )
    sql, order, fixed = _compiled(engine.dialect)
    values = [params[name] if name in params else fixed[name] for name in order]
    async with driver_connection(engine) as conn:
        row = await conn.fetchrow(sql, *values)
    if row is None:
        return None
    filed = FiledDebrief(row[0], True, row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]),
                         bool(row[8]))
    return FiledAtOnce(filed, None if row[9] is None else int(row[9]))


_BUILT: list[Any] = []
_COMPILED: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {}


def _compiled(dialect: Any) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The statement compiled once: its SQL, the order of its positional parameters, and the
    values of the constants in it. It runs on the driver's connection (storage.engine
    .driver_connection), which takes the values as they are: the SQL casts each parameter to its
    column's type."""
    if dialect.name not in _COMPILED:
        compiled = _statement().compile(dialect=dialect)
        fixed = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        assert compiled.positiontup is not None
        _COMPILED[dialect.name] = (compiled.string, tuple(compiled.positiontup), fixed)
    return _COMPILED[dialect.name]


_DEBRIEFS, _ANSWERS = table_of(Debrief), table_of(DebriefAnswer)
_MEETINGS, _OUTBOX, _TACTICS = table_of(Meeting), table_of(Outbox), table_of(SuggestedTactic)
_TS = sa.TIMESTAMP(timezone=True)


def _bind(name: str, type_: Any) -> Any:
    return sa.bindparam(name, type_=type_)


def _statement() -> Any:
    """Built once; every value arrives as a parameter."""
    if _BUILT:
        return _BUILT[0]
    rep_id, created = _bind("rep_id", sa.Integer), _bind("created_at", _TS)
    row_created = _bind("row_created_at", _TS)
    filed = (
        postgresql.insert(_DEBRIEFS)
        .from_select(list(DEBRIEF_FIELDS), filing_source())
        .on_conflict_do_nothing(index_elements=["workspace_id", "idempotency_key"])
        .returning(
            _DEBRIEFS.c.id,
            _DEBRIEFS.c.workspace_id,
            _DEBRIEFS.c.account_id,
            *RETURNING_REP,
        )
        .cte("filed")
    )
    answer = (
        sa.func.unnest(
            _bind("points", postgresql.ARRAY(sa.String)),
            _bind("ratings", postgresql.ARRAY(sa.String)),
            _bind("notes", postgresql.ARRAY(sa.Text)),
        )
        .table_valued("point", "rating", "note")
        .render_derived()
    )
    answers = (
        sa.insert(_ANSWERS)
        .from_select(
            ["debrief_id", "point", "rating", "note"],
            sa.select(filed.c.id, answer.c.point, answer.c.rating, answer.c.note).select_from(
                filed.join(answer, sa.true())
            ),
        )
        .cte("answers")
    )

    meeting_at = _bind("meeting_at", _TS)
    known = sa.exists().where(
        _MEETINGS.c.person_id == rep_id,
        _MEETINGS.c.account_id == filed.c.account_id,
        _MEETINGS.c.cancelled.is_(False),
        _MEETINGS.c.starts_at.between(_bind("earliest", _TS), _bind("latest", _TS)),
    )
    meeting = (
        sa.insert(_MEETINGS)
        .from_select(
            [
                "workspace_id",
                "person_id",
                "account_id",
                "starts_at",
                "ends_at",
                "source",
                "external_uid",
                "title",
                "cancelled",
                "created_at",
            ],
            sa.select(
                filed.c.workspace_id,
                rep_id,
                filed.c.account_id,
                meeting_at,
                _bind("meeting_ends_at", _TS),
                sa.literal("debrief"),
                sa.func.concat(DEBRIEF_MEETING_UID, filed.c.id),
                sa.literal(""),
                sa.false(),
                row_created,
            ).where(meeting_at.is_not(None), ~known),
        )
        .returning(_MEETINGS.c.id)
        .cte("new_meeting")
    )

    def later(key: Any, kind: Any, payload: Any, due: Any, expires: Any) -> list[Any]:
        return [
            key,
            kind,
            rep_id,
            payload,
            due,
            expires,
            sa.literal(OutboxStatus.PENDING.value),
            sa.literal(0),
            row_created,
        ]

    message = (
        sa.func.unnest(
            _bind("m_kinds", postgresql.ARRAY(sa.String)),
            _bind("m_tails", postgresql.ARRAY(sa.String)),
            _bind("m_dues", postgresql.ARRAY(_TS)),
            _bind("m_expires", postgresql.ARRAY(_TS)),
        )
        .table_valued("kind", "tail", "due", "expires")
        .render_derived()
    )
    t = _TACTICS.alias("t")
    suggested = (
        sa.select(sa.func.json_agg(postgresql.aggregate_order_by(t.c.id, t.c.id)))
        .where(
            t.c.person_id == rep_id,
            t.c.account_id == filed.c.account_id,
            t.c.verdict.is_(None),
            t.c.suggested_at < created,
        )
        .scalar_subquery()
    )
    # The values storage.follow_ups' row shapes name, as this statement has them.
    values: dict[str, Any] = {
        "meeting_id": meeting.c.id,
        "meeting_iso": _bind("meeting_iso", sa.String),
        "debrief_id": filed.c.id,
        "account_id": filed.c.account_id,
        "step_due": _bind("ft_on", sa.String),
        "open_tactics": suggested,
    }

    def key(shape: RowShape, tail: Any) -> Any:
        return sa.func.concat(shape.head, values[shape.owner], ":", tail)

    def payload(shape: RowShape) -> Any:
        return sa.func.json_build_object(*chain.from_iterable((k, values[name]) for k, name in shape.payload))

    around_meeting = sa.select(
        *later(
            key(AROUND_MEETING, message.c.tail),
            message.c.kind,
            payload(AROUND_MEETING),
            message.c.due,
            message.c.expires,
        )
    ).select_from(meeting.join(message, sa.true()))
    def debrief_row(shape: RowShape, prefix: str) -> Any:
        """One optional row a debrief plans, from its `<prefix>_*` parameters (no kind: no row)."""
        kind = _bind(f"{prefix}_kind", sa.String)
        return sa.select(
            *later(
                key(shape, _bind(f"{prefix}_tail", sa.String)),
                kind,
                payload(shape),
                _bind(f"{prefix}_due", _TS),
                _bind(f"{prefix}_expires", _TS),
            )
        ).where(kind.is_not(None))

    follow_through = debrief_row(FOLLOW_THROUGH, "ft")
    feedback = debrief_row(TACTIC_FEEDBACK, "fb").where(filed.c.tactics_open)
    tips = debrief_row(TIPS, "tp")
    crm_write = sa.select(*later(  # the debrief's CRM write, when its workspace has a CRM
        sa.func.concat(WRITE_HEAD, filed.c.id), sa.literal(CRM_WRITE, sa.String),
        sa.func.json_build_object("debrief_id", filed.c.id), created, sa.cast(sa.null(), _TS),
    )).select_from(filed).where(connected(filed.c.workspace_id))
    planned = (
        sa.insert(_OUTBOX)
        .from_select(
            [
                "dedup_key",
                "kind",
                "person_id",
                "payload",
                "due_at",
                "expires_at",
                "status",
                "attempts",
                "created_at",
            ],
            sa.union_all(
                around_meeting,
                follow_through.select_from(filed),
                feedback.select_from(filed),
                tips.select_from(filed),
                crm_write,
            ),
        )
        .cte("planned")
    )
    statement = sa.select(
        filed.c.id,
        filed.c.workspace_id,
        filed.c.account_id,
        *[filed.c[column.name] for column in RETURNING_REP],
        sa.select(meeting.c.id).scalar_subquery(),
    ).add_cte(answers, planned)
    _BUILT.append(statement)
    return statement
