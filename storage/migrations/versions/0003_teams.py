"""Teams conversation references and bot state

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('teamsconversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('service_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('reference', sa.JSON(), nullable=False),
    sa.Column('client_locale', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('client_timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('installed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id')
    )
    with op.batch_alter_table('teamsconversation', schema=None) as batch_op:
        batch_op.create_index('ix_teamsconversation_person', ['person_id', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('teamsconversation', schema=None) as batch_op:
        batch_op.drop_index('ix_teamsconversation_person')
    op.drop_table('teamsconversation')
