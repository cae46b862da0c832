"""Teams of people and the manager digest

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('manager_id')
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_workspace_id'), ['workspace_id'], unique=False)
    with op.batch_alter_table('debrief', schema=None) as batch_op:
        batch_op.create_index('ix_debrief_meeting_id', ['meeting_id'], unique=False)
        batch_op.create_index('ix_debrief_person_due', ['person_id', 'next_step_due'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('debrief', schema=None) as batch_op:
        batch_op.drop_index('ix_debrief_person_due')
        batch_op.drop_index('ix_debrief_meeting_id')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_workspace_id'))
    op.drop_table('team')
