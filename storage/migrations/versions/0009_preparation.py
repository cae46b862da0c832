"""The counter-tactics a rep chooses for a coming meeting in its preparation message

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chosentactic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('tactic', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('own_text', sa.Text(), nullable=True),
    sa.Column('chosen_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chosentactic', schema=None) as batch_op:
        batch_op.create_index('ix_chosentactic_meeting', ['meeting_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chosentactic_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chosentactic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chosentactic_person_id'))
        batch_op.drop_index('ix_chosentactic_meeting')
    op.drop_table('chosentactic')
