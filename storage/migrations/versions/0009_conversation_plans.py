"""conversation plans: the plan a conversation chose with `plan use`

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_plans',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=400), nullable=False),
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('chosen_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'conversation_id', name=op.f('pk_conversation_plans'))
    )


def downgrade() -> None:
    op.drop_table('conversation_plans')
