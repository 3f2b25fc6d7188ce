"""data version: committed changes counted in commit order

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('data_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0}])


def downgrade() -> None:
    op.drop_table('data_version')
