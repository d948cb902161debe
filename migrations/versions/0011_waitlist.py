"""Cancellation notices, waitlist offers and the waitlist.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Written by hand.

- `reminders.kind` may also be `cancellation` (the notice to a patient whose appointment was
  cancelled, with an .ics METHOD:CANCEL) and `waitlist_offer` (a freed slot offered to a
  waitlisted patient); both belong to an appointment, so the `kind_target` check names them.
  SQLite cannot alter a CHECK constraint: batch mode copies the table (its indexes, partial ones
  included, are made again).
- `reminders.moved_from`: on a confirmation of a moved appointment, the start the patient last
  heard of.
- `waitlist_entries`: who waits for which treatment, practitioner (or any) and local date range.

The downgrade refuses (as the others do) when it would delete rows: waitlist entries, or
reminders of the two new kinds, unless confirmed (`-x force=1`).
"""

import sqlalchemy as sa
from alembic import op

from migrations.guard import DataLossRefused, loss_confirmed, refuse_data_loss

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD_KINDS = "('retreatment', 'pre_visit', 'follow_up', 'confirmation')"
NEW_KINDS = "('retreatment', 'pre_visit', 'follow_up', 'confirmation', 'cancellation', 'waitlist_offer')"
OLD_TARGET = ("(kind IN ('retreatment', 'follow_up') AND session_id IS NOT NULL) OR "
              "(kind IN ('pre_visit', 'confirmation') AND appointment_id IS NOT NULL)")
NEW_TARGET = ("(kind IN ('retreatment', 'follow_up') AND session_id IS NOT NULL) OR "
              "(kind IN ('pre_visit', 'confirmation', 'cancellation', 'waitlist_offer') AND appointment_id IS NOT NULL)")


def _checks(kinds: str, target: str) -> None:
    with op.batch_alter_table('reminders', schema=None, recreate='always') as batch_op:
        batch_op.drop_constraint(op.f('ck_reminders_kind'), type_='check')
        batch_op.drop_constraint(op.f('ck_reminders_kind_target'), type_='check')
        batch_op.create_check_constraint(op.f('ck_reminders_kind'), sa.text(f"kind IN {kinds}"))
        batch_op.create_check_constraint(op.f('ck_reminders_kind_target'), sa.text(target))


def upgrade():
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('until_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('waiting', 'booked', 'removed')", name=op.f('ck_waitlist_entries_status')),
    sa.CheckConstraint('from_date <= until_date', name=op.f('ck_waitlist_entries_date_range')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_waitlist_entries_appointment_id_appointments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_waitlist_entries_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_waitlist_entries_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'], name=op.f('fk_waitlist_entries_practitioner_id_practitioners')),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_waitlist_entries_treatment_id_treatments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index('ix_waitlist_entries_patient_id', ['patient_id'], unique=False)
        batch_op.create_index('ix_waitlist_entries_treatment_status_created', ['treatment_id', 'status', 'created_at'], unique=False)

    op.add_column('reminders', sa.Column('moved_from', sa.DateTime(timezone=True), nullable=True))
    _checks(NEW_KINDS, NEW_TARGET)


def downgrade():
    refuse_data_loss('waitlist_entries')
    bind = op.get_bind()
    notices = sa.text("SELECT count(*) FROM reminders WHERE kind IN ('cancellation', 'waitlist_offer')")
    n = bind.execute(notices).scalar_one()
    if n and not loss_confirmed():
        raise DataLossRefused(
            f"this downgrade would delete reminders ({n} cancellation notices and waitlist offers), and the "
            "upgrade cannot bring them back. Nothing was changed. Back up the database first; to accept the "
            "loss run again with `flask db downgrade -x force=1 ...`."
        )
    op.execute("DELETE FROM reminders WHERE kind IN ('cancellation', 'waitlist_offer')")
    _checks(OLD_KINDS, OLD_TARGET)
    op.drop_column('reminders', 'moved_from')
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_entries_treatment_status_created')
        batch_op.drop_index('ix_waitlist_entries_patient_id')

    op.drop_table('waitlist_entries')
