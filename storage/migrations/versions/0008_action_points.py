"""Managers' action points for reps

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('actionpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('pattern', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('point', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('example_debrief_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['example_debrief_id'], ['debrief.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('actionpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actionpoint_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('actionpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actionpoint_person_id'))

    op.drop_table('actionpoint')
