"""figures: products and regional centre per activity, men among listed attendees, country roles

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities') as batch:
        batch.add_column(sa.Column('attendee_men', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('products', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('product_kind', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('centre', sa.String(length=40), nullable=True))
    with op.batch_alter_table('activity_countries') as batch:
        batch.add_column(sa.Column('role', sa.String(length=12), nullable=False, server_default='participant'))


def downgrade() -> None:
    with op.batch_alter_table('activity_countries') as batch:
        batch.drop_column('role')
    with op.batch_alter_table('activities') as batch:
        batch.drop_column('centre')
        batch.drop_column('product_kind')
        batch.drop_column('products')
        batch.drop_column('attendee_men')
