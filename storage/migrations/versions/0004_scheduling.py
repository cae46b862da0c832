"""Meetings, calendars, nudges and tactic feedback

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('coachpreference',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('paused_until', sa.Date(), nullable=True),
    sa.Column('nudges_off', sa.Boolean(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('meetinginvite',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('organiser', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('organiser_external', sa.Boolean(), nullable=False),
    sa.Column('formal_agenda', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id')
    )
    op.create_table('calendarfeed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('etag', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('last_modified', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('next_poll_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_polled_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'url')
    )
    with op.batch_alter_table('calendarfeed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendarfeed_person_id'), ['person_id'], unique=False)

    op.create_table('suggestedtactic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('tactic', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('suggested_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('answered_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'tactic')
    )
    with op.batch_alter_table('suggestedtactic', schema=None) as batch_op:
        batch_op.create_index('ix_suggestedtactic_person_account', ['person_id', 'account_id'], unique=False)

    op.create_table('missednextstep',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debrief_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('recorded_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['debrief_id'], ['debrief.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('debrief_id')
    )
    with op.batch_alter_table('missednextstep', schema=None) as batch_op:
        batch_op.create_index('ix_missednextstep_person_due', ['person_id', 'due'], unique=False)

    op.create_table('webchatinbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('messages', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key')
    )
    with op.batch_alter_table('webchatinbox', schema=None) as batch_op:
        batch_op.create_index('ix_webchatinbox_person_seen', ['person_id', 'seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webchatinbox', schema=None) as batch_op:
        batch_op.drop_index('ix_webchatinbox_person_seen')
    op.drop_table('webchatinbox')
    with op.batch_alter_table('missednextstep', schema=None) as batch_op:
        batch_op.drop_index('ix_missednextstep_person_due')
    op.drop_table('missednextstep')
    with op.batch_alter_table('suggestedtactic', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestedtactic_person_account')
    op.drop_table('suggestedtactic')
    with op.batch_alter_table('calendarfeed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendarfeed_person_id'))
    op.drop_table('calendarfeed')
    op.drop_table('meetinginvite')
    op.drop_table('coachpreference')
