"""match rejections: indicators people unlinked, as evidence against for matching

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('match_rejections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('indicator_code', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_match_rejections_activity_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_rejections')),
    sa.UniqueConstraint('activity_id', 'plan_id', 'indicator_code', name='uq_match_rejections_activity')
    )
    op.create_index('ix_match_rejections_plan', 'match_rejections', ['plan_id', 'activity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_match_rejections_plan', table_name='match_rejections')
    op.drop_table('match_rejections')
