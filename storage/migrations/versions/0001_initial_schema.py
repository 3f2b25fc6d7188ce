"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 23:01:03.805513
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('modality', sa.String(length=16), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('organiser', sa.String(length=200), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('women', sa.Integer(), nullable=True),
    sa.Column('men', sa.Integer(), nullable=True),
    sa.Column('attendee_count', sa.Integer(), nullable=False),
    sa.Column('attendee_women', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('raw_text', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=400), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_live_start', ['start_date'], unique=False,
                              sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_activities_user_id'), ['user_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index('ix_audit_log_user_at', ['user_id', 'at'], unique=False)

    op.create_table('processed_events',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_processed_events'))
    )
    op.create_table('activity_countries',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_countries_activity_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'country', name=op.f('pk_activity_countries'))
    )
    with op.batch_alter_table('activity_countries', schema=None) as batch_op:
        batch_op.create_index('ix_activity_countries_country', ['country'], unique=False)

    op.create_table('activity_languages',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_languages_activity_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'language', name=op.f('pk_activity_languages'))
    )
    op.create_table('attendees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('sex', sa.String(length=8), nullable=True),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_attendees_activity_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendees'))
    )
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendees_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendees_country'), ['country'], unique=False)

    op.create_table('indicator_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('indicator_code', sa.String(length=16), nullable=False),
    sa.Column('outcome_code', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_indicator_links_activity_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_links')),
    sa.UniqueConstraint('activity_id', 'plan_id', 'indicator_code', name='uq_indicator_links_activity')
    )
    with op.batch_alter_table('indicator_links', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_links_plan_code', ['plan_id', 'indicator_code', 'activity_id'], unique=False)
        batch_op.create_index('ix_indicator_links_plan_outcome', ['plan_id', 'outcome_code', 'activity_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('indicator_links', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_links_plan_outcome')
        batch_op.drop_index('ix_indicator_links_plan_code')

    op.drop_table('indicator_links')
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendees_country'))
        batch_op.drop_index(batch_op.f('ix_attendees_activity_id'))

    op.drop_table('attendees')
    op.drop_table('activity_languages')
    with op.batch_alter_table('activity_countries', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_countries_country')

    op.drop_table('activity_countries')
    op.drop_table('processed_events')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_user_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_activity_id'))

    op.drop_table('audit_log')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_user_id'))
        batch_op.drop_index('ix_activities_live_start')

    op.drop_table('activities')
