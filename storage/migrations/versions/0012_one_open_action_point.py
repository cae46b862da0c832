"""One open action point per rep, manager and text: a partial unique index over the open points

Open points stored twice before (a form sent twice at once) are merged first: the oldest stays,
taking the pattern it follows from a later twin when it had none, and the later twins go (a
notice still pending for one is cancelled when it is due, as for any point no longer open).
Points whose manager was forgotten (manager_id NULL) are outside the index and left as they are.

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "uq_actionpoint_open_point"
KEY = ["person_id", "manager_id", "text"]
OPEN_ONLY = "status = 'open'"

_points = sa.table(
    "actionpoint",
    *(sa.column(name) for name in ("id", *KEY, "pattern", "point", "example_debrief_id", "status", "created_at")),
)


def _merge_open_twins(bind: sa.Connection) -> None:
    p = _points
    key = [p.c[name] for name in KEY]
    is_open = sa.and_(p.c.status == "open", p.c.manager_id.is_not(None))
    twins = sa.select(*key).where(is_open).group_by(*key).having(sa.func.count() > 1).subquery()
    rows = bind.execute(
        sa.select(p.c.id, *key, p.c.pattern, p.c.point, p.c.example_debrief_id)
        .join(twins, sa.and_(*[p.c[name] == twins.c[name] for name in KEY]))
        .where(is_open)
        .order_by(*key, p.c.created_at, p.c.id)
    ).all()
    gone: list[int] = []
    for _, group in groupby(rows, key=lambda r: (r.person_id, r.manager_id, r.text)):
        kept, *later = group
        donor = next((r for r in later if r.pattern is not None), None)
        if kept.pattern is None and donor is not None:
            bind.execute(
                sa.update(p).where(p.c.id == kept.id).values(
                    pattern=donor.pattern, point=donor.point, example_debrief_id=donor.example_debrief_id
                )
            )
        gone += [r.id for r in later]
    if gone:
        bind.execute(sa.delete(p).where(p.c.id.in_(gone)))


def upgrade() -> None:
    _merge_open_twins(op.get_bind())
    op.create_index(
        INDEX, "actionpoint", KEY, unique=True,
        sqlite_where=sa.text(OPEN_ONLY), postgresql_where=sa.text(OPEN_ONLY),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="actionpoint")
