"""user names and conversation references

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 23:04:59.260972
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_refs',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=400), nullable=False),
    sa.Column('reference', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'conversation_id', name=op.f('pk_conversation_refs'))
    )
    op.create_table('user_names',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'user_id', name=op.f('pk_user_names'))
    )


def downgrade() -> None:
    op.drop_table('user_names')
    op.drop_table('conversation_refs')
