"""Patients' email links: a per-link request count, so the rate limit holds across web workers.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-04

Written by hand. The links themselves are stateless signed tokens; only how often one was used in
the current minute is stored (by the token's SHA-256, never the token). The rows live for minutes,
so the downgrade drops the table without the data-loss guard.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('link_uses',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash', 'window_start', name=op.f('pk_link_uses'))
    )
    with op.batch_alter_table('link_uses', schema=None) as batch_op:
        batch_op.create_index('ix_link_uses_window_start', ['window_start'], unique=False)


def downgrade():
    with op.batch_alter_table('link_uses', schema=None) as batch_op:
        batch_op.drop_index('ix_link_uses_window_start')
    op.drop_table('link_uses')
