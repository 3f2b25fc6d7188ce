"""activities.countries_stated: how many countries a log said took part

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities') as batch:
        batch.add_column(sa.Column('countries_stated', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('activities') as batch:
        batch.drop_column('countries_stated')
