"""When the deal stages of a CRM connection were last read back: one replica polls per interval

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crm_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('polled_at', storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('crm_connection', schema=None) as batch_op:
        batch_op.drop_column('polled_at')
