"""Reminders: a partial index on appointment_id, for looking up an appointment's emails.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Written by hand. Most reminders (re-treatment, follow-up) have no appointment, so after ANALYZE
SQLite's statistics say one appointment_id value matches every such row, and the planner then
scans the whole table rather than use the unique (appointment_id, kind, seq) index: each booking
cost grew with the history. This index holds only rows that have an appointment; a lookup by
`appointment_id = ?` implies `IS NOT NULL`, so both databases can use it, with honest statistics.
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_reminders_appointment_id',
        'reminders',
        ['appointment_id'],
        unique=False,
        sqlite_where=sa.text('appointment_id IS NOT NULL'),
        postgresql_where=sa.text('appointment_id IS NOT NULL'),
    )


def downgrade():
    op.drop_index(
        'ix_reminders_appointment_id',
        table_name='reminders',
        sqlite_where=sa.text('appointment_id IS NOT NULL'),
        postgresql_where=sa.text('appointment_id IS NOT NULL'),
    )
