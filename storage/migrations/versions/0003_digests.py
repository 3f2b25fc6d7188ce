"""digest subscriptions and deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 23:08:55.351865
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=400), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('cadence', sa.String(length=8), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('day_of_month', sa.Integer(), nullable=True),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('minute', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_subscriptions')),
    sa.UniqueConstraint('channel', 'conversation_id', 'scope', name='uq_digest_subscriptions_conversation')
    )
    with op.batch_alter_table('digest_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_digest_subscriptions_state', ['state'], unique=False)

    op.create_table('digest_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['digest_subscriptions.id'], name=op.f('fk_digest_deliveries_subscription_id_digest_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_deliveries')),
    sa.UniqueConstraint('subscription_id', 'period_start', name='uq_digest_deliveries_period')
    )
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_digest_deliveries_state_next', ['state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_deliveries_state_next')

    op.drop_table('digest_deliveries')
    with op.batch_alter_table('digest_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_subscriptions_state')

    op.drop_table('digest_subscriptions')
