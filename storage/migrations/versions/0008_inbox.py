"""inbox: acknowledged messages kept until they are handled

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_inbox'))
    )


def downgrade() -> None:
    op.drop_table('inbox')
