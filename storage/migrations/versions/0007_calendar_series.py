"""Recurring calendar series kept beyond the import horizon

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendarseries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('ical', sa.Text(), nullable=False),
    sa.Column('next_expand_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'source', 'uid')
    )
    with op.batch_alter_table('calendarseries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendarseries_next_expand_at'), ['next_expand_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calendarseries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendarseries_next_expand_at'))
    op.drop_table('calendarseries')
