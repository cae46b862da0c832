"""Person, debrief and account ids are never handed out again (SQLite AUTOINCREMENT)

SQLite reuses the largest rowid once its row is deleted, so a person id freed by `forget` would go
to the next person. AUTOINCREMENT needs the table rebuilt (batch mode); storage.migrate runs the
migrations with foreign keys off on SQLite, so the rebuild neither cascades nor breaks references.
PostgreSQL's sequences never hand a value out twice: nothing to do there.

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("person", "account", "debrief")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
