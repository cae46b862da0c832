"""CRM connections per workspace, matched companies and owners, written records, deal outcomes

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crm_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('crm', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('tokens', sa.Text(), nullable=False),
    sa.Column('instance_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('external_org', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('last_sync_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcomes_since', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id')
    )
    op.create_table('crm_account_link',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('company_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('matched_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('deal_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('deal_decided', sa.Boolean(), nullable=False),
    sa.Column('decided_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('crm_deal_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('closed_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('crm', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('external_deal_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('crm', 'external_deal_id')
    )
    with op.batch_alter_table('crm_deal_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_deal_outcome_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_crm_deal_outcome_person_closed', ['person_id', 'closed_at'], unique=False)

    op.create_table('crm_owner',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('matched_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('crm_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debrief_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('marker', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('started_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('written_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['debrief_id'], ['debrief.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('debrief_id', 'kind'),
    sa.UniqueConstraint('marker')
    )


def downgrade() -> None:
    op.drop_table('crm_record')
    op.drop_table('crm_owner')
    with op.batch_alter_table('crm_deal_outcome', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_deal_outcome_person_closed')
        batch_op.drop_index(batch_op.f('ix_crm_deal_outcome_account_id'))

    op.drop_table('crm_deal_outcome')
    op.drop_table('crm_account_link')
    op.drop_table('crm_connection')
