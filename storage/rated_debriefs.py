"""Debriefs with their five ratings packed in one number: the row shape the digest's aggregates read.

`ratings_code` reads a debrief's answers with one probe of the answers' (debrief_id, point) index
and packs them into one integer, a base-8 digit per point (yes 1, partly 2, no 3, none asked 4,
0 when missing). `rating_is` reads one digit back. One correlated subquery per debrief costs the
same few microseconds on every engine, where a join makes PostgreSQL hash the whole answers table
once a window holds a few thousand debriefs, and five subqueries would probe five times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from storage.models import Debrief, DebriefAnswer, UTCDateTime

# The checklist points as stored in DebriefAnswer.point (dialogs.checklist.POINTS; a test keeps
# them equal) and the ratings that score (the concessions' "none asked" does not).
CHECKLIST_POINTS: tuple[str, ...] = ("opening", "interaction", "situation", "concessions", "next_step")
SCORED_RATINGS: tuple[str, ...] = ("yes", "partly", "no")
_DIGIT = {"yes": 1, "partly": 2, "no": 3}

# The digest's statements are built once with these parameters and run with values: building the
# expression trees anew cost more than running them (bench/bench_digest.py).
Ids = Sequence[int] | sa.BindParameter[Any]
Moment = datetime | sa.ColumnElement[datetime]


def rep_ids() -> sa.BindParameter[Any]:
    """The reps' person ids, as the parameter `rep_ids` (a list)."""
    return sa.bindparam("rep_ids", expanding=True)


def moment(name: str) -> sa.BindParameter[datetime]:
    """A UTC moment, as the parameter `name`."""
    return sa.bindparam(name, type_=UTCDateTime())


_OTHER = 4
_BASE = 8


def ratings_code(debrief_id: Any) -> sa.ScalarSelect[int]:
    place = sa.case(
        *((col(DebriefAnswer.point) == p, _BASE**i) for i, p in enumerate(CHECKLIST_POINTS)), else_=0
    )
    digit = sa.case(*((col(DebriefAnswer.rating) == r, d) for r, d in _DIGIT.items()), else_=_OTHER)
    return (
        sa.select(sa.func.coalesce(sa.func.sum(place * digit), 0))
        .where(col(DebriefAnswer.debrief_id) == debrief_id)
        .scalar_subquery()
    )


def rating_is(code: sa.ColumnElement[int], point: str, *ratings: str) -> sa.ColumnElement[bool]:
    """True when the packed `code` holds one of `ratings` for `point`."""
    digit = (code // _BASE ** CHECKLIST_POINTS.index(point)) % _BASE
    return digit.in_([_DIGIT[r] for r in ratings])


def score2(code: sa.ColumnElement[int], point: str) -> sa.ColumnElement[int]:
    """The point's score in half points: yes 2, partly 1, no (and not rated) 0."""
    return sa.case((rating_is(code, point, "yes"), 2), (rating_is(code, point, "partly"), 1), else_=0)


def rated_debriefs(reps: Ids, since: Moment, until: Moment, name: str = "rated") -> sa.Subquery:
    """The reps' debriefs created in [since, until): id, person_id, account_id, created_at, outcome,
    the point-specific fields the patterns read, and `code` (the packed ratings)."""
    return (
        sa.select(
            col(Debrief.id).label("id"),
            col(Debrief.person_id).label("person_id"),
            col(Debrief.account_id).label("account_id"),
            col(Debrief.created_at).label("created_at"),
            col(Debrief.outcome).label("outcome"),
            col(Debrief.agenda_set_by).label("agenda_set_by"),
            col(Debrief.supplier_check).label("supplier_check"),
            col(Debrief.concessions_given).label("concessions_given"),
            col(Debrief.concessions_got).label("concessions_got"),
            col(Debrief.next_step_due).label("next_step_due"),
            col(Debrief.next_meeting_at).label("next_meeting_at"),
            ratings_code(col(Debrief.id)).label("code"),
        )
        .where(
            col(Debrief.person_id).in_(reps if isinstance(reps, sa.BindParameter) else list(reps)),
            col(Debrief.created_at) >= since,
            col(Debrief.created_at) < until,
        )
        # OFFSET 0 keeps PostgreSQL from pulling the subquery up into its reader, which would run
        # the ratings' subquery again for every expression that reads `code`
        .offset(0)
        .subquery(name)
    )
